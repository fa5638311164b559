import ArchSyntax
import ArchSemantics
import ArchIR

/// `archc ir`: the graph after any pass. The checked graph keeps symbolic sizes; the passes after
/// it need them bound, so an unbound `batch` is taken as 1 (and said so).
extension Driver {
    static let irUsage = """
    USAGE: archc ir FILE [--after check|\(Passes.names.joined(separator: "|"))] [--threads N] [--tune] [--set NAME=VALUE ...]

    Prints the network after a pass:
      check     the checked graph, with symbolic sizes
      lower     one kernel call per step, every size bound and every default resolved
      fuse      batchnorms, activations and residual adds folded into the steps before them
      schedule  each step's algorithm, threads and scratch memory, with the cost model's estimates
      prepare   the constants made from the weights: folded, packed, transformed
      plan      (the default) every value's buffer and the arena
    --threads N schedules for N threads (default: every core of this machine).
    --tune times each convolution's algorithms on this machine and keeps the fastest (cached in
    ~/.cache/archc/tuning.json, or $ARCHC_TUNING_CACHE); without it the cost model chooses.
    """

    static func ir(_ args: [String]) -> Output {
        let opts: (files: [String], flags: Set<String>, values: [String: String], bindings: [String: Int])
        do { opts = try parseOptions(args, flags: ["--tune"], valued: ["--after", "--threads"]) } catch let e as UsageError {
            return usageError(e.message, irUsage)
        } catch { return usageError("\(error)", irUsage) }
        guard opts.files.count == 1 else { return usageError("ir takes one FILE", irUsage) }
        let after = opts.values["--after"] ?? PlanBuffers.name
        guard after == "check" || Passes.names.contains(after) else {
            return usageError("--after takes check or one of the passes: \(Passes.names.joined(separator: ", "))", irUsage)
        }
        var bindings = opts.bindings
        var c = Pipeline.compile(path: opts.files[0], bindings: bindings, fromCommandLine: true)
        var out = Output(stderr: diagnosticsText(c))
        guard c.succeeded, var g = c.graph else { out.status = 1; return out }
        if after == "check" { return Output(stdout: GraphPrinter.print(g), stderr: out.stderr) }
        let unbound = Set(g.values.flatMap { $0.shape.flatMap(\.symbols) })
        if unbound.contains("batch") && bindings["batch"] == nil {
            bindings["batch"] = 1
            c = Pipeline.compile(path: opts.files[0], bindings: bindings, fromCommandLine: true)
            guard c.succeeded, let bound = c.graph else {
                return Output(stderr: diagnosticsText(c), status: 1)
            }
            g = bound
            out.stdout += "// batch = 1 (bind it with --set batch=N)\n"
        }
        do {
            let tuning = opts.flags.contains("--tune") ? Tuning() : nil
            out.stdout += ProgramPrinter.print(try Passes.run(g, threads: try threadCount(opts.values["--threads"]), through: after, tuning: tuning))
            tuning?.save()
        } catch let e as IRError {
            return Output(stderr: out.stderr + "\(e)\n", status: 1)
        } catch {
            return Output(stderr: out.stderr + "error: \(error)\n", status: 1)
        }
        return out
    }
}

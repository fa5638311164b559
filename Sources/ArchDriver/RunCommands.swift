import Foundation
import ArchSyntax
import ArchSemantics
import ArchIR
import ArchIO
import ArchRuntime
import ArchEngine
import ArchKernels

/// `archc init` and `archc run`.
extension Driver {
    static let initUsage = """
    USAGE: archc init FILE -o WEIGHTS.safetensors [--seed S] [--set NAME=VALUE ...]

    Writes random weights initialised as PyTorch initialises each layer, deterministic for a seed.
    The file is binary: -o names a file (not -, standard output).
    """

    static let runUsage = """
    USAGE: archc run FILE --weights W.safetensors --input X.npy [--input NAME=X.npy ...] [--output Y.npy] [--top K] [--repeat N] [--threads N] [--tune] [--profile] [--profile-steps K] [--dump-ir] [--set NAME=VALUE ...]

    Runs the network on real weights and inputs. Symbolic sizes are bound from the inputs' shapes.
    --weights takes a safetensors file, a sharded checkpoint's model.safetensors.index.json (its shards
    beside it) or a folder save_pretrained wrote; given several times, the files are one checkpoint's shards.
    --threads N uses N threads (default: every core of this machine).
    --tune times each convolution's algorithms on this machine and keeps the fastest (cached).
    --profile prints the time each kind of step took, and the 10 slowest steps: with --repeat N, each
    step's median over the runs (the last 255 at most; one slow run on a shared machine does not decide it);
    --profile-steps K prints the K slowest (and implies --profile).
    --dump-ir prints the program the interpreter runs (as `archc ir` does) before running it.
    --output names a file (not -: the .npy is binary, and standard output has the report).
    """

    static func initWeights(_ args: [String]) -> Output {
        let opts: (files: [String], flags: Set<String>, values: [String: String], bindings: [String: Int])
        do { opts = try parseOptions(args, flags: [], valued: ["-o", "--seed"]) } catch let e as UsageError {
            return usageError(e.message, initUsage)
        } catch { return usageError("\(error)", initUsage) }
        guard opts.files.count == 1, let outPath = opts.values["-o"] else { return usageError("init needs one FILE and -o WEIGHTS", initUsage) }
        guard let seed = UInt64(opts.values["--seed"] ?? "0") else { return usageError("--seed needs a whole number", initUsage) }
        if outPath == "-" { return binaryToStandardOutput("-o", "init writes safetensors", initUsage) }
        let c = Pipeline.compile(path: opts.files[0], bindings: opts.bindings, fromCommandLine: true)
        var out = Output(stderr: diagnosticsText(c))
        guard c.succeeded, let g = c.graph else { out.status = 1; return out }
        do {
            let floats = try MemoryBudget.parameterFloats(g)
            try MemoryBudget.check([("parameters", floats), ("the file's bytes", floats)], fix: "make the network smaller")
            let tensors = Initializer.tensors(for: g, seed: seed)
            try SafeTensors.write(tensors, to: outPath)
            out.stdout = "wrote \(tensors.count) tensors (\(Format.grouped(g.parameterCount)) parameters) to \(outPath)\n"
        } catch {
            out.stderr += "\(error)\n"
            out.status = 1
        }
        return out
    }

    static func runNetwork(_ args: [String]) -> Output {
        let inputArgs: [String], weightsPaths: [String]
        let opts: (files: [String], flags: Set<String>, values: [String: String], bindings: [String: Int])
        do {
            let split = try repeatedOption("--input", in: args)
            let weights = try repeatedOption("--weights", in: split.rest)
            (inputArgs, weightsPaths) = (split.values, weights.values)
            opts = try parseOptions(weights.rest, flags: ["--dump-ir", "--profile", "--tune"], valued: ["--output", "--top", "--repeat", "--threads", "--profile-steps"])
        } catch let e as UsageError {
            return usageError(e.message, runUsage)
        } catch { return usageError("\(error)", runUsage) }
        guard opts.files.count == 1, !weightsPaths.isEmpty, !inputArgs.isEmpty else {
            return usageError("run needs FILE, --weights and --input", runUsage)
        }
        if opts.values["--output"] == "-" { return binaryToStandardOutput("--output", "run writes the output as .npy", runUsage) }
        var out = Output()
        do {
            // The declared inputs, to bind their symbols from the files' shapes.
            let files: [String: Tensor], bindings: [String: Int]
            switch try bindInputs(spec: opts.files[0], inputArgs: inputArgs, base: opts.bindings, warnings: &out.stderr) {
            case .bound(let f, let b): (files, bindings) = (f, b)
            case .failed(let o): return o
            }
            let c = Pipeline.compile(path: opts.files[0], bindings: bindings, fromCommandLine: true)
            out.stderr += diagnosticsText(c)
            guard c.succeeded, let g = c.graph else { out.status = 1; return out }
            let tuning = opts.flags.contains("--tune") ? Tuning() : nil
            let program = try Passes.run(g, threads: try threadCount(opts.values["--threads"]), tuning: tuning)
            tuning?.save()
            let loaded = try loadWeights(weightsPaths, program: program, inputs: files)
            let bound = WeightStore.bind(g, tensors: loaded, file: Checkpoint.describe(weightsPaths))
            for w in bound.warnings { out.stderr += "warning: \(w)\n" }
            guard let store = bound.store else {
                // Every missing or mis-shaped tensor, not just the first.
                out.stderr += bound.errors.map { "\($0)\n" }.joined()
                out.status = 1
                return out
            }
            // --repeat N runs N times and reports the median: a steady-state latency for benchmarks.
            let repeats = max(1, opts.values["--repeat"].flatMap(Int.init) ?? 1)
            if opts.flags.contains("--dump-ir") { out.stdout += ProgramPrinter.print(program) }
            let interpreter = try Interpreter(program: program, weights: store)
            let profileSteps = opts.values["--profile-steps"].flatMap(Int.init)
            if opts.flags.contains("--profile") || profileSteps != nil { interpreter.profile = [] }
            var times: [Double] = [], profiles: [[Double]] = []
            var y = Tensor(shape: [], floats: [])
            for _ in 0..<repeats {
                let start = Date()
                y = try interpreter.run(files)
                times.append(Date().timeIntervalSince(start) * 1000)
                if let seconds = interpreter.profile {
                    // The last runs only: a million runs of a 100-step program would keep 800 MB.
                    if profiles.count == ProfileReport.runsKept { profiles.removeFirst() }
                    profiles.append(seconds)
                }
            }
            if let o = opts.values["--output"] { try NPY.write(y, to: o) }
            out.stdout += RunReport.render(y, milliseconds: RunReport.median(times), repeats: repeats, top: opts.values["--top"].flatMap(Int.init))
            if !profiles.isEmpty { out.stdout += ProfileReport.render(program, runs: profiles, top: profileSteps ?? 10) }
        } catch let e as RuntimeError {
            out.stderr += "\(e)\n"
            out.status = 1

        } catch {
            out.stderr += "\(error)\n"
            out.status = 1
        }
        return out
    }
}

extension Driver {
    /// `-o -` for a binary output is refused: a terminal would get raw bytes, and the command's
    /// report ("wrote ...", the top classes) shares standard output.
    static func binaryToStandardOutput(_ option: String, _ what: String, _ help: String) -> Output {
        usageError("\(what), a binary file: give \(option) a file name, not '-' (standard output)", help)
    }

    /// `--threads N`: a whole number from 1; every core of this machine when absent.
    static func threadCount(_ value: String?) throws -> Int {
        guard let value else { return Parallel.cores }
        guard let n = Int(value), n >= 1, n <= 1024 else { throw RuntimeError("--threads needs a whole number from 1 to 1024, got '\(value)'") }
        return n
    }
}

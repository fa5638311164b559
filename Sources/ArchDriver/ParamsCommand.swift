import ArchSyntax
import ArchSemantics

/// `archc params FILE [--depth N] [--json] [--names] [--train ...] [--set NAME=VALUE[,VALUE...] ...]`.
extension Driver {
    static let paramsUsage = """
    USAGE: archc params FILE [--depth N] [--json] [--names] [--set NAME=VALUE ...]
           archc params FILE --train [--optimizer adamw|sgd|sgd-momentum|none] [--dtype f32|bf16|f16] [...]
           archc params FILE --set NAME=V1,V2,... [--set NAME=...] [--train ...] [--json]

    Prints the layer tree with output shapes, parameters and multiply-accumulates, then totals.
    The batch dimension is 1 unless bound with --set batch=N.

    OPTIONS:
      --depth N                show layers nested up to N deep (default 3; --json: all)
      --json                   one JSON object: params, macs, flops, layers (with their source lines),
                               tensors, and with --train or a sweep their figures; has a schema_version
      --names                  every state_dict tensor: name and shape, in PyTorch's order (tied weights
                               once); with --json as data: names, shapes, dtypes, tied names
      --set NAME=VALUE         bind a symbolic dimension (seq, batch, ...)
      --set NAME=V1,V2,...     sweep: one row per value (params, MACs, activation memory; with --train
                               the training memory); several lists sweep every combination (at most 64 rows)
      --train                  memory to train: weights, gradients, optimizer state and the activations
                               PyTorch's autograd saves for the backward pass, per layer and in total
      --optimizer NAME         with --train: adamw (default; exp_avg and exp_avg_sq), sgd-momentum
                               (momentum_buffer), sgd or none (no state)
      --dtype NAME             with --train: what everything is stored in, as model.to(dtype):
                               f32 (default), bf16 or f16

    EXAMPLES:
      archc params specs/resnet18.arch --train --set batch=32
      archc params specs/gpt2.arch --train --dtype bf16 --set seq=128,512,1024 --set batch=8
    """

    /// A parsed `params` command line.
    struct ParamsRequest {
        var file: String
        var depth: Int
        var json = false
        var names = false
        var training: TrainingOptions?
        var bindings: [String: Int]
        var sweep: Sweep?
    }

    static func params(_ args: [String]) -> Output {
        let request: ParamsRequest
        do { request = try parseParams(args) } catch let e as UsageError {
            return usageError(e.message, paramsUsage)
        } catch { return usageError("\(error)", paramsUsage) }
        if let sweep = request.sweep { return paramsSweep(request, sweep) }
        return paramsReport(request)
    }

    static func parseParams(_ args: [String]) throws -> ParamsRequest {
        let (rest, sweep) = try extractSweep(args)
        let opts = try parseOptions(rest, flags: ["--json", "--names", "--train"], valued: ["--depth", "--optimizer", "--dtype"])
        guard opts.files.count == 1 else { throw UsageError(message: opts.files.isEmpty ? "params needs a FILE" : "params takes one FILE") }
        var r = ParamsRequest(file: opts.files[0], depth: opts.flags.contains("--json") ? Int.max : 3, bindings: opts.bindings, sweep: sweep)
        r.json = opts.flags.contains("--json")
        r.names = opts.flags.contains("--names")
        if let d = opts.values["--depth"] {
            guard let n = Int(d), n >= 0 else { throw UsageError(message: "--depth needs a whole number, got '\(d)'") }
            r.depth = n
        }
        if r.bindings["batch"] == nil && sweep?.names.contains("batch") != true { r.bindings["batch"] = 1 }
        for name in sweep?.names ?? [] where opts.bindings[name] != nil {
            throw UsageError(message: "--set \(name) is given as a list and as one value; give one")
        }
        r.training = try trainingOptions(opts.flags, opts.values)
        if r.names && r.training != nil { throw UsageError(message: "--names lists the state_dict; --train reports memory: give one (--json has the tensors too)") }
        if sweep != nil && r.names { throw UsageError(message: "--names does not depend on the sizes; give it without a list in --set") }
        if sweep != nil && opts.values["--depth"] != nil { throw UsageError(message: "--depth applies to the layer table; a sweep prints one row per value") }
        return r
    }

    /// `--train` with its `--optimizer` and `--dtype` (which mean nothing without it).
    static func trainingOptions(_ flags: Set<String>, _ values: [String: String]) throws -> TrainingOptions? {
        guard flags.contains("--train") else {
            if let option = ["--optimizer", "--dtype"].first(where: { values[$0] != nil }) {
                throw UsageError(message: "\(option) applies to the training figures; add --train")
            }
            return nil
        }
        var t = TrainingOptions()
        if let o = values["--optimizer"] {
            let names = TrainingOptions.Optimizer.allCases.map(\.rawValue)
            guard let v = TrainingOptions.Optimizer(rawValue: o.lowercased()) else {
                throw UsageError(message: "unknown optimizer '\(o)'\(Suggest.didYouMean(o.lowercased(), in: names)) (choose one of \(names.joined(separator: ", ")))")
            }
            t.optimizer = v
        }
        if let d = values["--dtype"] {
            let names = TrainingOptions.DType.allCases.map(\.rawValue)
            let aliases = ["fp32": "f32", "float32": "f32", "float": "f32", "bfloat16": "bf16", "fp16": "f16", "float16": "f16", "half": "f16"]
            guard let v = TrainingOptions.DType(rawValue: aliases[d.lowercased()] ?? d.lowercased()) else {
                let near = Suggest.nearest(d.lowercased(), in: names + aliases.keys.sorted()).map { aliases[$0] ?? $0 }
                throw UsageError(message: "unknown dtype '\(d)'\(near.map { "; did you mean '\($0)'?" } ?? "") (choose one of \(names.joined(separator: ", ")))")
            }
            t.dtype = v
        }
        return t
    }

    /// One report: the layer table (with the training columns), the names, or JSON.
    static func paramsReport(_ r: ParamsRequest) -> Output {
        let c = Pipeline.compile(path: r.file, bindings: r.bindings, fromCommandLine: true)
        var out = Output(stderr: diagnosticsText(c))
        guard c.succeeded, let g = c.graph else {
            out.status = 1
            return out
        }
        if r.names {
            out.stdout = r.json ? ParamsReport.namesJSON(g) : ParamsReport.names(g)
            return out
        }
        do {
            let s = try Summary(g)
            let training = try r.training.map { try TrainingMemory(g, options: $0) }
            if r.json {
                out.stdout = ParamsReport.json(s, depth: r.depth, graph: g, training: training, bindings: r.bindings)
            } else if let training {
                out.stdout = try ParamsReport.trainingTable(s, training, depth: r.depth, bindings: r.bindings)
            } else {
                out.stdout = ParamsReport.table(s, depth: r.depth)
            }
        } catch {
            out.stderr += "\(r.file): error: \(paramsErrorMessage(error))\n" + errorsGenerated(1)
            out.status = 1
        }
        return out
    }

    /// The words for a figure that cannot be given: an unbound size (with the `--set` to pass) or an overflow.
    static func paramsErrorMessage(_ error: Error) -> String {
        switch error {
        case TrainingMemoryError.unbound(let names):
            let sets = names.map { "--set \($0)=N" }.joined(separator: " ")
            let list = names.map { "--set \($0)=128,512,2048" }.first ?? ""
            return "the activations saved for training depend on \(names.joined(separator: ", ")), which \(names.count == 1 ? "is" : "are") not bound; " +
                "pass \(sets) (or a list to sweep, such as \(list))"
        case let e as ArithmeticOverflow:
            return "the \(e.what) overflows a 64-bit integer"
        default:
            return "\(error)"
        }
    }
}

import Foundation
import ArchSyntax
import ArchSemantics
import ArchIO
import ArchRuntime
import ArchEngine
import ArchExport

/// `archc export onnx FILE -o M.onnx [--weights W] [--set ...] [--dynamic NAME ...]`.
extension Driver {
    static let exportUsage = """
    USAGE: archc export onnx FILE -o MODEL.onnx [--weights W.safetensors] [--seed S] [--set NAME=VALUE ...] [--dynamic NAME ...]

    Writes the network as an ONNX model (opset 18) for ONNX Runtime, TensorRT, Netron...: each layer as
    standard ONNX ops whose output carries the layer's name, the weights as initializers named as in the
    weights file. --weights binds them as archc run does; without it, archc init's weights (--seed S).
    The batch is 1 unless --set batch=N or --dynamic batch. Every other size the inputs declare needs
    --set NAME=N (fixed in the model) or --dynamic NAME (symbolic in the model, which runs at any size).
    The file is binary: -o names a file (not -).
    """

    static func exportModel(_ args: [String]) -> Output {
        guard args.first == "onnx" else {
            return usageError(args.first.map { "unknown export format '\($0)'; 'onnx' is the one there is" } ?? "export needs a format: onnx",
                              exportUsage)
        }
        let dynamic: [String]
        let opts: (files: [String], flags: Set<String>, values: [String: String], bindings: [String: Int])
        do {
            let split = try repeatedOption("--dynamic", in: Array(args.dropFirst()))
            dynamic = split.values
            opts = try parseOptions(split.rest, flags: [], valued: ["-o", "--weights", "--seed"])
        } catch let e as UsageError {
            return usageError(e.message, exportUsage)
        } catch { return usageError("\(error)", exportUsage) }
        guard opts.files.count == 1, let path = opts.values["-o"] else { return usageError("export onnx needs one FILE and -o MODEL.onnx", exportUsage) }
        guard let seed = UInt64(opts.values["--seed"] ?? "0") else { return usageError("--seed needs a whole number", exportUsage) }
        if path == "-" { return binaryToStandardOutput("-o", "export writes an ONNX model", exportUsage) }
        if let both = dynamic.first(where: { opts.bindings[$0] != nil }) {
            return usageError("--dynamic \(both) and --set \(both)=\(opts.bindings[both]!) contradict each other; give one", exportUsage)
        }
        let bindings: [String: Int]
        switch exportBindings(spec: opts.files[0], base: opts.bindings, dynamic: dynamic) {
        case .bound(_, let b): bindings = b
        case .failed(let o): return o
        }
        let c = Pipeline.compile(path: opts.files[0], bindings: bindings, fromCommandLine: true)
        var out = Output(stderr: diagnosticsText(c))
        guard c.succeeded, let g = c.graph else { out.status = 1; return out }
        do {
            guard let weights = try exportWeights(g, path: opts.values["--weights"], seed: seed, out: &out) else { return out }
            let source = opts.files[0] + (opts.values["--weights"].map { " with weights \($0)" } ?? " with archc init's weights (seed \(seed))")
            let model = try ONNXExport.model(of: g, weights: weights,
                                             options: .init(producerVersion: String(version.split(separator: " ").last ?? ""), source: source))
            var bytes = try ONNXExport.serialize(model)
            // The bytes go to the file as they are (a model may be hundreds of megabytes: no second copy).
            try bytes.withUnsafeMutableBytes { raw in
                try AtomicFile.write(Data(bytesNoCopy: raw.baseAddress!, count: raw.count, deallocator: .none), to: path)
            }
            out.stdout = exportSummary(model, path: path, bytes: bytes.count, parameters: g.parameterCount)
        } catch {
            out.stderr += "\(error)\n"
            out.status = 1
        }
        return out
    }

    /// The sizes to bind: the user's, batch 1 unless set or dynamic; a size the inputs declare that is
    /// neither set nor dynamic is an error, as is --dynamic of a size they do not declare.
    static func exportBindings(spec: String, base: [String: Int], dynamic: [String]) -> BoundInputs {
        let declared = Pipeline.compile(path: spec, bindings: base, fromCommandLine: true)
        guard let g0 = declared.graph, declared.file != nil else { return .failed(Output(stderr: diagnosticsText(declared), status: 1)) }
        // The sizes the inputs declare: those left symbolic, and those --set bound.
        var declaredSizes = Set(base.keys)
        for (_, v) in g0.inputs { for d in g0.values[v].shape { declaredSizes.formUnion(d.symbols) } }
        let sizes = ["batch"] + declaredSizes.subtracting(["batch"]).sorted()
        var errors: [String] = []
        for name in dynamic where !sizes.contains(name) && base[name] == nil {
            let fix = sizes.isEmpty ? "note: the spec's inputs have no symbolic sizes" : "note: its sizes: " + sizes.joined(separator: ", ")
            errors.append("error: --dynamic \(name): the spec has no size named '\(name)'\(Suggest.didYouMean(name, in: sizes))\n\(fix)\n")
        }
        var bindings = base
        if bindings["batch"] == nil && !dynamic.contains("batch") { bindings["batch"] = 1 }
        for name in sizes where bindings[name] == nil && !dynamic.contains(name) {
            errors.append("error: the size '\(name)' is not bound\nnote: give --set \(name)=N to fix it in the model, or --dynamic \(name) to keep it symbolic\n")
        }
        guard errors.isEmpty else {
            return .failed(Output(stderr: diagnosticsText(declared.diagnostics) + errors.joined() + errorsGenerated(errors.count), status: 1))
        }
        return .bound(files: [:], bindings: bindings)
    }

    /// Per graph parameter its floats: the weights file bound as `archc run` binds it (every missing or
    /// mis-shaped tensor reported), or `archc init`'s. Nil when the binding failed (reported in `out`).
    static func exportWeights(_ g: Graph, path: String?, seed: UInt64, out: inout Output) throws -> [[Float]?]? {
        let floats = try MemoryBudget.parameterFloats(g)
        guard floats <= ONNXExport.maxModelBytes / 4 else {
            throw RuntimeError("the network has \(Format.grouped(floats)) parameters; an ONNX file holds at most 2 GB (about 536 million float parameters)",
                               notes: ["ONNX's external data files are not written by archc"])
        }
        try MemoryBudget.check([("parameters", floats), ("the model's bytes", floats)], fix: "make the network smaller")
        let file = path ?? "archc init's weights"
        let tensors = try path.map { try SafeTensors.read(path: $0) } ?? Initializer.tensors(for: g, seed: seed)
        let bound = WeightStore.bind(g, tensors: tensors, file: file)
        for w in bound.warnings { out.stderr += "warning: \(w)\n" }
        guard let store = bound.store else {
            out.stderr += bound.errors.map { "\($0)\n" }.joined()
            out.status = 1
            return nil
        }
        return store.values
    }

    /// `wrote m.onnx: ONNX opset 18, 52 nodes, 62 initializers (11,689,512 parameters), 46.8 MB`, then the inputs and the output.
    static func exportSummary(_ model: ModelProto, path: String, bytes: Int, parameters: Int) -> String {
        func describe(_ v: ValueInfoProto) -> String {
            let dims = v.type.shape.dims.map { d -> String in
                switch d {
                case .value(let n): return String(n)
                case .param(let p): return p
                }
            }
            return "\(v.name) [\(dims.joined(separator: ", "))]\(v.type.elementType == .int64 ? " int64" : "")"
        }
        let g = model.graph
        return "wrote \(path): ONNX opset \(ONNXExport.opset), \(g.nodes.count) nodes, \(g.initializers.count) initializers "
            + "(\(Format.grouped(parameters)) parameters), \(Format.bytes(bytes))\n"
            + "  inputs: " + g.inputs.map(describe).joined(separator: ", ") + "\n"
            + "  output: " + g.outputs.map(describe).joined(separator: ", ") + "\n"
    }
}

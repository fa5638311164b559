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
    USAGE: archc export onnx FILE -o MODEL.onnx [--weights W.safetensors] [--seed S] [--set NAME=VALUE ...] [--dynamic NAME ...] [--external-data]

    Writes the network as an ONNX model (opset 18) for ONNX Runtime, TensorRT, Netron...: each layer as
    standard ONNX ops whose output carries the layer's name, the weights as initializers named as in the
    weights file. --weights binds them as archc run does; without it, archc init's weights (--seed S).
    The batch is 1 unless --set batch=N or --dynamic batch. Every other size the inputs declare needs
    --set NAME=N (fixed in the model) or --dynamic NAME (symbolic in the model, which runs at any size).
    A model over 2 GB (Protocol Buffers' limit) keeps its weights in MODEL.onnx.data beside it (ONNX's
    external data); --external-data does so for any model. The files are binary: -o names a file (not -).
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
            opts = try parseOptions(split.rest, flags: ["--external-data"], valued: ["-o", "--weights", "--seed"])
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
            let floats = try MemoryBudget.parameterFloats(g)
            var external = opts.flags.contains("--external-data") || floats > (ONNXExport.maxModelBytes - (64 << 20)) / 4
            guard let weights = try exportWeights(g, path: opts.values["--weights"], seed: seed, inMemory: !external, out: &out) else { return out }
            let source = opts.files[0] + (opts.values["--weights"].map { " with weights \($0)" } ?? " with archc init's weights (seed \(seed))")
            var model = try ONNXExport.model(of: g, weights: weights,
                                             options: .init(producerVersion: String(version.split(separator: " ").last ?? ""), source: source))
            external = external || ONNXExport.needsExternalData(model)
            var data: (path: String, bytes: Int)?
            if external {
                let (folder, file) = split(path)
                let moved = ONNXExport.externalize(&model, location: file + ".data")
                data = (folder + file + ".data", try writeExternalData(moved, to: folder + file + ".data"))
            }
            var bytes = try ONNXExport.serialize(model)
            // The bytes go to the file as they are (a model may be hundreds of megabytes: no second copy).
            try bytes.withUnsafeMutableBytes { raw in
                try AtomicFile.write(Data(bytesNoCopy: raw.baseAddress!, count: raw.count, deallocator: .none), to: path)
            }
            out.stdout = exportSummary(model, path: path, bytes: bytes.count, parameters: g.parameterCount, data: data)
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
    static func exportWeights(_ g: Graph, path: String?, seed: UInt64, inMemory: Bool, out: inout Output) throws -> [[Float]?]? {
        let floats = try MemoryBudget.parameterFloats(g)
        // The model's bytes are made in memory unless the weights go to a file beside it (written from the floats).
        try MemoryBudget.check([("parameters", floats), ("the model's bytes", inMemory ? floats : 0)], fix: "make the network smaller")
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

    /// The initializers' bytes one after the other at their offsets, in a new file (no partial file
    /// left on an error). Returns its size.
    static func writeExternalData(_ tensors: [TensorProto], to path: String) throws -> Int {
        var size = 0
        try AtomicFile.produce(at: path) { temporary in
            guard FileManager.default.createFile(atPath: temporary, contents: nil), let file = FileHandle(forWritingAtPath: temporary) else {
                throw IOError(path, "cannot create the file")
            }
            defer { try? file.close() }
            for t in tensors {
                guard let at = t.external?.offset else { continue }
                if at > size { try file.write(contentsOf: Data(count: at - size)) }
                try t.withBytes { raw in try file.write(contentsOf: Data(bytesNoCopy: UnsafeMutableRawPointer(mutating: raw.baseAddress!), count: raw.count, deallocator: .none)) }
                size = at + t.byteCount
            }
        }
        return size
    }

    /// `a/b/m.onnx` -> (`a/b/`, `m.onnx`).
    static func split(_ path: String) -> (folder: String, file: String) {
        guard let slash = path.lastIndex(of: "/") else { return ("", path) }
        return (String(path[...slash]), String(path[path.index(after: slash)...]))
    }

    /// `wrote m.onnx: ONNX opset 18, 52 nodes, 62 initializers (11,689,512 parameters), 46.8 MB`, then the inputs and the output.
    static func exportSummary(_ model: ModelProto, path: String, bytes: Int, parameters: Int, data: (path: String, bytes: Int)? = nil) -> String {
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
            + "(\(Format.grouped(parameters)) parameters), \(Format.bytes(bytes))"
            + (data.map { "; weights in \($0.path) (\(Format.bytes($0.bytes)))" } ?? "") + "\n"
            + "  inputs: " + g.inputs.map(describe).joined(separator: ", ") + "\n"
            + "  output: " + g.outputs.map(describe).joined(separator: ", ") + "\n"
    }
}

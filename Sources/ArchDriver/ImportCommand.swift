import Foundation
import ArchSyntax
import ArchSemantics
import ArchIO
import ArchRuntime
import ArchExport

/// `archc import onnx M.onnx -o FILE.arch [--weights-out W.safetensors]`.
extension Driver {
    static let importUsage = """
    USAGE: archc import onnx MODEL.onnx -o FILE.arch [--weights-out W.safetensors]

    Writes a spec for an ONNX graph of ops archc has (convolutions, pools, norms, activations, linear
    layers, residual blocks and skips), its layers labelled by their weights' names, and with
    --weights-out the weights under the spec's names (safetensors). An op archc has no counterpart
    for is an error naming each node that uses one. -o - writes the spec to standard output.
    """

    static func importModel(_ args: [String]) -> Output {
        guard args.first == "onnx" else {
            return usageError(args.first.map { "unknown import format '\($0)'; 'onnx' is the one there is" } ?? "import needs a format: onnx", importUsage)
        }
        let opts: (files: [String], flags: Set<String>, values: [String: String], bindings: [String: Int])
        do { opts = try parseOptions(Array(args.dropFirst()), flags: [], valued: ["-o", "--weights-out"]) } catch let e as UsageError {
            return usageError(e.message, importUsage)
        } catch { return usageError("\(error)", importUsage) }
        guard opts.files.count == 1, let specPath = opts.values["-o"], opts.bindings.isEmpty else {
            return usageError(opts.bindings.isEmpty ? "import onnx needs one MODEL.onnx and -o FILE.arch" : "import takes no --set", importUsage)
        }
        let path = opts.files[0], weightsPath = opts.values["--weights-out"]
        if weightsPath == "-" { return binaryToStandardOutput("--weights-out", "import writes the weights as safetensors", importUsage) }
        var out = Output()
        do {
            guard let data = FileManager.default.contents(atPath: path) else { throw IOError(path, "cannot read the file") }
            let model: DecodedModel
            do { model = try ONNXDecode.model([UInt8](data)) } catch let e as ProtoError { throw IOError(path, e.description) }
            let stem = String((path.split(separator: "/").last ?? "model").split(separator: ".").first ?? "model")
            let imported = try ONNXImport.spec(from: model, modelName: stem, source: path)
            let tensors = imported.tensors.map { (name: $0.name, tensor: Tensor(shape: $0.shape, floats: $0.values)) }
            try checkImported(imported.spec, tensors: tensors, shownAs: specPath == "-" ? "the spec" : specPath)
            if let weightsPath { try SafeTensors.write(tensors, to: weightsPath) }
            if specPath == "-" {
                out.stdout = imported.spec
            } else {
                try AtomicFile.write(Data(imported.spec.utf8), to: specPath)
                out.stdout = "wrote \(specPath): \(imported.spec.split(separator: "\n").count) lines"
                    + (weightsPath.map { "; \($0): \(tensors.count) tensors" } ?? " (give --weights-out W.safetensors for the weights)") + "\n"
            }
        } catch {
            out.stderr += "\(error)\n"
            out.status = 1
        }
        return out
    }

    /// The spec written must check and take the weights: anything else is archc's bug.
    static func checkImported(_ spec: String, tensors: [(name: String, tensor: Tensor)], shownAs name: String) throws {
        let c = Pipeline.compile(SourceFile(path: name, text: spec), bindings: [:])
        guard c.succeeded, let g = c.graph else {
            throw RuntimeError("internal error: the imported spec does not check:\n" + DiagnosticRenderer.render(c.diagnostics.diagnostics) + spec,
                               notes: ["this is a bug in archc; please report it with the model"])
        }
        let bound = WeightStore.bind(g, tensors: tensors, file: "the imported weights")
        guard bound.errors.isEmpty, bound.warnings.isEmpty else {
            throw RuntimeError("internal error: the imported weights do not fit the spec: " + (bound.errors.map(\.description) + bound.warnings).joined(separator: "; "),
                               notes: ["this is a bug in archc; please report it with the model"])
        }
    }
}

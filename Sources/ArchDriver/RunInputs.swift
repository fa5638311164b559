import ArchSyntax
import ArchSemantics
import ArchIO
import ArchRuntime

/// `archc run`'s inputs: the `--input` files matched to the inputs the spec declares, their element
/// kinds checked against the declarations, and the spec's symbolic sizes bound from their shapes.
extension Driver {
    /// What binding the inputs came to: the files by input name and the sizes they bind, or the
    /// diagnostics that stop the run.
    enum BoundInputs {
        case bound(files: [String: Tensor], bindings: [String: Int])
        case failed(Output)
    }

    /// Compiles the spec for its declared inputs, reads the files, and binds sizes from their
    /// shapes. A first compilation that fails for want of those sizes (`pos learned` on a symbolic
    /// `seq`) is not the last word: the spec is compiled again with them, and that one is reported.
    static func bindInputs(spec: String, inputArgs: [String], base: [String: Int], warnings: inout String) throws -> BoundInputs {
        let declared = Pipeline.compile(path: spec, bindings: base, fromCommandLine: true)
        let diagnostics = diagnosticsText(declared)
        guard let g0 = declared.graph, declared.file != nil, !g0.inputs.isEmpty else { return .failed(Output(stderr: diagnostics, status: 1)) }
        do {
            var said = ""
            let files = try readInputs(inputArgs, for: g0, warnings: &said)
            let bindings = try InputBinding.bindings(for: g0, inputs: files, base: base)
            warnings += said
            return .bound(files: files, bindings: bindings)
        } catch where !declared.succeeded {
            // Both may be wrong: the spec's errors first, then the inputs'.
            return .failed(Output(stderr: diagnostics + "\(error)\n", status: 1))
        }
    }

    /// The `--input` files by input name: `NAME=FILE` names its input; plain files go to the inputs
    /// not named, in declaration order. Integer data for an input declared floating point is refused
    /// (as PyTorch refuses a Long tensor into a convolution); whole-number floats as token ids are
    /// read as such with a warning.
    static func readInputs(_ specs: [String], for graph: Graph, warnings: inout String) throws -> [String: Tensor] {
        let declared = graph.inputs.map(\.name)
        var paths: [String: String] = [:], plain: [String] = []
        for spec in specs {
            let parts = spec.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else { plain.append(spec); continue }
            guard declared.contains(parts[0]) else {
                throw RuntimeError("the network has no input named '\(parts[0])'", notes: ["its inputs: " + declared.joined(separator: ", ")])
            }
            guard paths[parts[0]] == nil else { throw RuntimeError("input '\(parts[0])' is given twice") }
            paths[parts[0]] = parts[1]
        }
        let unnamed = declared.filter { paths[$0] == nil }
        guard plain.count <= unnamed.count else {
            let count = declared.count == 1 ? "one input ('\(declared[0])')" : "\(declared.count) inputs (\(declared.joined(separator: ", ")))"
            throw RuntimeError("the network has \(count), but \(specs.count) --input files were given",
                               notes: paths.isEmpty ? [] : ["\(paths.count) of them named: " + paths.keys.sorted().joined(separator: ", ")])
        }
        for (name, path) in zip(unnamed, plain) { paths[name] = path }
        var files: [String: Tensor] = [:]
        for (name, v) in graph.inputs {
            guard let path = paths[name] else { continue }
            let t = try NPY.read(path: path)
            try checkKind(t, of: name, tokens: graph.values[v].kind == .int, path: path, warnings: &warnings)
            files[name] = t
        }
        return files
    }

    /// Token ids are integers, everything else floating point; NaN and infinities get a warning.
    static func checkKind(_ t: Tensor, of name: String, tokens: Bool, path: String, warnings: inout String) throws {
        switch (t.storage, tokens) {
        case (.int, false):
            throw RuntimeError("\(path): input '\(name)' holds integers, but the network takes floating-point values there",
                               notes: ["convert the array to float32 (x.astype(numpy.float32)), or declare the input with 'tokens' if it holds token ids"])
        case (.float(let f), true):
            if let bad = f.first(where: { $0 != $0.rounded() }) {
                throw RuntimeError("\(path): input '\(name)' holds token ids, but \(bad) is not a whole number", notes: ["save the ids as int64"])
            }
            warnings += "\(path): warning: input '\(name)' holds floating-point values; they are read as token ids (save them as int64)\n"
        case (.float(let f), false):
            if f.contains(where: { !$0.isFinite }) { warnings += "\(path): warning: the input holds NaN or infinite values\n" }
        case (.int, true):
            break
        }
    }
}

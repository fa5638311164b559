import Foundation
import ArchSyntax
import ArchSemantics
import ArchIO
import ArchCodegen

/// `archc emit torch FILE -o model.py`.
extension Driver {
    static let emitUsage = """
    USAGE: archc emit torch FILE -o model.py [--set NAME=VALUE ...]

    Writes a self-contained PyTorch module (class Model) with the spec's parameter names and shapes,
    so weights move between archc (safetensors) and PyTorch unchanged. -o - writes it to standard output.
    """

    static func emit(_ args: [String]) -> Output {
        guard args.first == "torch" else {
            return usageError(args.first.map { "unknown emit target '\($0)'; 'torch' is the one there is" } ?? "emit needs a target", emitUsage)
        }
        let opts: (files: [String], flags: Set<String>, values: [String: String], bindings: [String: Int])
        do { opts = try parseOptions(Array(args.dropFirst()), flags: [], valued: ["-o"]) } catch let e as UsageError {
            return usageError(e.message, emitUsage)
        } catch { return usageError("\(error)", emitUsage) }
        guard opts.files.count == 1, let path = opts.values["-o"] else { return usageError("emit torch needs one FILE and -o OUT.py", emitUsage) }
        let c = Pipeline.compile(path: opts.files[0], bindings: opts.bindings, fromCommandLine: true)
        var out = Output(stderr: diagnosticsText(c))
        guard c.succeeded, let g = c.graph else { out.status = 1; return out }
        do {
            if path == "-" {
                out.stdout = try TorchEmitter.emit(g)
                return out
            }
            try AtomicFile.write(Data(try TorchEmitter.emit(g).utf8), to: path)
            out.stdout = "wrote \(path): class Model with \(g.params.count) tensors\n"
        } catch let e as IOError {
            out.stderr += "\(e)\n"  // names the output file
            out.status = 1
        } catch {
            out.stderr += "\(opts.files[0]): error: \(error)\n"
            out.status = 1
        }
        return out
    }
}

import Foundation
import ArchSyntax
import ArchSemantics

/// The one pipeline every command shares: read, parse, elaborate and verify.
public struct Compilation {
    public let file: SourceFile?
    public let graph: Graph?
    public let diagnostics: DiagnosticEngine
    public var succeeded: Bool { graph != nil && !diagnostics.hasErrors }
}

public enum Pipeline {
    /// Files larger than this are refused before they are read into memory.
    public static let maxFileSize = 64 << 20

    /// Reads and compiles a spec. `fromCommandLine`: the bindings are the user's `--set`, so one the
    /// spec does not declare is an error (`--set sq=128` naming the spec's sizes).
    public static func compile(path: String, bindings: [String: Int], fromCommandLine: Bool = false) -> Compilation {
        let diags = DiagnosticEngine()
        guard let attrs = try? FileManager.default.attributesOfItem(atPath: path) else {
            diags.error("\(path): no such file", at: nil)
            return Compilation(file: nil, graph: nil, diagnostics: diags)
        }
        if (attrs[.type] as? FileAttributeType) == .typeDirectory {
            diags.error("\(path) is a directory, not a spec file", at: nil)
            return Compilation(file: nil, graph: nil, diagnostics: diags)
        }
        if let size = attrs[.size] as? Int, size > maxFileSize {
            diags.error("\(path) is \(size) bytes; specs are limited to \(maxFileSize) bytes", at: nil)
            return Compilation(file: nil, graph: nil, diagnostics: diags)
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            diags.error("\(path): cannot read the file", at: nil)
            return Compilation(file: nil, graph: nil, diagnostics: diags)
        }
        return compile(SourceFile(path: path, bytes: [UInt8](data)), bindings: bindings, diags: diags, fromCommandLine: fromCommandLine)
    }

    public static func compile(_ file: SourceFile, bindings: [String: Int], diags: DiagnosticEngine = DiagnosticEngine(),
                               limits: Limits = .standard, fromCommandLine: Bool = false) -> Compilation {
        checkEncoding(file, diags)
        let unit = Parser.parse(file, diags: diags)
        let graph = Elaborator(diags: diags, bindings: bindings, limits: limits, bindingsMustBeDeclared: fromCommandLine).elaborate(unit)
        // A graph built without errors must be well-formed; with errors it may be partial.
        if !diags.hasErrors {
            for problem in GraphVerifier.verify(graph) {
                diags.error("internal error: \(problem)", at: nil, notes: [.init("this is a bug in archc; please report it with the spec")])
            }
        }
        diags.sortBySourceOrder()
        return Compilation(file: file, graph: graph, diagnostics: diags)
    }

    /// Non-UTF-8 bytes: one error at the first bad byte (the lexer then reports unexpected characters only outside comments).
    static func checkEncoding(_ file: SourceFile, _ diags: DiagnosticEngine) {
        var it = file.bytes.makeIterator()
        var decoder = UTF8()
        var offset = 0
        loop: while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s): offset += String(s).utf8.count
            case .emptyInput: break loop
            case .error:
                diags.error("the file is not valid UTF-8", at: SourceLoc(file, offset..<min(offset + 1, file.bytes.count)),
                            notes: [.init("save the spec as UTF-8 text")])
                return
            }
        }
    }
}

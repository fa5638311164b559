import Foundation
import XCTest
@testable import ArchSyntax
@testable import ArchSemantics
@testable import ArchDriver
@testable import ArchIO

/// Shared helpers for the test suite.
enum Support {
    /// The repository root (found from this file's path, so tests run from any directory).
    static let root: URL = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let specs = root.appendingPathComponent("specs")
    static let fixtures = root.appendingPathComponent("Tests/ArchTests/Fixtures")

    /// Compiles source text as if it were a file at `path`.
    static func compile(_ text: String, path: String = "test.arch", bindings: [String: Int] = [:]) -> Compilation {
        Pipeline.compile(SourceFile(path: path, text: text), bindings: bindings)
    }

    /// Compiles a spec from specs/ with batch bound to 1 (as `archc params` does).
    static func compileSpec(_ name: String, bindings: [String: Int] = [:]) -> Compilation {
        var b = bindings
        if b["batch"] == nil { b["batch"] = 1 }
        return Pipeline.compile(path: specs.appendingPathComponent(name).path, bindings: b)
    }

    /// Rendered diagnostics, for assertion messages.
    static func rendered(_ c: Compilation) -> String { DiagnosticRenderer.render(c.diagnostics.diagnostics) }

    /// Runs the command-line driver in-process.
    static func run(_ args: String...) -> Driver.Output { Driver.run(args) }
}

import Foundation
import XCTest
@testable import ArchSyntax
@testable import ArchDriver

/// Diagnostics in colour on a terminal, as swiftc shows them; plain everywhere else (the tests run
/// without a terminal, so every other test sees plain text).
final class ColourTests: XCTestCase {
    let file = SourceFile(path: "net.arch", text: "input x 8\nlinaer 4\n")

    func testRendererColoursSeverityLocationAndCaret() {
        let d = Diagnostic.error("unknown op 'linaer'; did you mean 'linear'?", at: SourceLoc(file, 10..<16),
                                 notes: [.init("see 'archc ops'")])
        let w = Diagnostic.warning("block 'b' is never used", at: nil)
        let (esc, reset) = ("\u{1B}[", "\u{1B}[0m")
        XCTAssertEqual(DiagnosticRenderer.render([d, w], colour: true),
                       "\(esc)1mnet.arch:2:1: \(esc)1;31merror:\(reset)\(esc)1m unknown op 'linaer'; did you mean 'linear'?\(reset)\n"
                       + "    linaer 4\n"
                       + "    \(esc)1;32m^~~~~~\(reset)\n"
                       + "\(esc)1mnote:\(reset) see 'archc ops'\(reset)\n"
                       + "\(esc)1;35mwarning:\(reset)\(esc)1m block 'b' is never used\(reset)\n")
        XCTAssertEqual(DiagnosticRenderer.render([d, w], colour: false), DiagnosticRenderer.render([d, w]))
    }

    /// Colour only adds escape sequences: with them taken out, the text is the plain text, and a
    /// control character from the spec stays escaped (it cannot colour anything itself).
    func testColourOnlyAddsStyles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("archc-colour-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = dir.appendingPathComponent("bad.arch").path
        try "input x 8\nlinear 0 # \u{1B}[31m\nresidual {\n  linear 4\n}\nfrobnicate\n".write(toFile: spec, atomically: true, encoding: .utf8)
        let plain = Driver.run(["check", spec]), coloured = Driver.run(["check", spec], colour: true)
        XCTAssertFalse(plain.stderr.contains("\u{1B}"))
        XCTAssertTrue(coloured.stderr.contains("\u{1B}[1;31merror:"))
        let stripped = coloured.stderr.replacingOccurrences(of: "\u{1B}\\[[0-9;]*m", with: "", options: .regularExpression)
        XCTAssertEqual(stripped, plain.stderr)
        XCTAssertTrue(plain.stderr.contains("\\u{1B}[31m"), plain.stderr)
        XCTAssertEqual(coloured.stdout, plain.stdout)
    }

    func testColourOnlyOnATerminalAndWithoutNoColor() {
        XCTAssertTrue(Driver.wantsColour(stderrIsTerminal: true, environment: ["TERM": "xterm-256color"]))
        XCTAssertFalse(Driver.wantsColour(stderrIsTerminal: false, environment: [:]))
        XCTAssertFalse(Driver.wantsColour(stderrIsTerminal: true, environment: ["NO_COLOR": "1"]))
        XCTAssertTrue(Driver.wantsColour(stderrIsTerminal: true, environment: ["NO_COLOR": ""]), "an empty NO_COLOR is unset (no-color.org)")
        XCTAssertFalse(Driver.wantsColour(stderrIsTerminal: true, environment: ["TERM": "dumb"]))
    }
}

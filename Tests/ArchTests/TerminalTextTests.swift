import Foundation
import XCTest
@testable import ArchSyntax
@testable import ArchDriver
@testable import ArchIO

/// Nothing from a spec or a tensor file reaches the terminal raw: control characters are escaped as
/// swiftc escapes them, carets stay under what they mark, and a byte-order mark starts a spec cleanly.
final class TerminalTextTests: XCTestCase {
    func testEscapes() {
        XCTAssertEqual(TerminalText.escaped("a\u{1B}[31mb\u{07}\u{0}\tc\nd\u{7F}\u{9B}\u{202E}é"), "a\\u{1B}[31mb\\u{7}\\u{0}\tc\nd\\u{7F}\\u{9B}\\u{202E}é")
        XCTAssertEqual(TerminalText.escaped("plain"), "plain")
    }

    /// The caret sits under the character it marks after escapes and multi-byte characters.
    func testCaretsAfterEscapesAndWideCharacters() {
        let text = Support.rendered(Support.compile("input x 8\nrelu \u{1B}\u{1B} # é\nlinear 4 # \u{7}\n"))
        XCTAssertTrue(text.contains("    relu \\u{1B}\\u{1B} # é\n         ^~~~~~\n"), text)
        XCTAssertTrue(text.contains("    relu \\u{1B}\\u{1B} # é\n               ^~~~~~\n"), text)
        XCTAssertFalse(text.contains("\u{1B}") || text.contains("\u{7}"), "no raw control byte")
        let wide = Support.rendered(Support.compile("input x 8\n# été\nlinear 4 strde 2 # ü\n"))
        XCTAssertTrue(wide.contains("    linear 4 strde 2 # ü\n             ^~~~~\n"), wide)
        let accented = Support.rendered(Support.compile("input x 8\nlinear 4 # é\u{7} $\n"))
        XCTAssertEqual(accented, "", "inside a comment nothing is reported")
        let before = Support.rendered(Support.compile("input x 8\nrelu é $\n"))
        XCTAssertTrue(before.contains("    relu é $\n           ^\n"), before)
    }

    /// Tensor names and paths in runtime messages are escaped too (at the driver's output).
    func testTensorNamesAreEscaped() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("archc-tty-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let spec = dir.appendingPathComponent("n.arch").path, weights = dir.appendingPathComponent("w.safetensors").path
        try "input x 4\nfc: linear 3\n".write(toFile: spec, atomically: true, encoding: .utf8)
        try SafeTensors.write([("\u{1B}]0;owned\u{7}", Tensor(shape: [1], floats: [0]))], to: weights)
        let x = dir.appendingPathComponent("x.npy").path
        try NPY.write(Tensor(shape: [1, 4], floats: [0, 0, 0, 0]), to: x)
        let r = Driver.run(["run", spec, "--weights", weights, "--input", x])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("the file's unused tensors: '\\u{1B}]0;owned\\u{7}' [1]"), r.stderr)
        XCTAssertFalse(r.stderr.unicodeScalars.contains { $0.value < 0x20 && $0 != "\n" }, r.stderr)
    }

    /// A byte-order mark at the very start is skipped (columns of line 1 count from after it);
    /// anywhere else it is still an unexpected character.
    func testByteOrderMark() {
        let bom: [UInt8] = [0xEF, 0xBB, 0xBF]
        let c = Pipeline.compile(SourceFile(path: "b.arch", bytes: bom + Array("input x 8\nlinear 4\n".utf8)), bindings: [:])
        XCTAssertTrue(c.succeeded, Support.rendered(c))
        let bad = Pipeline.compile(SourceFile(path: "b.arch", bytes: bom + Array("input x 0\n".utf8)), bindings: [:])
        XCTAssertEqual(bad.diagnostics.diagnostics.first?.loc?.description, "b.arch:1:9")
        let inside = Pipeline.compile(SourceFile(path: "b.arch", bytes: Array("input x 8\n".utf8) + bom + Array("relu\n".utf8)), bindings: [:])
        XCTAssertEqual(inside.diagnostics.diagnostics.first?.message, "unexpected character byte 0xEF")
        XCTAssertTrue(Support.rendered(inside).contains("    \\u{FEFF}relu\n    ^~~~~~~~\n"), Support.rendered(inside))
    }
}

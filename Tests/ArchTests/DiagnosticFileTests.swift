import Foundation
import XCTest
@testable import ArchSyntax
@testable import ArchDriver

/// Runs every spec in Fixtures/bad and compares its diagnostics with the expectations written as
/// comments on the lines they point at, in the spirit of LLVM's `expected-error`:
///
///     conv 3 16 strde 2   # expect-error: unknown option 'strde' for 'conv'; did you mean 'stride'?
///     # expect-note@2: 'conv' accepts: stride, pad, dilation, groups, bias
///
/// `@N` names the line when the comment cannot sit on it. Errors and warnings must match exactly
/// (a missing, extra or reworded one fails); each expected note must be among the notes of a
/// diagnostic on its line.
final class DiagnosticFileTests: XCTestCase {
    struct Expected: Hashable, CustomStringConvertible {
        var line: Int
        var severity: String
        var message: String
        var description: String { "\(line): \(severity): \(message)" }
    }

    static let folder = "Tests/ArchTests/Fixtures/bad"

    /// Paths relative to the repository root, as a user would type them (they appear in notes).
    func badFiles() throws -> [String] {
        let dir = Support.root.appendingPathComponent(Self.folder)
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".arch") }.sorted()
            .map { "\(Self.folder)/\($0)" }
    }

    static func expectations(in bytes: [UInt8]) -> [Expected] {
        let text = String(decoding: bytes, as: UTF8.self)
        let pattern = try! NSRegularExpression(pattern: #"#\s*expect-(error|warning|note)(?:@(\d+))?:\s*(.*)$"#)
        var out: [Expected] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let s = String(line)
            let ns = s as NSString
            guard let m = pattern.firstMatch(in: s, range: NSRange(location: 0, length: ns.length)) else { continue }
            let at = m.range(at: 2).location == NSNotFound ? i + 1 : Int(ns.substring(with: m.range(at: 2)))!
            out.append(Expected(line: at, severity: ns.substring(with: m.range(at: 1)),
                                message: ns.substring(with: m.range(at: 3)).trimmingCharacters(in: .whitespaces)))
        }
        return out
    }

    func testBadSpecsReportExactlyTheExpectedDiagnostics() throws {
        let files = try badFiles()
        XCTAssertGreaterThanOrEqual(files.count, 30)
        let cwd = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(Support.root.path)
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        for path in files {
            let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
            let expected = Self.expectations(in: bytes)
            XCTAssertFalse(expected.isEmpty, "\(path) states no expectation")
            let c = Pipeline.compile(path: path, bindings: [:])
            let ds = c.diagnostics.diagnostics
            func line(_ loc: SourceLoc?) -> Int { loc.map { $0.file.lineAndColumn(of: $0.start).line } ?? 0 }
            let actual = ds.filter { $0.severity != .note }.map { Expected(line: line($0.loc), severity: $0.severity.rawValue, message: $0.message) }
            let wanted = expected.filter { $0.severity != "note" }
            for e in wanted where !actual.contains(e) { XCTFail("\(path):\(e.line): missing \(e.severity): \(e.message)") }
            for a in actual where !wanted.contains(a) { XCTFail("\(path):\(a.line): unexpected \(a.severity): \(a.message)") }
            for n in expected where n.severity == "note" {
                let found = ds.contains { line($0.loc) == n.line && $0.notes.contains { $0.message == n.message } }
                XCTAssertTrue(found, "\(path):\(n.line): missing note: \(n.message)\n\(Support.rendered(c))")
            }
            let onlyWarnings = wanted.allSatisfy { $0.severity == "warning" }
            XCTAssertEqual(c.succeeded, onlyWarnings, "\(path): errors make the check fail; warnings alone do not")
        }
    }

    /// The runner itself: a reworded message is caught.
    func testExpectationParsing() {
        let src = Array("linear 0  # expect-error: boom\n# expect-note@1: hint\n".utf8)
        XCTAssertEqual(Self.expectations(in: src), [
            Expected(line: 1, severity: "error", message: "boom"), Expected(line: 1, severity: "note", message: "hint"),
        ])
    }
}

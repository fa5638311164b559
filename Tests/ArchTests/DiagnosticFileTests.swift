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
/// `@N` names line N when the comment cannot sit on the line itself (`@+N` / `@-N`: relative to
/// the comment's line). Errors and warnings must match exactly: a missing, extra, moved or
/// reworded one fails. Each expected note must be among the notes of a diagnostic on its line
/// (notes not listed are allowed). The paths are relative to the repository root, as a user types
/// them, because they appear in the "in block ... used at PATH:LINE:COL" notes.
final class DiagnosticFileTests: XCTestCase {
    struct Expected: Hashable, CustomStringConvertible {
        var line: Int
        var severity: String
        var message: String
        var description: String { "\(line): \(severity): \(message)" }
    }

    /// A reported diagnostic, reduced to what the expectations can state.
    struct Actual {
        var line: Int
        var severity: String
        var message: String
        var notes: [String]
    }

    static let folder = "Tests/ArchTests/Fixtures/bad"

    /// Paths relative to the repository root, as a user would type them (they appear in notes).
    func badFiles() throws -> [String] {
        let dir = Support.root.appendingPathComponent(Self.folder)
        return try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".arch") }.sorted()
            .map { "\(Self.folder)/\($0)" }
    }

    static let directive = try! NSRegularExpression(pattern: #"#\s*expect-(error|warning|note)(?:@([+-]?)(\d+))?:\s*(.*?)\s*$"#)

    /// The expectations of a file, and the lines holding something that looks like a directive
    /// but does not parse (`# expect-eror: ...`, `# expect-error@x: ...`, an empty message), which
    /// would otherwise be ignored silently. Lines are split on bytes, so invalid UTF-8 elsewhere
    /// on a line does not shift anything.
    static func expectations(in bytes: [UInt8]) -> (expected: [Expected], malformed: [Int]) {
        var out: [Expected] = [], malformed: [Int] = []
        for (i, raw) in bytes.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false).enumerated() {
            let s = String(decoding: raw, as: UTF8.self), ns = s as NSString, lineNo = i + 1
            guard let m = directive.firstMatch(in: s, range: NSRange(location: 0, length: ns.length)),
                  !ns.substring(with: m.range(at: 4)).isEmpty else {
                if s.contains("expect-") || s.contains("expected-") { malformed.append(lineNo) }
                continue
            }
            var at = lineNo
            if m.range(at: 3).location != NSNotFound {
                let n = Int(ns.substring(with: m.range(at: 3))) ?? 0
                switch ns.substring(with: m.range(at: 2)) {
                case "+": at = lineNo + n
                case "-": at = lineNo - n
                default: at = n
                }
            }
            out.append(Expected(line: at, severity: ns.substring(with: m.range(at: 1)), message: ns.substring(with: m.range(at: 4))))
        }
        return (out, malformed)
    }

    /// Every disagreement between the expectations and the diagnostics, as "LINE: what" strings.
    static func mismatches(expected: [Expected], actual: [Actual]) -> [String] {
        var problems: [(line: Int, text: String)] = []
        // Errors and warnings as multisets: first take out the exact matches.
        var missing = expected.filter { $0.severity != "note" }
        var extra = actual
        missing.removeAll { e in
            guard let j = extra.firstIndex(where: { $0.line == e.line && $0.severity == e.severity && $0.message == e.message }) else { return false }
            extra.remove(at: j)
            return true
        }
        // The right message on another line.
        missing.removeAll { e in
            guard let j = extra.firstIndex(where: { $0.severity == e.severity && $0.message == e.message }) else { return false }
            problems.append((e.line, "\(e.severity) expected on line \(e.line) but reported on line \(extra[j].line): \(e.message)"))
            extra.remove(at: j)
            return true
        }
        // Another message on the right line: a rewording.
        missing.removeAll { e in
            guard let j = extra.firstIndex(where: { $0.line == e.line && $0.severity == e.severity }) else { return false }
            problems.append((e.line, "\(e.severity) reworded\n    expected: \(e.message)\n    actual:   \(extra[j].message)"))
            extra.remove(at: j)
            return true
        }
        for e in missing { problems.append((e.line, "missing \(e.severity): \(e.message)")) }
        for a in extra { problems.append((a.line, "unexpected \(a.severity): \(a.message)")) }
        for n in expected where n.severity == "note" {
            let here = actual.filter { $0.line == n.line }
            if here.contains(where: { $0.notes.contains(n.message) }) { continue }
            let seen = here.flatMap(\.notes)
            problems.append((n.line, "missing note: \(n.message)\n    " +
                (here.isEmpty ? "no diagnostic is reported on this line" : seen.isEmpty ? "the diagnostics here have no notes"
                    : "notes here: " + seen.map { "'\($0)'" }.joined(separator: ", "))))
        }
        return problems.sorted { $0.line < $1.line }.map { "\($0.line): \($0.text)" }
    }

    static func actual(_ c: Compilation) -> [Actual] {
        c.diagnostics.diagnostics.filter { $0.severity != .note }.map { d in
            Actual(line: d.loc.map { $0.file.lineAndColumn(of: $0.start).line } ?? 0, severity: d.severity.rawValue,
                   message: d.message, notes: d.notes.map(\.message))
        }
    }

    /// Runs the body with the repository root as the working directory, so paths stay short and stable.
    static func inRoot<T>(_ body: () throws -> T) rethrows -> T {
        let cwd = FileManager.default.currentDirectoryPath
        _ = FileManager.default.changeCurrentDirectoryPath(Support.root.path)
        defer { _ = FileManager.default.changeCurrentDirectoryPath(cwd) }
        return try body()
    }

    func testBadSpecsReportExactlyTheExpectedDiagnostics() throws {
        let files = try badFiles()
        XCTAssertGreaterThanOrEqual(files.count, 25, "the bad-spec fixtures are missing")
        try Self.inRoot {
            for path in files {
                let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
                let (expected, malformed) = Self.expectations(in: bytes)
                for l in malformed { XCTFail("\(path):\(l): malformed expectation (write '# expect-error: MESSAGE', '# expect-warning@N: ...', '# expect-note: ...')") }
                XCTAssertFalse(expected.isEmpty, "\(path): states no expectation")
                let c = Pipeline.compile(path: path, bindings: [:])
                XCTAssertEqual(c.diagnostics.droppedErrors + c.diagnostics.droppedWarnings, 0, "\(path): diagnostics were dropped")
                let problems = Self.mismatches(expected: expected, actual: Self.actual(c))
                for p in problems { XCTFail("\(path):\(p)") }
                if !problems.isEmpty { print("--- \(path) reported:\n\(Support.rendered(c))") }

                // Exit semantics: an error fails the check; warnings alone do not.
                let onlyWarnings = !expected.contains { $0.severity == "error" }
                XCTAssertEqual(c.succeeded, onlyWarnings, "\(path): \(onlyWarnings ? "warnings alone must not fail" : "must fail with an error")")
                XCTAssertEqual(Support.run("check", path).status, onlyWarnings ? 0 : 1, "\(path): exit status of 'archc check'")
            }
        }
    }

    /// Every fixture with an error is a bad spec: only the warnings fixture may pass.
    func testOnlyTheWarningsFixturePasses() throws {
        let passing = try Self.inRoot {
            try badFiles().filter { Pipeline.compile(path: $0, bindings: [:]).succeeded }
        }
        XCTAssertEqual(passing, ["\(Self.folder)/warnings.arch"])
    }

    // MARK: the runner itself

    func testExpectationParsing() {
        let src = Array("""
        linear 0  # expect-error: boom
        # expect-note@1: hint
        # expect-warning@+1: next line
        relu  #expect-error:   spaced out\u{20}\u{20}
        # expect-eror: typo
        # expect-error@x: bad line
        # expect-error:
        # expect-error@-5: back

        """.utf8) + [0xFF] + Array(" relu # expect-error: after a bad byte".utf8)
        let (expected, malformed) = Self.expectations(in: src)
        XCTAssertEqual(expected, [
            Expected(line: 1, severity: "error", message: "boom"), Expected(line: 1, severity: "note", message: "hint"),
            Expected(line: 4, severity: "warning", message: "next line"), Expected(line: 4, severity: "error", message: "spaced out"),
            Expected(line: 3, severity: "error", message: "back"), Expected(line: 9, severity: "error", message: "after a bad byte"),
        ])
        XCTAssertEqual(malformed, [5, 6, 7])
    }

    func testComparisonCatchesEveryKindOfMismatch() {
        func e(_ l: Int, _ s: String, _ m: String) -> Expected { Expected(line: l, severity: s, message: m) }
        func a(_ l: Int, _ s: String, _ m: String, _ notes: [String] = []) -> Actual { Actual(line: l, severity: s, message: m, notes: notes) }
        // Exact agreement, with a note not listed: fine.
        XCTAssertEqual(Self.mismatches(expected: [e(2, "error", "x"), e(2, "note", "n1")], actual: [a(2, "error", "x", ["n1", "n2"])]), [])
        // Reworded, moved, missing, extra, a duplicate reported once, a wrong severity, a missing note.
        let problems = Self.mismatches(
            expected: [e(1, "error", "old words"), e(3, "error", "moved"), e(4, "error", "gone"), e(5, "warning", "twice"),
                       e(5, "warning", "twice"), e(6, "warning", "w"), e(7, "note", "absent"), e(8, "note", "orphan")],
            actual: [a(1, "error", "new words"), a(9, "error", "moved"), a(5, "warning", "twice"), a(6, "error", "w"),
                     a(7, "error", "e7", ["other"]), a(10, "error", "surprise")])
        XCTAssertEqual(problems, [
            "1: error reworded\n    expected: old words\n    actual:   new words",
            "3: error expected on line 3 but reported on line 9: moved",
            "4: missing error: gone",
            "5: missing warning: twice",
            "6: missing warning: w",
            "6: unexpected error: w",
            "7: unexpected error: e7",
            "7: missing note: absent\n    notes here: 'other'",
            "8: missing note: orphan\n    no diagnostic is reported on this line",
            "10: unexpected error: surprise",
        ])
    }
}

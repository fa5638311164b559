import Foundation
import XCTest
@testable import ArchDriver

/// The full rendered output of `archc check` (exit status, then stderr: locations, source lines,
/// carets, notes, the error count) for representative bad specs, compared with
/// Fixtures/snapshots/NAME.txt. `ARCHC_RECORD=1 swift test --filter DiagnosticSnapshotTests`
/// rewrites the snapshots from the real output (and fails, so a recording run is never mistaken
/// for a passing one); review the diff before committing.
final class DiagnosticSnapshotTests: XCTestCase {
    static let cases = ["many_errors", "residual_shape_mismatch", "error_inside_repeated_block", "heads_do_not_divide",
                        "block_missing_parameter", "warnings", "non_utf8", "control_characters", "byte_order_mark",
                        "prelude_block_error", "duplicate_label"]

    static func snapshotURL(_ name: String) -> URL { Support.fixtures.appendingPathComponent("snapshots/\(name).txt") }

    /// Where two texts first differ, line by line, for a readable failure.
    static func firstDifference(_ actual: String, _ expected: String) -> String {
        let a = actual.components(separatedBy: "\n"), e = expected.components(separatedBy: "\n")
        for i in 0..<max(a.count, e.count) where i >= a.count || i >= e.count || a[i] != e[i] {
            let show = { (ls: [String]) in i < ls.count ? "'\(ls[i])'" : "(end of output)" }
            return "first difference at line \(i + 1):\n  expected: \(show(e))\n  actual:   \(show(a))"
        }
        return "no difference"
    }

    func testRenderedDiagnostics() throws {
        let record = ProcessInfo.processInfo.environment["ARCHC_RECORD"] == "1"
        try DiagnosticFileTests.inRoot {
            for name in Self.cases {
                let r = Support.run("check", "\(DiagnosticFileTests.folder)/\(name).arch")
                let rendered = "exit \(r.status)\n" + r.stderr
                let url = Self.snapshotURL(name)
                if record {
                    try rendered.write(to: url, atomically: true, encoding: .utf8)
                    continue
                }
                guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
                    XCTFail("\(url.path) is missing; record it with ARCHC_RECORD=1")
                    continue
                }
                if rendered != expected {
                    XCTFail("\(name): the rendered diagnostics changed; \(Self.firstDifference(rendered, expected))\n" +
                            "--- actual output:\n\(rendered)--- re-record with ARCHC_RECORD=1 if the change is intended, and review the diff")
                }
            }
        }
        if record { XCTFail("re-recorded \(Self.cases.count) snapshots in \(Support.fixtures.path)/snapshots; review the diff and run again without ARCHC_RECORD") }
    }

    /// Every snapshot belongs to a case, so a renamed fixture does not leave a stale file behind.
    func testNoStaleSnapshots() throws {
        let dir = Support.fixtures.appendingPathComponent("snapshots")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".txt") }
        XCTAssertEqual(Set(files), Set(Self.cases.map { "\($0).txt" }))
    }

    func testFirstDifference() {
        XCTAssertEqual(Self.firstDifference("a\nb\n", "a\nc\n"), "first difference at line 2:\n  expected: 'c'\n  actual:   'b'")
        XCTAssertEqual(Self.firstDifference("a\n", "a\nb\n"), "first difference at line 2:\n  expected: 'b'\n  actual:   ''")
        XCTAssertEqual(Self.firstDifference("a\n", "a\n"), "no difference")
    }
}

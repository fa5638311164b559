import Foundation
import XCTest
@testable import ArchDriver

/// The full rendered output of `archc check` (source line, caret, notes, summary) for representative
/// bad specs, compared with Fixtures/snapshots/NAME.txt. `ARCHC_RECORD=1 swift test` re-records
/// them; review the diff before committing.
final class DiagnosticSnapshotTests: XCTestCase {
    static let cases = ["many_errors", "residual_shape_mismatch", "error_inside_repeated_block", "heads_do_not_divide",
                        "block_missing_parameter", "warnings", "non_utf8"]

    func testRenderedDiagnostics() throws {
        let cwd = FileManager.default.currentDirectoryPath
        FileManager.default.changeCurrentDirectoryPath(Support.root.path)
        defer { FileManager.default.changeCurrentDirectoryPath(cwd) }
        let record = ProcessInfo.processInfo.environment["ARCHC_RECORD"] == "1"
        for name in Self.cases {
            let r = Support.run("check", "\(DiagnosticFileTests.folder)/\(name).arch")
            let rendered = "exit \(r.status)\n" + r.stderr
            let snapshot = Support.fixtures.appendingPathComponent("snapshots/\(name).txt")
            if record {
                try rendered.write(to: snapshot, atomically: true, encoding: .utf8)
                continue
            }
            let expected = try String(contentsOf: snapshot, encoding: .utf8)
            XCTAssertEqual(rendered, expected, "\(name): the rendered diagnostics changed; re-record with ARCHC_RECORD=1 and review the diff")
        }
        if record { XCTFail("re-recorded \(Self.cases.count) snapshots; review the diff and run again without ARCHC_RECORD") }
    }
}

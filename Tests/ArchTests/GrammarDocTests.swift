import Foundation
import XCTest
@testable import ArchDriver

/// Grammar.md stays true: its op reference is what the compiler has, and its examples check.
final class GrammarDocTests: XCTestCase {
    let path = Support.root.appendingPathComponent("Grammar.md")

    func testOpReferenceMatchesTheCompiler() throws {
        let text = try String(contentsOf: path, encoding: .utf8)
        let begin = "<!-- ops:begin -->\n", end = "<!-- ops:end -->"
        let head = try XCTUnwrap(text.range(of: begin)), tail = try XCTUnwrap(text.range(of: end))
        let generated = OpsReference.render(markdown: true)
        if String(text[head.upperBound..<tail.lowerBound]) != generated {
            if ProcessInfo.processInfo.environment["ARCHC_RECORD"] == "1" {
                let updated = String(text[..<head.upperBound]) + generated + String(text[tail.lowerBound...])
                try updated.write(to: path, atomically: true, encoding: .utf8)
                XCTFail("re-recorded the op reference in Grammar.md; review the diff")
            } else {
                XCTFail("Grammar.md's op reference differs from `archc ops --markdown`; run the tests with ARCHC_RECORD=1 and review the diff")
            }
        }
    }

    func testExamplesCheck() throws {
        let text = try String(contentsOf: path, encoding: .utf8)
        let blocks = text.components(separatedBy: "```arch\n").dropFirst().map { $0.components(separatedBy: "```").first ?? "" }
        XCTAssertFalse(blocks.isEmpty)
        for (i, b) in blocks.enumerated() {
            let c = Support.compile(b, path: "Grammar.md example \(i + 1)", bindings: ["seq": 16])
            XCTAssertTrue(c.succeeded && c.diagnostics.diagnostics.isEmpty, Support.rendered(c))
        }
    }
}

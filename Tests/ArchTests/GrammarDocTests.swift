import Foundation
import XCTest
@testable import ArchDriver
@testable import ArchSyntax

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

    /// The limits Grammar.md states are the parser's (it said else-if chains nest 64 deep; the parser allowed 256).
    func testStatedLimitsAreTheParsers() throws {
        let text = try String(contentsOf: path, encoding: .utf8).replacingOccurrences(of: "\n", with: " ")
        let sentence = "Braces and parentheses may nest \(Parser.maxNesting) deep, an `else if` chain may have \(Parser.maxElseIf) branches "
            + "after its `if`, and an argument may hold \(Parser.maxOperators) operators"
        XCTAssertTrue(text.contains(sentence), "Grammar.md must say: \(sentence)")
        func errors(_ src: String) -> [String] { Support.compile(src, bindings: ["batch": 1]).diagnostics.diagnostics.map(\.message) }
        func chain(_ n: Int) -> String { "input x 8\nif off { relu }" + String(repeating: " else if off { relu }", count: n) + " else { gelu }" }
        XCTAssertEqual(errors(chain(Parser.maxElseIf)), [])
        XCTAssertEqual(errors(chain(Parser.maxElseIf + 1)), ["more than \(Parser.maxElseIf) 'else if' branches in one chain"])
        let nested = "input x 8\n" + String(repeating: "seq {", count: Parser.maxNesting) + "relu" + String(repeating: "}", count: Parser.maxNesting)
        XCTAssertEqual(errors(nested), [])
        let deeper = "input x 8\n" + String(repeating: "seq {", count: Parser.maxNesting + 1) + "relu" + String(repeating: "}", count: Parser.maxNesting + 1)
        XCTAssertEqual(errors(deeper).first, "blocks nested more than \(Parser.maxNesting) deep")
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

import XCTest
@testable import ArchSyntax

/// The lexer's token kinds and byte ranges, and the parser's statements and error recovery.
final class SyntaxTests: XCTestCase {
    func lex(_ s: String) -> (kinds: [Token.Kind], texts: [String], diags: DiagnosticEngine) {
        let f = SourceFile(path: "t.arch", text: s)
        let d = DiagnosticEngine()
        let toks = Lexer.tokenize(f, diags: d).filter { $0.kind != .eof }
        return (toks.map(\.kind), toks.map { f.text($0.range) }, d)
    }

    func parse(_ s: String) -> (SourceUnit, DiagnosticEngine) {
        let d = DiagnosticEngine()
        return (Parser.parse(SourceFile(path: "t.arch", text: s), diags: d), d)
    }

    func testNumbersSizesAndRepetition() {
        let r = lex("conv 3x224x224 7x7 x12 1e-6 0.5 1_000 3xHxW")
        XCTAssertEqual(r.kinds, [.name, .dims, .dims, .repeat_, .float, .float, .int, .dims])
        XCTAssertEqual(r.texts, ["conv", "3x224x224", "7x7", "x12", "1e-6", "0.5", "1_000", "3xHxW"])
        XCTAssertFalse(r.diags.hasErrors)
    }

    func testNegativeLiteralsVersusSubtraction() {
        XCTAssertEqual(lex("reshape -1 768").kinds, [.name, .int, .int])
        XCTAssertEqual(lex("a - 1").kinds, [.name, .minus, .int])
        XCTAssertEqual(lex("a-1").kinds, [.name, .minus, .int])
        XCTAssertEqual(lex("(a)-1").kinds, [.lparen, .name, .rparen, .minus, .int])
        XCTAssertEqual(lex("[-1, 2]").kinds, [.lbracket, .int, .comma, .int, .rbracket])
    }

    func testNamesCommentsAndByteRanges() {
        let f = SourceFile(path: "t.arch", text: "stem.proj: patch 16  # a comment\n")
        let toks = Lexer.tokenize(f, diags: DiagnosticEngine())
        XCTAssertEqual(toks.map(\.kind), [.name, .colon, .name, .int, .newline, .eof])
        XCTAssertEqual(toks[0].range, 0..<9)
        XCTAssertEqual(toks[3].range, 17..<19)
        XCTAssertEqual(f.lineAndColumn(of: 17).column, 18)
    }

    func testInvalidBytesAndMalformedNumbers() {
        let r = lex("linear 4 @ 64k\u{00E9}")
        XCTAssertEqual(r.kinds, [.name, .int, .invalid, .invalid, .invalid])
        XCTAssertEqual(r.diags.diagnostics.map(\.message), ["unexpected character '@'", "malformed number '64k'", "unexpected character byte 0xC3"])
        XCTAssertEqual(lex("name.").diags.diagnostics.map(\.message), ["a name cannot end with '.'"])
    }

    func testLabelsAndLayerLines() throws {
        let (u, d) = parse("input x 8\nfc1: linear 4 bias off x3\n0: relu\nlayer_*: gelu x2\n")
        XCTAssertFalse(d.hasErrors)
        XCTAssertEqual(u.stmts.count, 4)
        guard case .layer(let l) = u.stmts[1], case .layer(let l0) = u.stmts[2], case .layer(let star) = u.stmts[3] else {
            return XCTFail("expected layers")
        }
        XCTAssertEqual(l.label?.text, "fc1")
        XCTAssertEqual(l.op.text, "linear")
        XCTAssertEqual(l.args.count, 3)
        XCTAssertEqual(l.repeatCount?.count, 3)
        XCTAssertEqual(l0.label?.text, "0")
        XCTAssertEqual(star.label?.text, "layer_*")
    }

    func testBlocksIfsAndBodies() throws {
        let src = """
        block basic(out, stride = 1) {
          residual { conv 3 out; batchnorm } shortcut {
            if stride != 1 and out > 2 { conv 1 out } else if out == 3 { relu } else { gelu }
          }
        }
        """
        let (u, d) = parse(src)
        XCTAssertFalse(d.hasErrors, DiagnosticRenderer.render(d.diagnostics))
        guard case .block(let b) = u.stmts.first, case .layer(let res) = b.body.first else { return XCTFail("expected a block") }
        XCTAssertEqual(b.params.map(\.name.text), ["out", "stride"])
        XCTAssertNil(b.params[0].defaultValue)
        XCTAssertEqual(res.bodies.count, 2)
        XCTAssertEqual(res.bodies[0].stmts.count, 2)
        XCTAssertEqual(res.bodies[1].keyword?.text, "shortcut")
        guard case .ifStmt(let i) = res.bodies[1].stmts.first else { return XCTFail("expected an if") }
        guard case .binary(.and, _, _) = i.condition.kind else { return XCTFail("expected 'and'") }
        XCTAssertNotNil(i.otherwise)
    }

    func testExpressionPrecedence() throws {
        let (u, _) = parse("linear 2 + 3 * 4 % 5\n")
        guard case .layer(let l) = u.stmts.first, case .binary(.add, _, let rhs) = l.args[0].kind,
              case .binary(.mod, let lhs, _) = rhs.kind, case .binary(.mul, _, _) = lhs.kind else {
            return XCTFail("expected 2 + ((3 * 4) % 5)")
        }
    }

    func testErrorRecoveryReportsEveryError() {
        let (u, d) = parse("input x 8\nlinear 4 )\nrelu\nconv 3 ]\n}\ngelu\n")
        XCTAssertEqual(d.diagnostics.map(\.message), ["expected a value, found ')'", "expected a value, found ']'", "unmatched '}'"])
        XCTAssertEqual(u.stmts.count, 3, "input, relu and gelu survive")
    }

    func testUnclosedBodyAndNestingLimit() {
        XCTAssertEqual(parse("seq {\n relu\n").1.diagnostics.map(\.message), ["missing '}' to close this '{'"])
        let deep = String(repeating: "seq {", count: 65) + String(repeating: "}", count: 65)
        XCTAssertEqual(parse(deep).1.diagnostics.map(\.message), ["blocks nested more than 64 deep"])
        let deepExpr = "linear " + String(repeating: "(", count: 80) + "1" + String(repeating: ")", count: 80)
        XCTAssertEqual(parse(deepExpr).1.diagnostics.first?.message, "expression nested more than 64 deep")
        let longExpr = "linear " + Array(repeating: "1", count: 300).joined(separator: " + ")
        XCTAssertEqual(parse(longExpr).1.diagnostics.first?.message, "expression has more than 256 operators")
    }

    func testLineAndColumn() {
        let f = SourceFile(path: "t", text: "ab\ncd\n\nef")
        XCTAssertEqual(f.lineAndColumn(of: 0).line, 1)
        XCTAssertEqual(f.lineAndColumn(of: 4).line, 2)
        XCTAssertEqual(f.lineAndColumn(of: 4).column, 2)
        XCTAssertEqual(f.lineAndColumn(of: 7).line, 4)
        XCTAssertEqual(f.lineText(2), "cd")
        XCTAssertEqual(f.lineText(3), "")
    }
}

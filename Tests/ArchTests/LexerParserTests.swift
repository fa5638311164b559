import XCTest
@testable import ArchSyntax

/// The lexer's tokens and byte ranges, and the parser's tree and error recovery.
final class LexerParserTests: XCTestCase {
    // MARK: helpers

    /// Tokens as (kind, text, byte range), the final end-of-file left out; and the lexer's errors.
    func lex(_ text: String) -> (tokens: [(Token.Kind, String, Range<Int>)], errors: [String]) {
        let file = SourceFile(path: "t.arch", text: text)
        let diags = DiagnosticEngine()
        let toks = Lexer.tokenize(file, diags: diags)
        XCTAssertEqual(toks.last?.kind, .eof)
        XCTAssertEqual(toks.last?.range, file.bytes.count..<file.bytes.count)
        return (toks.dropLast().map { ($0.kind, file.text($0.range), $0.range) }, diags.diagnostics.map(\.message))
    }

    func kinds(_ text: String) -> [Token.Kind] { lex(text).tokens.map(\.0) }
    func texts(_ text: String) -> [String] { lex(text).tokens.map(\.1) }

    func parse(_ text: String) -> (stmts: [Stmt], errors: [(line: Int, col: Int, message: String)]) {
        let file = SourceFile(path: "t.arch", text: text)
        let diags = DiagnosticEngine()
        let unit = Parser.parse(file, diags: diags)
        let errors = diags.diagnostics.filter { $0.severity == .error }.map { d -> (Int, Int, String) in
            let (l, c) = d.loc.map { file.lineAndColumn(of: $0.start) } ?? (0, 0)
            return (l, c, d.message)
        }
        // Lexer errors are found before the parser's; the pipeline sorts them by place, and so do we.
        return (unit.stmts, errors.enumerated().sorted { ($0.element.0, $0.element.1, $0.offset) < ($1.element.0, $1.element.1, $1.offset) }.map(\.element))
    }

    func layer(_ s: Stmt?, file: StaticString = #filePath, line: UInt = #line) -> LayerStmt? {
        guard case .layer(let l)? = s else { XCTFail("not a layer: \(String(describing: s))", file: file, line: line); return nil }
        return l
    }

    /// A compact rendering of an expression: `(a + (b * 2))`, `[seq, 768]`, `3x224x224`.
    func show(_ e: Expr) -> String {
        switch e.kind {
        case .int(let n): return String(n)
        case .float(let x): return String(x)
        case .name(let n): return e.grouped ? "(\(n))" : n
        case .dims(let ps): return ps.joined(separator: "x")
        case .list(let xs): return "[" + xs.map(show).joined(separator: ", ") + "]"
        case .binary(let op, let a, let b): return "(\(show(a)) \(op.rawValue) \(show(b)))"
        case .bad: return "<bad>"
        }
    }

    // MARK: lexer

    func testDimsAndRepetition() {
        let r = lex("input image 3x224x224\nconv 7x7 64 x12")
        XCTAssertEqual(r.errors, [])
        XCTAssertEqual(r.tokens.map(\.0), [.name, .name, .dims, .newline, .name, .dims, .int, .repeat_])
        XCTAssertEqual(r.tokens[2].1, "3x224x224")
        XCTAssertEqual(r.tokens[2].2, 12..<21)
        XCTAssertEqual(r.tokens[3].2, 21..<22)
        XCTAssertEqual(r.tokens[5].2, 27..<30)
        XCTAssertEqual(r.tokens[7].1, "x12")
        XCTAssertEqual(r.tokens[7].2, 34..<37)
        // Symbolic parts; a lone x, or x followed by letters, is a name.
        XCTAssertEqual(lex("3xHxW").tokens.map(\.0), [.dims])
        XCTAssertEqual(kinds("x"), [.name])
        XCTAssertEqual(kinds("x1a"), [.name])
        XCTAssertEqual(kinds("x0"), [.repeat_])
    }

    func testNegativeLiteralsAndSubtraction() {
        XCTAssertEqual(kinds("reshape -1"), [.name, .int])
        XCTAssertEqual(lex("reshape -1").tokens[1].2, 8..<10)
        XCTAssertEqual(texts("[-1, 8]"), ["[", "-1", ",", "8", "]"])
        XCTAssertEqual(kinds("(-3)"), [.lparen, .int, .rparen])
        XCTAssertEqual(kinds("a=-1"), [.name, .equal, .int])
        // After an operand a minus subtracts, with or without blanks.
        XCTAssertEqual(kinds("a - 1"), [.name, .minus, .int])
        XCTAssertEqual(kinds("a-1"), [.name, .minus, .int])
        XCTAssertEqual(lex("a-1").tokens.map(\.2), [0..<1, 1..<2, 2..<3])
        XCTAssertEqual(kinds("2-1"), [.int, .minus, .int])
        XCTAssertEqual(kinds("(a)-1"), [.lparen, .name, .rparen, .minus, .int])
        XCTAssertEqual(kinds("[a]-1"), [.lbracket, .name, .rbracket, .minus, .int])
        XCTAssertEqual(kinds("a - b"), [.name, .minus, .name])
        XCTAssertEqual(kinds("-a"), [.minus, .name])
    }

    func testNumbers() {
        XCTAssertEqual(kinds("1e-6 2.5e3 0.5 1E+2 64 1_000"), [.float, .float, .float, .float, .int, .int])
        XCTAssertEqual(lex("eps 1e-6").tokens[1].2, 4..<8)
        XCTAssertEqual(lex("-0.5").tokens.map(\.0), [.float])
        // A number glued to letters is one bad token.
        let bad = lex("linear 64k")
        XCTAssertEqual(bad.tokens.map(\.0), [.name, .invalid])
        XCTAssertEqual(bad.tokens[1].2, 7..<10)
        XCTAssertEqual(bad.errors, ["malformed number '64k'"])
        XCTAssertEqual(lex("1e").errors, ["malformed number '1e'"])
        XCTAssertEqual(lex("3x").errors, ["malformed number '3x'"])
    }

    func testCommentsNewlinesAndPunctuation() {
        let r = lex("conv 3 16 # a comment { ] \n# whole line\r\nrelu # at the end")
        XCTAssertEqual(r.errors, [])
        XCTAssertEqual(r.tokens.map(\.0), [.name, .int, .int, .newline, .newline, .name])
        XCTAssertEqual(r.tokens[3].2, 26..<27)
        XCTAssertEqual(r.tokens[5].1, "relu")
        XCTAssertEqual(kinds("{ } ( ) [ ] , : ; = + - * / % == != < <= > >="),
                       [.lbrace, .rbrace, .lparen, .rparen, .lbracket, .rbracket, .comma, .colon, .semicolon, .equal,
                        .plus, .minus, .star, .slash, .percent, .eqeq, .noteq, .less, .lesseq, .greater, .greatereq])
        XCTAssertEqual(kinds("a<=b"), [.name, .lesseq, .name])
        XCTAssertEqual(kinds("\t\r  "), [])
    }

    func testDottedNames() {
        let r = lex("stem.proj: patch 16 dim 768")
        XCTAssertEqual(r.tokens.map(\.0), [.name, .colon, .name, .int, .name, .int])
        XCTAssertEqual(r.tokens[0].1, "stem.proj")
        XCTAssertEqual(r.tokens[0].2, 0..<9)
        XCTAssertEqual(texts("_a.b1.c_2 LayerNorm"), ["_a.b1.c_2", "LayerNorm"])
        let bad = lex("stem. relu")
        XCTAssertEqual(bad.tokens.map(\.0), [.invalid, .name])
        XCTAssertEqual(bad.errors, ["a name cannot end with '.'"])
    }

    func testInvalidBytes() {
        let r = lex("conv @ 3")
        XCTAssertEqual(r.tokens.map(\.0), [.name, .invalid, .int])
        XCTAssertEqual(r.tokens[1].2, 5..<6)
        XCTAssertEqual(r.errors, ["unexpected character '@'"])
        XCTAssertEqual(lex("a ! b").errors, ["unexpected character '!'"])
        // A multi-byte character is one invalid token.
        let utf = lex("é x")
        XCTAssertEqual(utf.tokens.map(\.0), [.invalid, .name])
        XCTAssertEqual(utf.tokens[0].2, 0..<2)
        XCTAssertEqual(utf.errors, ["unexpected character byte 0xC3"])
        // Invalid UTF-8 and NUL do not stop the lexer.
        let file = SourceFile(path: "t.arch", bytes: [0x61, 0xFF, 0x00, 0x62, 0x0A])
        let diags = DiagnosticEngine()
        let toks = Lexer.tokenize(file, diags: diags)
        XCTAssertEqual(toks.map(\.kind), [.name, .invalid, .invalid, .name, .newline, .eof])
        XCTAssertEqual(diags.diagnostics.map(\.message), ["unexpected character byte 0xFF", "unexpected character byte 0x0"])
    }

    // MARK: parser

    func testLabels() throws {
        let r = parse("stem: conv 3 16\n0: residual { relu }\nencoder_layer_*: relu x12\nstem.proj: relu\nrelu")
        XCTAssertTrue(r.errors.isEmpty, "\(r.errors)")
        XCTAssertEqual(r.stmts.count, 5)
        let ls = r.stmts.compactMap { layer($0) }
        XCTAssertEqual(ls.map { $0.label?.text }, ["stem", "0", "encoder_layer_*", "stem.proj", nil])
        XCTAssertEqual(ls.map(\.op.text), ["conv", "residual", "relu", "relu", "relu"])
        XCTAssertEqual(ls[0].args.map(show), ["3", "16"])
        XCTAssertEqual(ls[2].repeatCount?.count, 12)
        // The pattern label covers the name and the star.
        XCTAssertEqual(ls[2].label?.loc.range, 37..<52)
        XCTAssertEqual(ls[1].bodies.count, 1)
    }

    /// `denselayer{index + 1}:` is a computed label: text and expressions written without blanks,
    /// then ':'. A group's body (`seq { relu }`) is never one, nor is a brace after a blank.
    func testComputedLabels() throws {
        let r = parse("denselayer{index + 1}: relu x3\nb{i}_{j}x: relu\nseq{relu}\nseq { relu }\n")
        XCTAssertTrue(r.errors.isEmpty, "\(r.errors)")
        let ls = r.stmts.compactMap { layer($0) }
        XCTAssertEqual(ls.count, 4)
        func parts(_ t: LabelTemplate?) -> [String] {
            (t?.parts ?? []).map { if case .text(let s) = $0 { return "'" + s + "'" } else if case .expr(let e) = $0 { return show(e) } else { return "?" } }
        }
        XCTAssertEqual(parts(ls[0].labelTemplate), ["'denselayer'", "(index + 1)"])
        XCTAssertNil(ls[0].label)
        XCTAssertEqual(ls[0].repeatCount?.count, 3)
        XCTAssertEqual(ls[0].labelTemplate?.loc.range, 0..<21)
        XCTAssertEqual(parts(ls[1].labelTemplate), ["'b'", "i", "'_'", "j", "'x'"])
        XCTAssertNil(ls[2].labelTemplate)
        XCTAssertEqual(ls[2].op.text, "seq")
        XCTAssertEqual(ls[3].bodies.count, 1)
        let bad = parse("layer{1 +}: relu\nrelu\n")
        XCTAssertEqual(bad.errors.map(\.message), ["expected a value, found '}'"])
        XCTAssertEqual(bad.stmts.count, 1, "the next line parses")
    }

    /// `branch NAME [from SOURCE] { ... }` and `order NAME, ...` are statements; written with ':'
    /// they are labels like any other word.
    func testBranchAndOrderStatements() throws {
        let r = parse("branch kv from enc.out { linear 8; relu }\nbranch x {}\norder cls_token, pos_embed, dist_token\nbranch: relu\n")
        XCTAssertTrue(r.errors.isEmpty, "\(r.errors)")
        guard r.stmts.count == 4, case .branch(let b) = r.stmts[0], case .branch(let empty) = r.stmts[1], case .order(let o) = r.stmts[2] else {
            return XCTFail("\(r.stmts)")
        }
        XCTAssertEqual(b.name.text, "kv")
        XCTAssertEqual(b.source.map(show), "enc.out")
        XCTAssertEqual(b.body.count, 2)
        XCTAssertNil(empty.source)
        XCTAssertTrue(empty.body.isEmpty)
        XCTAssertEqual(o.names.map(\.text), ["cls_token", "pos_embed", "dist_token"])
        XCTAssertEqual(layer(r.stmts[3])?.label?.text, "branch")
        let bad = parse("branch { relu }\nbranch kv from { relu }\nbranch kv relu\norder a,\n")
        XCTAssertEqual(bad.errors.map(\.message), [
            "expected a name for the branch's result, as in 'branch kv { ... }', found '{'",
            "expected the label of an earlier layer or an input after 'from'",
            "expected '{' to open the body of branch 'kv'",
            "expected the name of a tensor or module, as in 'order cls_token, pos_embed', found end of line",
        ])
    }

    func testBlocksWithParametersAndDefaults() throws {
        let r = parse("block basic(out, stride = 1, down = off, mlp = dim * 4) {\n  relu\n}\nblock plain { relu }\nblock empty() { }")
        XCTAssertTrue(r.errors.isEmpty, "\(r.errors)")
        guard r.stmts.count == 3, case .block(let b) = r.stmts[0], case .block(let p) = r.stmts[1], case .block(let e) = r.stmts[2] else {
            return XCTFail("expected three blocks: \(r.stmts)")
        }
        XCTAssertEqual(b.name.text, "basic")
        XCTAssertEqual(b.params.map(\.name.text), ["out", "stride", "down", "mlp"])
        XCTAssertEqual(b.params.map { $0.defaultValue.map(show) }, [nil, "1", "off", "(dim * 4)"])
        XCTAssertEqual(b.body.count, 1)
        XCTAssertEqual(p.params.count, 0)
        XCTAssertEqual(p.body.count, 1)
        XCTAssertEqual(e.params.count, 0)
        XCTAssertEqual(e.body.count, 0)
    }

    func testIfElseIfElse() throws {
        let r = parse("if a == 1 { relu } else if a > 2 and b { gelu\n tanh } else { silu }")
        XCTAssertTrue(r.errors.isEmpty, "\(r.errors)")
        guard case .ifStmt(let s)? = r.stmts.first else { return XCTFail("not an if") }
        XCTAssertEqual(show(s.condition), "(a == 1)")
        XCTAssertEqual(s.then.count, 1)
        guard case .ifStmt(let inner)? = s.otherwise?.first else { return XCTFail("else if is an if in the else branch") }
        XCTAssertEqual(s.otherwise?.count, 1)
        XCTAssertEqual(show(inner.condition), "((a > 2) and b)")
        XCTAssertEqual(inner.then.count, 2)
        XCTAssertEqual(inner.otherwise.map { $0.compactMap { layer($0)?.op.text } }, ["silu"])
        // No else.
        guard case .ifStmt(let plain)? = parse("if on { relu }").stmts.first else { return XCTFail("not an if") }
        XCTAssertNil(plain.otherwise)
    }

    func testResidualShortcutAndSeparators() throws {
        let r = parse("residual { conv 3 64; batchnorm ; ; relu } shortcut { conv 1 64; batchnorm }\nseq { linear 8 }; relu")
        XCTAssertTrue(r.errors.isEmpty, "\(r.errors)")
        XCTAssertEqual(r.stmts.count, 3)
        let res = try XCTUnwrap(layer(r.stmts[0]))
        XCTAssertEqual(res.bodies.count, 2)
        XCTAssertNil(res.bodies[0].keyword)
        XCTAssertEqual(res.bodies[0].stmts.compactMap { layer($0)?.op.text }, ["conv", "batchnorm", "relu"])
        XCTAssertEqual(res.bodies[1].keyword?.text, "shortcut")
        XCTAssertEqual(res.bodies[1].stmts.count, 2)
        XCTAssertEqual(layer(r.stmts[2])?.op.text, "relu")
    }

    func testExpressions() throws {
        let r = parse("op a + b * 2 - c / 4 % 3 (x) [seq, 768] [a + 1] 3xHxW x == 1 or y != 2 and z <= 3")
        XCTAssertTrue(r.errors.isEmpty, "\(r.errors)")
        let l = try XCTUnwrap(layer(r.stmts.first))
        XCTAssertEqual(l.args.map(show), ["((a + (b * 2)) - ((c / 4) % 3))", "(x)", "[seq, 768]", "[(a + 1)]", "3xHxW",
                                          "((x == 1) or ((y != 2) and (z <= 3)))"])
        XCTAssertNil(l.args[1].word, "a parenthesised name is a value, not a keyword")
        XCTAssertEqual(l.args[2].word, nil)
        XCTAssertEqual(parse("linear 1_000").stmts.compactMap { layer($0)?.args.map(show) }, [["1000"]])
    }

    func testModelAndInputs() throws {
        let r = parse("model tiny\ninput ids [seq] tokens\ninput image 3x224x224")
        XCTAssertTrue(r.errors.isEmpty, "\(r.errors)")
        guard r.stmts.count == 3, case .model(let m) = r.stmts[0], case .input(let a) = r.stmts[1], case .input(let b) = r.stmts[2] else {
            return XCTFail("\(r.stmts)")
        }
        XCTAssertEqual(m.text, "tiny")
        XCTAssertEqual(a.name.text, "ids")
        XCTAssertEqual(show(a.shape), "[seq]")
        XCTAssertEqual(a.options.map(show), ["tokens"])
        XCTAssertEqual(show(b.shape), "3x224x224")
        XCTAssertEqual(parse("input x").errors.map(\.message), ["expected a shape after 'input x', as in 3x224x224 or [seq]"])
    }

    func testSeveralSyntaxErrorsAreAllReported() {
        let r = parse("""
        input x 8
        linear 8 )
        relu
        block b(a b)
        linear 16 64k
        if
        gelu
        conv 3 16 x2 x3
        fc: 12: relu
        """)
        XCTAssertEqual(r.errors.map { "\($0.line):\($0.col): \($0.message)" }, [
            "2:10: expected a value, found ')'",
            "4:11: expected ',' or ')' in the parameter list, found 'b'",
            "5:11: malformed number '64k'",
            "6:3: expected a value, found end of line",
            "8:14: repetition given twice",
            "9:5: expected a layer, found '12'",
        ])
        // The good lines between them survive.
        XCTAssertEqual(r.stmts.compactMap { if case .layer(let l) = $0 { return l.op.text } else { return nil } }, ["relu", "gelu", "conv"])
    }

    /// An error on a line that opens a brace reports the error first. (Not asserted: the skipped
    /// '{' then leaves its '}' unmatched, a second, spurious error; reported as a bug.)
    func testErrorBeforeAnOpeningBrace() {
        XCTAssertEqual(parse("block b(a b) {\n  relu\n}").errors.first.map { "\($0.line):\($0.col): \($0.message)" },
                       "1:11: expected ',' or ')' in the parameter list, found 'b'")
        XCTAssertEqual(parse("if { relu }").errors.first?.message, "expected a value, found '{'")
    }

    func testOtherSyntaxErrors() {
        func first(_ s: String) -> String? { parse(s).errors.first?.message }
        XCTAssertEqual(first("if on { relu } else relu"), "expected '{' or 'if' after 'else'")
        XCTAssertEqual(first("a: if on { relu }"), "a label names a layer, not an 'if'")
        XCTAssertEqual(first("block b(x)\nrelu"), "expected '{' to open the body of block 'b'")
        XCTAssertEqual(first("block { relu }"), "expected a block name after 'block', found '{'")
        XCTAssertEqual(first("model\n"), "expected a model name after 'model', found end of line")
        XCTAssertEqual(first("linear 99999999999999999999"), "integer 99999999999999999999 is too large")
        XCTAssertEqual(first("relu x99999999999999999999"), "repetition count 99999999999999999999 is too large")
        XCTAssertEqual(first("op [1, 2"), "expected ',' or ']' in a list, found end of file")
        XCTAssertEqual(first("op (1 + 2"), "expected ')', found end of file")
        XCTAssertEqual(first(": relu"), "expected a layer, found ':'")
    }

    func testUnmatchedBraces() {
        let extra = parse("relu\n}\ngelu }")
        XCTAssertEqual(extra.errors.map { "\($0.line):\($0.col): \($0.message)" }, ["2:1: unmatched '}'", "3:6: unmatched '}'"])
        XCTAssertEqual(extra.stmts.count, 2)
        let missing = parse("seq {\n  relu\n  seq { gelu }\n")
        XCTAssertEqual(missing.errors.map { "\($0.line):\($0.col): \($0.message)" }, ["1:5: missing '}' to close this '{'"])
        XCTAssertEqual(missing.stmts.count, 0, "an unclosed body is dropped")
    }

    func testNestingLimit() {
        func nested(_ n: Int) -> String { String(repeating: "seq { ", count: n) + "relu" + String(repeating: " }", count: n) }
        XCTAssertTrue(parse(nested(Parser.maxNesting)).errors.isEmpty)
        let deep = parse(nested(Parser.maxNesting + 1) + "\nrelu\n" + nested(Parser.maxNesting + 5))
        XCTAssertEqual(deep.errors.map { "\($0.line):\($0.col): \($0.message)" },
                       ["1:\(6 * Parser.maxNesting + 5): blocks nested more than 64 deep", "3:\(6 * Parser.maxNesting + 5): blocks nested more than 64 deep"])
        XCTAssertEqual(deep.stmts.count, 3, "the line between the two deep nests is kept")
        func parens(_ n: Int) -> String { "op " + String(repeating: "(", count: n) + "1" + String(repeating: ")", count: n) }
        XCTAssertTrue(parse(parens(Parser.maxNesting)).errors.isEmpty)
        XCTAssertEqual(parse(parens(Parser.maxNesting + 1)).errors.map(\.message), ["expression nested more than 64 deep"])
        let ops = "op " + Array(repeating: "1", count: Parser.maxOperators + 2).joined(separator: " + ")
        XCTAssertEqual(parse(ops).errors.map(\.message), ["expression has more than 256 operators"])
        XCTAssertTrue(parse("op " + Array(repeating: "1", count: Parser.maxOperators + 1).joined(separator: " + ")).errors.isEmpty)
    }
}

/// Recursive-descent parser, one function per grammar rule of Grammar.md. Errors are collected;
/// after one the parser skips to the end of the line and goes on, so a file reports them all.
public struct Parser {
    let file: SourceFile
    let tokens: [Token]
    var index = 0
    let diags: DiagnosticEngine
    var depth = 0
    public static let maxNesting = 64
    /// Operators in one argument; bounds the depth of expression trees (and of their evaluation).
    var operatorCount = 0
    var elseIfDepth = 0
    public static let maxElseIf = 256
    public static let maxOperators = 256

    /// Labels written like a repetition (`x0: linear 8`): in this file `x0` names that layer.
    let repetitionLikeLabels: Set<String>

    public init(file: SourceFile, diags: DiagnosticEngine) {
        self.file = file
        self.diags = diags
        let tokens = Lexer.tokenize(file, diags: diags)
        self.tokens = tokens
        self.repetitionLikeLabels = Set(zip(tokens, tokens.dropFirst()).filter { $0.0.kind == .repeat_ && $0.1.kind == .colon }
            .map { file.text($0.0.range) })
    }

    public static func parse(_ file: SourceFile, diags: DiagnosticEngine) -> SourceUnit {
        var p = Parser(file: file, diags: diags)
        return p.parseFile()
    }

    // MARK: token helpers

    var current: Token { tokens[index] }
    func peekKind(_ k: Int = 1) -> Token.Kind { tokens[min(index + k, tokens.count - 1)].kind }
    func text(_ t: Token) -> String { file.text(t.range) }
    func loc(_ t: Token) -> SourceLoc { SourceLoc(file, t.range) }
    func loc(from start: Int) -> SourceLoc {
        let end = index > 0 ? max(start, tokens[index - 1].range.upperBound) : start
        return SourceLoc(file, start..<end)
    }
    mutating func advance() -> Token {
        let t = tokens[index]
        if t.kind != .eof { index += 1 }
        return t
    }
    func at(_ k: Token.Kind) -> Bool { current.kind == k }
    func atWord(_ w: String) -> Bool { current.kind == .name && text(current) == w }
    func atLineEnd() -> Bool { [.newline, .semicolon, .eof].contains(current.kind) }

    mutating func expect(_ k: Token.Kind, _ what: String) -> Token? {
        if at(k) { return advance() }
        error("expected \(what), found \(describe(current))", at: current)
        return nil
    }

    func describe(_ t: Token) -> String {
        switch t.kind {
        case .newline: return "end of line"
        case .eof: return "end of file"
        default: return "'\(text(t))'"
        }
    }

    func error(_ m: String, at t: Token, notes: [Diagnostic.Note] = []) {
        // At the end of a line, point just after its last token (before any comment).
        let atEnd = t.kind == .newline || t.kind == .eof
        let end = atEnd && index > 0 && tokens[index - 1].kind != .newline ? tokens[index - 1].range.upperBound : t.range.lowerBound
        let range = atEnd ? end..<end : t.range
        diags.error(m, at: SourceLoc(file, range), notes: notes)
    }

    /// Skip to the end of the current line (error recovery), without eating a closing brace that
    /// belongs to an enclosing body; a body opened on the skipped line is skipped whole.
    mutating func synchronize() {
        var level = 0
        while !at(.eof) {
            if at(.lbrace) { level += 1 } else if at(.rbrace) {
                if level == 0 { return }
                level -= 1
                if level == 0 { _ = advance(); if atLineEnd() { return } else { continue } }
            } else if level == 0 && atLineEnd() {
                return
            }
            _ = advance()
        }
    }

    mutating func skipSeparators() {
        while at(.newline) || at(.semicolon) { _ = advance() }
    }

    // MARK: file = { statement } EOF

    public mutating func parseFile() -> SourceUnit {
        var stmts: [Stmt] = []
        while true {
            skipSeparators()
            if at(.eof) { break }
            if at(.rbrace) {
                error("unmatched '}'", at: advance())
                continue
            }
            if let s = parseStatement() { stmts.append(s) }
            endStatement()
        }
        return SourceUnit(file: file, stmts: stmts)
    }

    /// After a statement: a newline, ';', '}' or end of file must follow.
    mutating func endStatement() {
        if atLineEnd() || at(.rbrace) { return }
        error("expected end of line after statement, found \(describe(current))", at: current)
        synchronize()
    }

    // MARK: statement = model | input | block | if | branch | order | layer

    mutating func parseStatement() -> Stmt? {
        if at(.name) && peekKind() != .colon {
            switch text(current) {
            case "model": return parseModel()
            case "input": return parseInput()
            case "block": return parseBlock()
            case "if": return parseIf()
            case "branch": return parseBranch()
            case "order": return parseOrder()
            case "else":
                error("'else' must follow the '}' of an 'if' on the same line", at: current,
                      notes: [.init("write '} else {'")])
                _ = advance()
                synchronize()
                return nil
            default: break
            }
        }
        return parseLayer()
    }

    // model = "model" NAME
    mutating func parseModel() -> Stmt? {
        _ = advance()
        guard let name = expect(.name, "a model name after 'model'") else { synchronize(); return nil }
        return .model(Identifier(text(name), loc(name)))
    }

    // input = "input" NAME shape { option }
    mutating func parseInput() -> Stmt? {
        let start = advance().range.lowerBound
        guard let name = expect(.name, "an input name, as in 'input image 3x224x224'") else { synchronize(); return nil }
        if atLineEnd() {
            error("expected a shape after 'input \(text(name))', as in 3x224x224 or [seq]", at: current)
            return nil
        }
        guard let shape = parseArgument() else { synchronize(); return nil }
        var options: [Expr] = []
        while !atLineEnd() && !at(.rbrace) {
            guard let e = parseArgument() else { synchronize(); break }
            options.append(e)
        }
        return .input(InputDecl(name: Identifier(text(name), loc(name)), shape: shape, options: options, loc: loc(from: start)))
    }

    // block = "block" NAME [ "(" param { "," param } ")" ] "{" body "}"
    mutating func parseBlock() -> Stmt? {
        let start = advance().range.lowerBound
        guard let name = expect(.name, "a block name after 'block'") else { synchronize(); return nil }
        var params: [BlockDecl.Param] = []
        if at(.lparen) {
            _ = advance()
            while !at(.rparen) {
                guard let p = expect(.name, "a parameter name") else { synchronize(); return nil }
                var def: Expr?
                if at(.equal) {
                    _ = advance()
                    guard let e = parseArgument() else { synchronize(); return nil }
                    def = e
                }
                params.append(.init(name: Identifier(text(p), loc(p)), defaultValue: def))
                if at(.comma) { _ = advance(); continue }
                if !at(.rparen) {
                    error("expected ',' or ')' in the parameter list, found \(describe(current))", at: current)
                    synchronize()
                    return nil
                }
            }
            _ = advance()
        }
        let declLoc = loc(from: start)
        guard at(.lbrace) else {
            error("expected '{' to open the body of block '\(text(name))'", at: current)
            synchronize()
            return nil
        }
        guard let body = parseBody() else { return nil }
        return .block(BlockDecl(name: Identifier(text(name), loc(name)), params: params, body: body, loc: declLoc))
    }

    // if = "if" expr "{" body "}" [ "else" ( if | "{" body "}" ) ]
    mutating func parseIf() -> Stmt? {
        let start = advance().range.lowerBound
        guard let cond = parseExpression() else { synchronize(); return nil }
        let headLoc = loc(from: start)
        guard at(.lbrace) else {
            error("expected '{' after the condition of 'if'", at: current)
            synchronize()
            return nil
        }
        guard let then = parseBody() else { return nil }
        var otherwise: [Stmt]?
        if atWord("else") {
            _ = advance()
            if atWord("if") {
                // An `else if` chain is parsed by recursion, so its length is bounded.
                elseIfDepth += 1
                defer { elseIfDepth -= 1 }
                if elseIfDepth > Parser.maxElseIf {
                    error("more than \(Parser.maxElseIf) 'else if' branches in one chain", at: current,
                          notes: [.init("split the choice into a block, or use fewer branches")])
                    synchronize()
                    return nil
                }
                if let s = parseIf() { otherwise = [s] }
            } else if at(.lbrace) {
                otherwise = parseBody()
            } else {
                error("expected '{' or 'if' after 'else'", at: current)
                synchronize()
            }
        }
        return .ifStmt(IfStmt(condition: cond, then: then, otherwise: otherwise, loc: headLoc))
    }

    // layer = [ label ":" ] NAME { argument | repeat } [ "{" body "}" { NAME "{" body "}" } ]
    mutating func parseLayer() -> Stmt? {
        let start = current.range.lowerBound
        var label: Identifier?
        var template: LabelTemplate?
        if atLabelTemplate() {
            guard let t = parseLabelTemplate() else { return nil }
            template = t
            if atWord("if") {
                error("a label names a layer, not an 'if'", at: current, notes: [.init("put the label on a layer inside the 'if'")])
                return parseIf()
            }
        } else if (at(.name) || at(.int) || at(.repeat_)) && peekKind() == .colon {
            let t = advance()
            label = Identifier(text(t), loc(t))
            _ = advance()
            if atWord("if") {
                error("a label names a layer, not an 'if'", at: current, notes: [.init("put the label on a layer inside the 'if'")])
                return parseIf()
            }
        } else if at(.name) && peekKind() == .star && peekKind(2) == .colon {
            // `encoder_layer_*: layer x12` names the repetitions encoder_layer_0, encoder_layer_1, ...
            let t = advance()
            let star = advance()
            label = Identifier(text(t) + "*", SourceLoc(file, t.range.lowerBound..<star.range.upperBound))
            _ = advance()
            if atWord("if") {
                error("a label names a layer, not an 'if'", at: current, notes: [.init("put the label on a layer inside the 'if'")])
                return parseIf()
            }
        }
        guard at(.name) else {
            error("expected a layer, found \(describe(current))", at: current,
                  notes: [.init("a layer line starts with an op name, as in 'conv 3 64 stride 2'")])
            synchronize()
            return nil
        }
        let opTok = advance()
        var args: [Expr] = []
        var rep: (Int, SourceLoc)?
        while !atLineEnd() && !at(.lbrace) && !at(.rbrace) {
            if at(.repeat_) && !repetitionLikeLabels.contains(text(current)) {
                let t = advance()
                let digits = text(t).dropFirst()
                if rep != nil { error("repetition given twice", at: t) }
                if let n = Int(digits) { rep = (n, loc(t)) } else { error("repetition count \(digits) is too large", at: t) }
                continue
            }
            guard let e = parseArgument() else { synchronize(); return nil }
            args.append(e)
        }
        let lineLoc = loc(from: start)
        var bodies: [LayerStmt.Body] = []
        if at(.lbrace) {
            guard let b = parseBody() else { return nil }
            bodies.append(.init(keyword: nil, stmts: b))
            while at(.name) && peekKind() == .lbrace {
                let kw = advance()
                guard let b = parseBody() else { return nil }
                bodies.append(.init(keyword: Identifier(text(kw), loc(kw)), stmts: b))
            }
        }
        return .layer(LayerStmt(label: label, labelTemplate: template, op: Identifier(text(opTok), loc(opTok)), args: args,
                                repeatCount: rep, bodies: bodies, loc: lineLoc))
    }

    // body = "{" { statement } "}"
    mutating func parseBody() -> [Stmt]? {
        let open = advance()
        depth += 1
        defer { depth -= 1 }
        if depth > Parser.maxNesting {
            error("blocks nested more than \(Parser.maxNesting) deep", at: open)
            // Skip the whole nested region so recovery does not cascade.
            var level = 1
            while level > 0 && !at(.eof) {
                if at(.lbrace) { level += 1 } else if at(.rbrace) { level -= 1 }
                _ = advance()
            }
            return nil
        }
        var stmts: [Stmt] = []
        while true {
            skipSeparators()
            if at(.rbrace) { _ = advance(); break }
            if at(.eof) {
                error("missing '}' to close this '{'", at: open)
                return nil  // the statement is dropped: checking half a body would only add noise
            }
            if let s = parseStatement() { stmts.append(s) }
            endStatement()
        }
        return stmts
    }

    // MARK: expressions
    // argument = comparison (arguments are separated by blanks; operators join them)

    mutating func parseArgument() -> Expr? {
        operatorCount = 0
        return parseExpression()
    }

    /// Counts an operator; false (with an error) past the limit.
    mutating func countOperator(_ t: Token) -> Bool {
        operatorCount += 1
        if operatorCount == Parser.maxOperators + 1 {
            error("expression has more than \(Parser.maxOperators) operators", at: t)
        }
        return operatorCount <= Parser.maxOperators
    }

    mutating func parseExpression() -> Expr? { parseOr() }

    // or = and { "or" and }
    mutating func parseOr() -> Expr? {
        guard var lhs = parseAnd() else { return nil }
        while atWord("or") {
            guard countOperator(advance()) else { return nil }
            guard let rhs = parseAnd() else { return nil }
            lhs = Expr(.binary(.or, lhs, rhs), SourceLoc(file, lhs.loc.start..<rhs.loc.range.upperBound))
        }
        return lhs
    }

    // and = comparison { "and" comparison }
    mutating func parseAnd() -> Expr? {
        guard var lhs = parseComparison() else { return nil }
        while atWord("and") {
            guard countOperator(advance()) else { return nil }
            guard let rhs = parseComparison() else { return nil }
            lhs = Expr(.binary(.and, lhs, rhs), SourceLoc(file, lhs.loc.start..<rhs.loc.range.upperBound))
        }
        return lhs
    }

    // comparison = sum [ ("==" | "!=" | "<" | "<=" | ">" | ">=") sum ]
    mutating func parseComparison() -> Expr? {
        guard let lhs = parseSum() else { return nil }
        let ops: [Token.Kind: BinaryOp] = [.eqeq: .eq, .noteq: .ne, .less: .lt, .lesseq: .le, .greater: .gt, .greatereq: .ge]
        if let op = ops[current.kind] {
            _ = advance()
            guard let rhs = parseSum() else { return nil }
            return Expr(.binary(op, lhs, rhs), SourceLoc(file, lhs.loc.start..<rhs.loc.range.upperBound))
        }
        return lhs
    }

    // sum = product { ("+" | "-") product }
    mutating func parseSum() -> Expr? {
        guard var lhs = parseProduct() else { return nil }
        while at(.plus) || at(.minus) {
            let t = advance()
            guard countOperator(t) else { return nil }
            let op: BinaryOp = t.kind == .plus ? .add : .sub
            guard let rhs = parseProduct() else { return nil }
            lhs = Expr(.binary(op, lhs, rhs), SourceLoc(file, lhs.loc.start..<rhs.loc.range.upperBound))
        }
        return lhs
    }

    // product = primary { ("*" | "/" | "%") primary }
    mutating func parseProduct() -> Expr? {
        guard var lhs = parsePrimary() else { return nil }
        while at(.star) || at(.slash) || at(.percent) {
            let t = advance()
            guard countOperator(t) else { return nil }
            let k = t.kind
            let op: BinaryOp = k == .star ? .mul : k == .slash ? .div : .mod
            guard let rhs = parsePrimary() else { return nil }
            lhs = Expr(.binary(op, lhs, rhs), SourceLoc(file, lhs.loc.start..<rhs.loc.range.upperBound))
        }
        return lhs
    }

    // primary = INT | FLOAT | DIMS | NAME | "(" expr ")" | "[" expr { "," expr } "]"
    mutating func parsePrimary() -> Expr? {
        let t = current
        switch t.kind {
        case .int:
            _ = advance()
            let s = text(t).filter { $0 != "_" }
            guard let v = Int(s) else {
                error("integer \(s) is too large", at: t)
                return Expr(.bad, loc(t))
            }
            return Expr(.int(v), loc(t))
        case .float:
            _ = advance()
            return Expr(.float(Double(text(t).filter { $0 != "_" }) ?? .nan), loc(t))
        case .dims:
            _ = advance()
            return Expr(.dims(text(t).split(separator: "x").map(String.init)), loc(t))
        case .name:
            _ = advance()
            return Expr(.name(text(t)), loc(t))
        case .repeat_ where repetitionLikeLabels.contains(text(t)):
            _ = advance()
            return Expr(.name(text(t)), loc(t))
        case .lparen, .lbracket:
            _ = advance()
            depth += 1
            defer { depth -= 1 }
            if depth > Parser.maxNesting {
                error("expression nested more than \(Parser.maxNesting) deep", at: t)
                return nil
            }
            if t.kind == .lparen {
                guard let e = parseExpression() else { return nil }
                guard expect(.rparen, "')'") != nil else { return nil }
                return Expr(e.kind, loc(from: t.range.lowerBound), grouped: true)
            }
            var items: [Expr] = []
            while !at(.rbracket) {
                guard let e = parseExpression() else { return nil }
                items.append(e)
                if at(.comma) { _ = advance() } else if !at(.rbracket) {
                    error("expected ',' or ']' in a list, found \(describe(current))", at: current)
                    return nil
                }
            }
            _ = advance()
            return Expr(.list(items), loc(from: t.range.lowerBound))
        case .invalid:
            _ = advance()
            return nil
        default:
            error("expected a value, found \(describe(t))", at: t)
            return nil
        }
    }
}

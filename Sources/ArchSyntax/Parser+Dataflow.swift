/// The statements and labels that shape the dataflow and the names: `branch`, `order` and
/// computed labels (`denselayer{index + 1}:`).
extension Parser {
    // branch = "branch" NAME [ "from" expr ] body
    mutating func parseBranch() -> Stmt? {
        let start = advance().range.lowerBound
        guard let name = expect(.name, "a name for the branch's result, as in 'branch kv { ... }'") else { synchronize(); return nil }
        var source: Expr?
        if atWord("from") {
            _ = advance()
            guard !at(.lbrace) && !atLineEnd() else {
                error("expected the label of an earlier layer or an input after 'from'", at: current)
                synchronize()
                return nil
            }
            guard let e = parseArgument() else { synchronize(); return nil }
            source = e
        }
        let headLoc = loc(from: start)
        guard at(.lbrace) else {
            error("expected '{' to open the body of branch '\(text(name))'", at: current,
                  notes: [.init("a branch is written 'branch NAME [from LABEL] { layers }'")])
            synchronize()
            return nil
        }
        guard let body = parseBody() else { return nil }
        return .branch(BranchStmt(name: Identifier(text(name), loc(name)), source: source, body: body, loc: headLoc))
    }

    // order = "order" NAME { "," NAME }
    mutating func parseOrder() -> Stmt? {
        let start = advance().range.lowerBound
        var names: [Identifier] = []
        repeat {
            if !names.isEmpty { _ = advance() }
            guard let n = expect(.name, "the name of a tensor or module, as in 'order cls_token, pos_embed'") else { synchronize(); return nil }
            names.append(Identifier(text(n), loc(n)))
        } while at(.comma)
        return .order(OrderStmt(names: names, loc: loc(from: start)))
    }

    // label = ... | NAME "{" expr "}" { NAME | "{" expr "}" }   (its parts written without blanks)
    /// Whether the line starts with a computed label: a name directly followed by `{ expr }` parts
    /// (and more name parts), then `:`. A group's body (`seq { ... }`) is never followed by `:`.
    func atLabelTemplate() -> Bool {
        func token(_ k: Int) -> Token { tokens[min(k, tokens.count - 1)] }
        var k = index
        guard token(k).kind == .name else { return false }
        var parts = 0
        while true {
            let prev = token(k), next = token(k + 1)
            let adjacent = prev.range.upperBound == next.range.lowerBound
            if next.kind == .lbrace && adjacent {
                var level = 0, j = k + 1
                repeat {
                    let t = token(j)
                    if [.newline, .semicolon, .eof].contains(t.kind) { return false }
                    if t.kind == .lbrace { level += 1 } else if t.kind == .rbrace { level -= 1 }
                    j += 1
                } while level > 0
                k = j - 1
                parts += 1
            } else if next.kind == .name && adjacent && prev.kind == .rbrace {
                k += 1
            } else {
                return parts > 0 && next.kind == .colon
            }
        }
    }

    /// The computed label and its `:` (the caller has checked `atLabelTemplate`).
    mutating func parseLabelTemplate() -> LabelTemplate? {
        let start = current.range.lowerBound
        var parts: [LabelTemplate.Part] = [.text(text(advance()))]
        // After an error the rest of the line goes (its braces are the label's, not a body's).
        func skipLine() { while !atLineEnd() { _ = advance() } }
        while at(.lbrace) {
            _ = advance()
            guard let e = parseArgument() else { skipLine(); return nil }
            guard expect(.rbrace, "'}' to close the label's expression") != nil else { skipLine(); return nil }
            parts.append(.expr(e))
            if at(.name) && tokens[index - 1].range.upperBound == current.range.lowerBound { parts.append(.text(text(advance()))) }
        }
        let labelLoc = loc(from: start)
        _ = advance()  // the ':'
        return LabelTemplate(parts: parts, loc: labelLoc)
    }
}

import ArchSyntax

extension Elaborator {
    /// Expands a user block: binds its parameters (positional, then `name value`), opens a module
    /// named by the label or position, and elaborates the body with the parameters in scope.
    func expandBlock(_ b: BlockDecl, call l: LayerStmt, args: [Expr], label: Identifier?, input: Int?) -> Int? {
        let name = b.name.text
        usedBlocks.insert(name)
        // Problems with the use itself (recursion, arguments) are reported at the use site, without
        // the "in block ... used at" note of this use (pushed by elaborateLayer), which only applies to the body.
        let use = trace.count - 1
        trace[use].showsNote = false
        defer { trace[use].showsNote = true }
        if blockStack.contains(name) {
            error("block '\(name)' uses itself: \((blockStack + [name]).joined(separator: " -> "))", at: l.op.loc,
                  notes: [.init("blocks cannot be recursive; repeat with xN instead")])
            aborted = true
            return nil
        }
        if blockStack.count >= limits.blockDepth {
            error("blocks nested more than \(limits.blockDepth) deep", at: l.op.loc)
            aborted = true
            return nil
        }
        guard let (calleeEnv, argumentLocs, sources) = bindBlockArguments(b, args: args, callLoc: l.op.loc, input: input) else {
            _ = nextName(label: label)
            return nil
        }
        let module = openModule(name: nextName(label: label), type: name, loc: l.loc)
        graph.modules[module].arguments = b.params.compactMap { p in
            calleeEnv[p.name.text].map { Graph.Argument(name: p.name.text, value: $0, source: sources[p.name.text]) }
        }
        let (savedEnv, savedUnknown) = (env, unknownNames)
        env = calleeEnv
        // After a failed layer the input is unknown, and so are the facts about it.
        unknownNames = input == nil ? ["dim", "channels"] : []
        blockStack.append(name)
        trace[use].arguments = argumentLocs
        trace[use].showsNote = true
        let out = elaborateSequence(b.body, input: input)
        trace[use].showsNote = false
        blockStack.removeLast()
        (env, unknownNames) = (savedEnv, savedUnknown)
        closeModule(module, label: label, value: out)
        return out
    }

    /// A parameter declared twice (`block b(n, n)`) is an error at the second, with a note at the
    /// first; the block keeps the first, so its uses are checked as if written once.
    func uniqueParameters(_ b: BlockDecl) -> BlockDecl {
        var first: [String: SourceLoc] = [:], kept: [BlockDecl.Param] = []
        for p in b.params {
            if let at = first[p.name.text] {
                error("parameter '\(p.name.text)' of block '\(b.name.text)' is declared twice", at: p.name.loc,
                      notes: [.init("first declared here", at: at)])
                continue
            }
            first[p.name.text] = p.name.loc
            kept.append(p)
        }
        var out = b
        out.params = kept
        return out
    }

    /// The bare names an expression mentions.
    static func names(in e: Expr) -> [String] {
        switch e.kind {
        case .name(let n): return [n]
        case .binary(_, let l, let r): return names(in: l) + names(in: r)
        case .list(let xs): return xs.flatMap(names(in:))
        default: return []
        }
    }

    /// The callee's environment (its parameters, `dim`, `channels`, `index`), where each parameter
    /// was given on the using line and as which expression; nil after an error.
    func bindBlockArguments(_ b: BlockDecl, args: [Expr], callLoc: SourceLoc, input: Int?)
        -> (env: [String: Value], locs: [String: SourceLoc], sources: [String: Expr])? {
        let caller = evaluator
        let names = b.params.map(\.name.text)
        var given: [String: Value] = [:], locs: [String: SourceLoc] = [:], sources: [String: Expr] = [:]
        var ok = true
        var pos = 0, i = 0
        func eval(_ e: Expr) -> Value? {
            do { return try caller.eval(e) } catch let err as EvalError { error(err.message, at: err.loc); ok = false } catch {}
            return nil
        }
        while i < args.count {
            let e = args[i]
            if let w = e.word, names.contains(w) {
                // `inner heads mlp` in a block with variables heads and mlp passes both in order: a
                // variable followed by another parameter's name is a value, not a keyword.
                let positional = caller.env[w] != nil && args[(i + 1)...].first?.word.map { $0 != w && names.contains($0) } == true
                if i + 1 < args.count && !positional {
                    if given[w] != nil { error("'\(w)' is given twice", at: e.loc); ok = false }
                    given[w] = eval(args[i + 1])
                    locs[w] = args[i + 1].loc
                    sources[w] = args[i + 1]
                    i += 2
                    continue
                }
                // A last word naming a parameter is a value when the caller has a variable of that name.
                if caller.env[w] == nil && !positional {
                    error("'\(w)' names a parameter of block '\(b.name.text)', but no value follows it", at: e.loc,
                          notes: [.init("write '\(w) VALUE', or '(\(w))' to pass the variable \(w) as a positional argument")])
                    return nil
                }
            }
            if let w = e.word, caller.env[w] == nil, i + 1 < args.count, Suggest.nearest(w, in: names) != nil, !names.contains(w) {
                error("block '\(b.name.text)' has no parameter '\(w)'\(Suggest.didYouMean(w, in: names))", at: e.loc,
                      notes: [.init("its parameters: " + names.joined(separator: ", "), at: b.loc)])
                ok = false
                i += 2
                continue
            }
            while pos < names.count && given[names[pos]] != nil { pos += 1 }
            guard pos < names.count else {
                error("too many arguments: block '\(b.name.text)' takes \(names.count) (\(names.joined(separator: ", ")))", at: e.loc,
                      notes: [.init("block '\(b.name.text)' is defined here", at: b.loc)])
                return nil
            }
            given[names[pos]] = eval(e)
            locs[names[pos]] = e.loc
            sources[names[pos]] = e
            pos += 1
            i += 1
        }
        guard ok else { return nil }
        // The callee sees its parameters and two facts about its input.
        var calleeEnv: [String: Value] = [:]
        // The repetition index of this use is visible inside the block too.
        if let index = env["index"] { calleeEnv["index"] = index }
        if let input {
            let s = graph.values[input].shape
            if let last = s.last { calleeEnv["dim"] = last.value.map(Value.int) ?? .dim(last) }
            if s.count >= 2 { calleeEnv["channels"] = s[1].value.map(Value.int) ?? .dim(s[1]) }
        }
        var missing: [String] = []
        for p in b.params {
            if let v = given[p.name.text] {
                calleeEnv[p.name.text] = v
            } else if let d = p.defaultValue {
                let later = b.params.drop { $0.name.text != p.name.text }.dropFirst().map(\.name.text)
                if let w = Self.names(in: d).first(where: { later.contains($0) && calleeEnv[$0] == nil }) {
                    error("the default of '\(p.name.text)' uses '\(w)', a parameter declared after it", at: d.loc,
                          notes: [.init("declare '\(w)' before '\(p.name.text)'")])
                    return nil
                }
                do { calleeEnv[p.name.text] = try Evaluator(env: calleeEnv, unknown: input == nil ? ["dim", "channels"] : []).eval(d) } catch let err as EvalError {
                    error(err.message, at: err.loc, notes: [.init("evaluating the default of '\(p.name.text)' for the use here", at: callLoc)])
                    return nil
                } catch { return nil }
            } else {
                missing.append(p.name.text)
            }
        }
        if !missing.isEmpty {
            error("block '\(b.name.text)' needs \(missing.joined(separator: " and "))", at: callLoc,
                  notes: [.init("usage: \(b.name.text) " + b.params.map { $0.defaultValue == nil ? $0.name.text.uppercased() : "[\($0.name.text) V]" }.joined(separator: " "), at: b.loc)])
            return nil
        }
        return (calleeEnv, locs, sources)
    }
}

import ArchSyntax

/// Matches a layer line's arguments to an op's signature: positional arguments in order, then
/// `keyword value` options (a flag may stand alone). Every problem is reported, not just the first.
struct ArgumentBinder {
    let evaluator: Evaluator
    let report: (Diagnostic) -> Void
    /// The sizes bound on the command line: a shape's names (`[batch * 4, seq, 16]`) are sizes.
    var sizes: [String: Int] = [:]
    static let maxSize = Int(Int32.max)

    struct Bound {
        var values: [String: Value] = [:]
        var locs: [String: SourceLoc] = [:]
        /// The expression each argument given by one expression was written as.
        var exprs: [String: Expr] = [:]
        var ok = true
    }

    func bind(_ items: [Expr], op: OpSpec, opLoc: SourceLoc) -> Bound {
        var out = Bound()
        func fail(_ m: String, _ loc: SourceLoc, _ notes: [Diagnostic.Note] = []) {
            report(.error(m, at: loc, notes: notes))
            out.ok = false
        }
        var pos = 0
        var i = 0
        var previousFlag: String?
        while i < items.count {
            let flagBefore = previousFlag
            previousFlag = nil
            let e = items[i]
            if let w = e.word, let opt = op.option(w) {
                if out.values[w] != nil { fail("option '\(w)' is given twice", e.loc) }
                if case .flag = opt.kind {
                    if i + 1 < items.count, let v = try? evaluator.eval(items[i + 1]), case .bool = v {
                        out.values[w] = v
                        out.locs[w] = items[i + 1].loc
                        out.exprs[w] = items[i + 1]
                        i += 2
                    } else {
                        out.values[w] = .bool(true)
                        out.locs[w] = e.loc
                        previousFlag = w
                        i += 1
                    }
                    continue
                }
                guard i + 1 < items.count else {
                    fail("option '\(w)' of '\(op.name)' needs a value (\(opt.kind.describe))", e.loc)
                    break
                }
                if let several = bindSeveral(items, from: i + 1, opt, op: op, fail: fail) {
                    if let v = several.value {
                        out.values[w] = v
                        out.locs[w] = items[i + 1].loc
                    }
                    i = several.next
                    continue
                }
                let ve = items[i + 1]
                if let v = check(ve, opt, op: op, fail: fail) {
                    out.values[w] = v
                    out.locs[w] = ve.loc
                    out.exprs[w] = ve
                }
                i += 2
                continue
            }
            // Positional.
            if pos < op.positional.count {
                let spec = op.positional[pos]
                if case .ints = spec.kind {
                    var ints: [Value] = []
                    let first = e.loc
                    while i < items.count, items[i].word.map({ op.option($0) == nil }) ?? true {
                        if let v = check(items[i], ArgSpec(spec.name, .int(min: Int.min)), op: op, fail: fail) { ints.append(v) }
                        i += 1
                    }
                    out.values[spec.name] = .list(ints)
                    out.locs[spec.name] = first
                    pos += 1
                    continue
                }
                if let v = check(e, spec, op: op, fail: fail) {
                    out.values[spec.name] = v
                    out.locs[spec.name] = e.loc
                    out.exprs[spec.name] = e
                }
                pos += 1
                i += 1
                continue
            }
            if let w = e.word, evaluator.env[w] == nil {
                let names = op.options.map(\.name)
                if let flag = flagBefore, Suggest.nearest(w, in: names) == nil {
                    fail("'\(flag)' is a flag: write '\(flag)', '\(flag) on' or '\(flag) off', not '\(flag) \(w)'", e.loc)
                    i += 1
                    continue
                }
                if names.isEmpty {
                    fail("'\(op.name)' takes no option named '\(w)'", e.loc)
                } else {
                    fail("unknown option '\(w)' for '\(op.name)'\(Suggest.didYouMean(w, in: names))", e.loc,
                         [.init("'\(op.name)' accepts: " + names.joined(separator: ", "))])
                    // Its value, if one follows, belongs to it: no second error for a stray argument.
                    if i + 1 < items.count, items[i + 1].word.map({ op.option($0) == nil && evaluator.env[$0] == nil }) != true { i += 1 }
                }
            } else {
                let n = op.positional.count
                let list = op.positional.map(\.name).joined(separator: ", ")
                fail("too many arguments: '\(op.name)' takes \(n == 0 ? "no positional arguments" : "\(n) (\(list))")", e.loc)
            }
            i += 1
        }
        // Defaults and missing arguments.
        let missing = op.positional[min(pos, op.positional.count)...].filter { $0.isRequired && out.values[$0.name] == nil }
        if !missing.isEmpty {
            let sig = op.positional.map { $0.isRequired ? $0.name.uppercased() : "[\($0.name.uppercased())]" }.joined(separator: " ")
            fail("'\(op.name)' needs \(missing.map(\.name).joined(separator: " and "))", opLoc,
                 [.init("usage: \(op.name) \(sig)")])
        }
        for a in op.positional + op.options where out.values[a.name] == nil {
            if let d = a.defaultValue { out.values[a.name] = d }
        }
        return out
    }

    /// The words of a `.names` option from `start`, taken literally (dotted names allowed), up to the
    /// next word that is one of the op's options, or in brackets (`[qkv, proj]`: any names, options'
    /// too); the index after them; what is wrong when there are none. When the first word is an
    /// option's name, it and the bare words after it (the names meant) are passed over; anything else
    /// that is not a name is passed over alone.
    func names(_ items: [Expr], from start: Int, option: String, op: OpSpec)
        -> (words: [Value], next: Int, problem: (String, [Diagnostic.Note])?) {
        if case .list(let elements) = items[start].kind, case let words = elements.compactMap(\.word), words.count == elements.count {
            return (words.map(Value.word), start + 1, nil)
        }
        let first = items[start].word
        let optionFirst = first.map { op.option($0) != nil } == true
        var i = optionFirst ? start + 1 : start
        var words: [Value] = []
        while i < items.count, let w = items[i].word, op.option(w) == nil {
            words.append(.word(w))
            i += 1
        }
        if optionFirst {
            return ([], i, ("'\(first!)' is an option of '\(op.name)', so it is not read as one of the \(option)",
                            [.init("write names that are also options' names in brackets: \(option) [\(first!), ...]")]))
        }
        if words.isEmpty {
            let got = (try? evaluator.eval(items[start]))?.kindName ?? "none"
            return ([], start + 1, ("option '\(option)' of '\(op.name)' needs \(ArgKind.names.describe), got \(got)",
                                    [.init("write the names after it, separated by blanks: \(option) q_proj k_proj v_proj o_proj")]))
        }
        return (words, i, nil)
    }

    /// Options whose value is several items: `init normal 0.02` (a kind, then its number for normal,
    /// uniform and value), `dim 2 3` (integers up to the next option word) and `names q k v o`. The
    /// index after them and the value (nil after an error), or nil for an option of one value.
    func bindSeveral(_ items: [Expr], from start: Int, _ opt: ArgSpec, op: OpSpec,
                     fail: (String, SourceLoc, [Diagnostic.Note]) -> Void) -> (next: Int, value: Value?)? {
        var i = start
        switch opt.kind {
        case .initializer:
            let kinds = ["zeros", "ones", "normal", "uniform", "value"]
            guard let v = check(items[i], ArgSpec(opt.name, .choice(kinds)), op: op, fail: fail), case .word(let kind) = v else { return (i + 1, nil) }
            i += 1
            guard ["normal", "uniform", "value"].contains(kind) else { return (i, .list([v])) }
            guard i < items.count, items[i].word.map({ op.option($0) == nil }) ?? true else {
                fail("'init \(kind)' needs a number, as in 'init \(kind) \(kind == "value" ? "1e-6" : "0.02")'", items[i - 1].loc, [])
                return (i, nil)
            }
            let range = ArgKind.float(min: kind == "value" ? -1e30 : 0, max: 1e30)
            guard let x = check(items[i], ArgSpec(opt.name, range), op: op, fail: fail) else { return (i + 1, nil) }
            return (i + 1, .list([v, x]))
        case .names:
            let r = names(items, from: start, option: opt.name, op: op)
            if let (message, notes) = r.problem {
                fail(message, items[start].loc, notes)
                return (r.next, nil)
            }
            return (r.next, .list(r.words))
        case .axes:
            var axes: [Value] = [], ok = true
            while i < items.count, items[i].word.map({ op.option($0) == nil }) ?? true {
                if let v = check(items[i], ArgSpec(opt.name, .int(min: Int.min)), op: op, fail: fail) { axes.append(v) } else { ok = false }
                i += 1
            }
            return (i, ok ? .list(axes) : nil)
        default:
            return nil
        }
    }

    /// Evaluates an argument and checks it against its kind; reports and returns nil on a mismatch.
    func check(_ e: Expr, _ spec: ArgSpec, op: OpSpec, fail: (String, SourceLoc, [Diagnostic.Note]) -> Void) -> Value? {
        let v: Value
        var evaluator = self.evaluator
        if case .shape = spec.kind {
            evaluator = Evaluator(env: sizes.mapValues(Value.int).merging(evaluator.env) { $1 }, namesAreSizes: true, unknown: evaluator.unknown)
        }
        do { v = try evaluator.eval(e) } catch let err as EvalError {
            fail(err.message, err.loc, [])
            return nil
        } catch { return nil }
        func bad(_ extra: String = "") -> Value? {
            fail("'\(spec.name)' of '\(op.name)' must be \(spec.kind.describe), got \(v.kindName)\(extra)", e.loc, [])
            return nil
        }
        func sizeOK(_ n: Int, min: Int = 1) -> Bool {
            if n < min {
                fail("'\(spec.name)' of '\(op.name)' must be at least \(min), got \(n)", e.loc, [])
                return false
            }
            if n > ArgumentBinder.maxSize {
                fail("'\(spec.name)' of '\(op.name)' is \(n), which is absurdly large (the limit is \(ArgumentBinder.maxSize))", e.loc, [])
                return false
            }
            return true
        }
        switch spec.kind {
        case .int(let m):
            if case .int(let n) = v { return m == Int.min || sizeOK(n, min: m) ? v : nil }
            if case .dim(let d) = v, m >= 1 {
                fail("'\(spec.name)' of '\(op.name)' must be a fixed size, but \(d) is symbolic", e.loc, [.init("bind it with \(d.setHint)")])
                return nil
            }
            return bad()
        case .size, .padding:
            let least = { if case .padding = spec.kind { return 0 } else { return 1 } }()
            if case .int(let n) = v { return sizeOK(n, min: least) ? v : nil }
            if case .list(let vs) = v {
                for x in vs {
                    guard case .int(let n) = x else { return bad() }
                    if !sizeOK(n, min: least) { return nil }
                }
                return v
            }
            return bad()
        case .float(let lo, let hi):
            let x: Double
            switch v {
            case .float(let f): x = f
            case .int(let n): x = Double(n)
            default: return bad()
            }
            guard x.isFinite, x >= lo, x <= hi else {
                fail("'\(spec.name)' of '\(op.name)' must be between \(lo) and \(hi), got \(x)", e.loc, [])
                return nil
            }
            return .float(x)
        case .bool, .flag:
            if case .bool = v { return v }
            return bad()
        case .choice(let ws):
            if case .word(let w) = v {
                if ws.contains(w) { return v }
                fail("'\(w)' is not a valid \(spec.name) for '\(op.name)'\(Suggest.didYouMean(w, in: ws))", e.loc,
                     [.init("expected one of: " + ws.joined(separator: ", "))])
                return nil
            }
            if case .bool(false) = v, ws.contains("off") { return .word("off") }
            return bad()
        case .intOrChoice(let m, let ws):
            if case .int(let n) = v { return sizeOK(n, min: m) ? v : nil }
            if case .word(let w) = v, ws.contains(w) { return v }
            return bad()
        case .sizeOrChoice(let ws):
            if case .word(let w) = v, ws.contains(w) { return v }
            if case .int(let n) = v { return sizeOK(n, min: 0) ? v : nil }
            if case .list(let vs) = v, vs.allSatisfy({ if case .int(let n) = $0 { return n >= 0 && n <= ArgumentBinder.maxSize } else { return false } }) { return v }
            return bad()
        case .ref:
            if case .word = v { return v }
            if let w = e.word { return .word(w) }
            return bad()
        case .ints, .names, .axes, .initializer:
            return v
        case .operand:
            switch v {
            case .word, .int: return v
            case .float(let x) where x.isFinite: return v
            default:
                if let w = e.word { return .word(w) }
                return bad()
            }
        case .name:
            if case .word(let w) = v, !w.contains(".") { return v }
            if case .word = v { fail("'\(spec.name)' of '\(op.name)' must be one name, without '.'", e.loc, []); return nil }
            return bad()
        case .shape:
            if case .int(let n) = v { return .list([.int(n)]) }
            if case .list(let vs) = v {
                for x in vs {
                    if case .int(let n) = x, n > ArgumentBinder.maxSize { _ = sizeOK(n); return nil }
                    if x.asDim == nil { return bad() }
                }
                return v
            }
            return bad()
        }
    }
}

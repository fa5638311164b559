import ArchSyntax

/// Where a line reads from and what its result is called: `from LABEL`, `branch NAME { ... }`,
/// computed labels (`denselayer{index + 1}:`) and the state_dict order (`order A, B`).
extension Elaborator {
    /// What a line reads: the running tensor, another labelled one (`from LABEL`), or nothing
    /// because its source failed (reported, or following from an earlier error).
    enum LineInput {
        case running
        case tensor(Int)
        case failed
    }

    /// Takes `from SOURCE` out of a line's arguments: the line reads that tensor instead of the
    /// running one. An op with a `from` option of its own (embed, sgu) or a block with a parameter
    /// named `from` keeps the word.
    func takeSource(_ args: inout [Expr], op: OpSpec?, block: BlockDecl?) -> LineInput {
        guard let i = args.firstIndex(where: { $0.word == "from" }) else { return .running }
        if op?.option("from") != nil || block?.params.contains(where: { $0.name.text == "from" }) == true { return .running }
        guard i + 1 < args.count else {
            error("'from' needs the label of an earlier layer or an input", at: args[i].loc, notes: [.init("for example: linear 64 from x")])
            return .failed
        }
        let source = args[i + 1]
        args.removeSubrange(i...(i + 1))
        if let again = args.first(where: { $0.word == "from" }) {
            error("'from' is given twice", at: again.loc, notes: [.init("a line reads one tensor; combine others with add, mul or concat")])
            return .failed
        }
        return sourceTensor(source).map { .tensor($0.value) } ?? .failed
    }

    /// The tensor a `from` names: a label, an input, a dotted member (`enc.kv`), or a block
    /// parameter given one of these.
    func sourceTensor(_ e: Expr) -> LabelInfo? {
        let v: Value
        do { v = try evaluator.eval(e) } catch let err as EvalError {
            error(err.message, at: err.loc)
            return nil
        } catch { return nil }
        guard case .word(let w) = v else {
            error("'from' takes the label of an earlier layer or an input, not \(v.kindName)", at: e.loc)
            return nil
        }
        return resolveReference(w, at: e.loc)
    }

    /// `branch NAME [from SOURCE] { ... }`: the body runs on the running tensor (or SOURCE), its
    /// layers named in the enclosing group; its result is labelled NAME and the running tensor stays.
    /// An empty body labels its input.
    func elaborateBranch(_ b: BranchStmt, input: Int?) {
        let name = b.name.text
        if let first = scopes[scopes.count - 1].labels[name] {
            error("'\(name)' is already a label here", at: b.name.loc,
                  notes: [.init("the first '\(name)' is here", at: first.loc), .init("give the branch another name")])
            return
        }
        var start = input
        if let source = b.source {
            guard let info = sourceTensor(source) else {
                scopes[scopes.count - 1].poisoned.insert(name)
                return
            }
            start = info.value
        }
        let first = graph.nodes.count
        guard let out = elaborateSequence(b.body, input: start) else {
            scopes[scopes.count - 1].poisoned.insert(name)
            return
        }
        scopes[scopes.count - 1].labels[name] = LabelInfo(value: out, nodes: first..<graph.nodes.count, loc: b.name.loc)
    }

    /// A computed label's text for this expansion: each expression a whole number >= 0 or a name.
    func evaluateLabel(_ t: LabelTemplate) -> Identifier? {
        var text = ""
        for part in t.parts {
            switch part {
            case .text(let s): text += s
            case .expr(let e):
                let v: Value
                do { v = try evaluator.eval(e) } catch let err as EvalError {
                    error(err.message, at: err.loc)
                    return nil
                } catch { return nil }
                switch v {
                case .int(let n) where n >= 0: text += String(n)
                case .word(let w): text += w
                default:
                    error("a part of a label must be a whole number >= 0 or a name, got \(v.kindName)", at: e.loc,
                          notes: [.init("for example: denselayer{index + 1}")])
                    return nil
                }
            }
        }
        return Identifier(text, t.loc)
    }

    /// `order A, B, ...`: each name a tensor or module of the model, named once. The state_dict
    /// (and `--names`, `init`, `emit torch`) lists them first among their siblings, in this order.
    /// Names are not checked after another error (the layers that declare them may have failed).
    func applyOrder(_ orders: [OrderStmt]) {
        let checkNames = !diags.hasErrors
        let modules = Set(graph.modules.map(\.name))
        var seen: [String: SourceLoc] = [:]
        for n in orders.flatMap(\.names) {
            if let first = seen[n.text] {
                error("'\(n.text)' is ordered twice", at: n.loc, notes: [.init("first ordered here", at: first)])
                continue
            }
            seen[n.text] = n.loc
            guard paramNames.contains(n.text) || modules.contains(n.text) else {
                if checkNames {
                    error("'order' names '\(n.text)', which is neither a tensor nor a module of the model" +
                          Suggest.didYouMean(n.text, in: Array(paramNames) + Array(modules)), at: n.loc,
                          notes: [.init("write full names, as 'archc params --names' lists them")])
                }
                continue
            }
            graph.stateDictFirst.append(n.text)
        }
    }
}

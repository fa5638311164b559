import ArchSyntax

extension Elaborator {
    /// `seq`, `residual` and `parallel`: ops whose bodies are layers.
    func applyStructure(_ op: OpSpec, line l: LayerStmt, args: [Expr], label: Identifier?, input: Int?) -> Int? {
        let bound = ArgumentBinder(evaluator: evaluator, report: report, sizes: bindings).bind(args, op: op, opLoc: l.op.loc)
        let allowed = op.body == .residual ? ["shortcut"] : []
        for b in l.bodies.dropFirst() {
            guard let kw = b.keyword, allowed.contains(kw.text) else {
                error("'\(op.name)' takes no '\(b.keyword?.text ?? "")' clause\(Suggest.didYouMean(b.keyword?.text ?? "", in: allowed))", at: b.keyword?.loc ?? l.loc)
                return nil
            }
        }
        // seq is always a module (like nn.Sequential); residual and parallel only when labelled.
        let named = op.body == .sequence || label != nil
        let module = named ? openModule(name: nextName(label: label), type: op.name, loc: l.loc) : nil
        defer {
            if let module {
                let nodes = graph.nodes.count > graph.modules[module].nodes.lowerBound
                closeModule(module, label: label, value: nodes ? graph.nodes[graph.nodes.count - 1].output : input)
            }
        }
        switch op.body {
        case .sequence:
            return elaborateSequence(l.bodies[0].stmts, input: input)
        case .residual:
            let body = elaborateSequence(l.bodies[0].stmts, input: input)
            let shortcutStmts = l.bodies.count > 1 ? l.bodies[1].stmts : nil
            let short = shortcutStmts.map { elaborateSequence($0, input: input) } ?? input
            guard let body, let short, bound.ok else { return nil }
            let a = graph.values[body], b = graph.values[short]
            guard a.shape == b.shape else {
                var notes: [Diagnostic.Note] = []
                if let last = graph.node(producing: body) {
                    notes.append(.init("the body's output \(describe(a.shape)) comes from \(Elaborator.describeLayer(last))", at: last.loc))
                }
                if shortcutStmts == nil {
                    let fix = Elaborator.checkedFix(Elaborator.shortcutCandidates(from: b, to: a), from: b, to: a)
                    notes.append(.init("the input \(describe(b.shape)) is added unchanged; add a 'shortcut { ... }' that maps it to \(describe(a.shape))" +
                                       (fix.map { ", e.g. 'shortcut { \($0) }'" } ?? "")))
                } else if let sl = graph.node(producing: short) {
                    notes.append(.init("the shortcut's output \(describe(b.shape)) comes from \(Elaborator.describeLayer(sl))", at: sl.loc))
                }
                error("residual cannot add \(describe(a.shape)) and \(describe(b.shape))", at: l.op.loc, notes: notes)
                return nil
            }
            return combine(.add, [body, short], a, line: l)
        case .parallel:
            var outs: [Int] = []
            var failed = false
            for s in l.bodies[0].stmts {
                if let o = elaborateSequence([s], input: input) { outs.append(o) } else { failed = true }
            }
            guard !failed, !outs.isEmpty, bound.ok else {
                if l.bodies[0].stmts.isEmpty { error("'parallel' needs at least one branch", at: l.op.loc) }
                return nil
            }
            let mode = bound.values["combine"].flatMap { if case .word(let w) = $0 { return w } else { return nil } } ?? "add"
            var shape = graph.values[outs[0]].shape
            for o in outs.dropFirst() {
                let s = graph.values[o].shape
                if mode == "concat" {
                    let d = bound.values["dim"].flatMap { if case .int(let n) = $0 { return n } else { return nil } } ?? 1
                    let ax = d < 0 ? d + shape.count : d
                    guard ax >= 0, ax < shape.count, s.count == shape.count,
                          zip(shape, s).enumerated().allSatisfy({ $0.offset == ax || $0.element.0 == $0.element.1 }) else {
                        error("parallel branches \(describe(shape)) and \(describe(s)) cannot be concatenated along dimension \(d)", at: l.op.loc)
                        return nil
                    }
                    do { shape[ax] = try shape[ax] + s[ax] } catch { self.error("size overflows", at: l.op.loc); return nil }
                } else {
                    guard let b = OpSpec.broadcast(shape, s) else {
                        error("parallel branches give \(describe(shape)) and \(describe(s)), which cannot be \(mode == "add" ? "added" : "multiplied")", at: l.op.loc,
                              notes: outs.compactMap { o in graph.node(producing: o).map { .init("a branch ends at \(Elaborator.describeLayer($0))", at: $0.loc) } })
                        return nil
                    }
                    shape = b
                }
            }
            if outs.count == 1 { return outs[0] }
            guard sizesWithinLimit(shape, of: "the concatenation of the branches", at: l.op.loc) else { return nil }
            return combine(OpKind(rawValue: mode) ?? .add, outs, TensorType(shape, graph.values[outs[0]].kind), line: l,
                           args: mode == "concat" ? ["dim": bound.values["dim"] ?? .int(1)] : [:])
        case .none:
            return input
        }
    }

    /// An internal node joining branches: no parameters, no row of its own in the table.
    func combine(_ op: OpKind, _ inputs: [Int], _ type: TensorType, line l: LayerStmt, args: [String: Value] = [:]) -> Int {
        let out = graph.addValue(type)
        let other = try? OpContext.accumulate(0, type.shape + [Dim(inputs.count - 1)])
        graph.addNode(Graph.Node(op: op, path: currentPath + ["(\(op))"], args: args, inputs: inputs, output: out, params: [], ownParams: [],
                                      macs: 0, otherOps: other ?? nil, loc: l.loc))
        return out
    }
}

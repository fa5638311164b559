import ArchSyntax

extension Elaborator {
    /// What a layer line uses: a user block or an op of the closed set, and its arguments (`norm
    /// KIND` resolved). nil once an error is reported.
    func resolveLine(_ l: LayerStmt) -> (name: String, block: BlockDecl?, op: OpSpec?, args: [Expr])? {
        var name = l.op.text
        var args = l.args
        let block = resolveBlock(l.op)
        if block == nil && name == "norm" {
            guard let kindWord = args.first?.word, let real = OpRegistry.normKinds[kindWord] else {
                error("'norm' needs a kind: layer, batch, rms or group", at: args.first?.loc ?? l.op.loc,
                      notes: [.init("for example: norm layer")])
                return nil
            }
            name = real
            args.removeFirst()
        }
        let op = block == nil ? OpRegistry.op(named: name) : nil
        if block == nil && op == nil {
            let candidates = OpRegistry.names + Array(blocks.keys)
            var notes: [Diagnostic.Note] = []
            if Suggest.nearest(name, in: candidates) == nil {
                notes.append(.init("see Grammar.md or 'archc ops' for the ops; define your own with 'block \(name)(...) { ... }'"))
            }
            error("unknown op '\(name)'\(Suggest.didYouMean(name, in: candidates))", at: l.op.loc, notes: notes)
            return nil
        }
        if block != nil, !l.bodies.isEmpty {
            error("block '\(name)' takes no '{ }' body", at: l.op.loc, notes: [.init("the block's own body is in its definition")])
            return nil
        }
        if let op, op.body == .none, !l.bodies.isEmpty {
            error("'\(op.name)' takes no '{ }' body", at: l.op.loc, notes: [.init("group layers with 'seq { ... }', 'residual { ... }' or a block")])
        }
        if let op, op.body != .none, l.bodies.isEmpty {
            error("'\(op.name)' needs a body in braces", at: l.op.loc, notes: [.init("for example: \(op.name) { linear 64 }")])
            return nil
        }
        return (name, block, op, args)
    }

    /// One layer line: an op of the closed set, a structural op with a body, or a user block; repeated
    /// xN, each repetition on the previous one's output (the first on the running tensor or `from`'s).
    func elaborateLayer(_ l: LayerStmt, input: Int?) -> Int? {
        guard let (name, block, op, lineArgs) = resolveLine(l) else { return nil }
        var args = lineArgs, current = input
        switch takeSource(&args, op: op, block: block) {
        case .running: break
        case .tensor(let v): current = v
        case .failed: return nil
        }
        let count = l.repeatCount?.count ?? 1
        if count < 1 {
            error("a layer repeated x\(count) vanishes", at: l.repeatCount!.loc, notes: [.init("repeat at least once (x1), or delete the line")])
            return input
        }
        if count > limits.nodes {
            error("x\(count) repeats more than \(limits.nodes) times", at: l.repeatCount!.loc)
            return nil
        }
        // A labelled repetition is a group named by the label whose members are 0...n-1.
        let group = count > 1 && l.label != nil && l.label?.text.hasSuffix("*") == false
        let groupModule = group ? openModule(name: nextName(label: l.label), type: "\(l.op.text) x\(count)", loc: l.loc) : nil
        for rep in 0..<count {
            if aborted || !takeStep(l) { break }
            let repetition = count > 1 ? "repetition \(rep + 1) of x\(count)" : nil
            let note = block != nil ? "in block '\(name)' used at \(l.op.loc.description)" + (repetition.map { ", " + $0 } ?? "")
                                    : repetition.map { "in \($0) at \(l.op.loc.description)" }
            if let note { trace.append(Site(note: note, loc: l.op.loc, block: block?.name.text)) }
            let savedIndex = env["index"]
            if count > 1 { env["index"] = .int(rep) }
            defer { env["index"] = savedIndex }
            if let label = group ? .some(nil) : repetitionLabel(l, rep) {
                if let block {
                    current = expandBlock(block, call: l, args: args, label: label, input: current)
                } else if let op {
                    current = op.body == .none ? applyOp(op, line: l, args: args, label: label, input: current)
                                               : applyStructure(op, line: l, args: args, label: label, input: current)
                }
                if current == nil, let label, l.labelTemplate != nil, scopes[scopes.count - 1].labels[label.text] == nil {
                    scopes[scopes.count - 1].poisoned.insert(label.text)
                }
            } else {
                current = nil
            }
            if note != nil { trace.removeLast() }
            // Once a repetition fails, the next ones would only repeat its errors.
            if current == nil { break }
        }
        if let groupModule { closeModule(groupModule, label: l.label, value: current) }
        return current
    }

    /// Counts an expansion step; false (with an error) past the limit.
    func takeStep(_ l: LayerStmt) -> Bool {
        steps += 1
        guard steps > limits.steps else { return true }
        error("the network takes more than \(limits.steps) expansion steps", at: l.repeatCount?.loc ?? l.op.loc,
              notes: [.init("check the repetition counts")])
        aborted = true
        return false
    }

    /// The label of one repetition: the line's label, `name_*`'s with the index, or the computed
    /// label evaluated now (`.none` when that fails: reported, and references to labels starting
    /// like it are silent).
    func repetitionLabel(_ l: LayerStmt, _ rep: Int) -> Identifier?? {
        if let t = l.labelTemplate {
            guard let label = evaluateLabel(t) else {
                if case .text(let lead)? = t.parts.first { failedLabelPrefixes.insert(lead) }
                return .none
            }
            return .some(label)
        }
        if let label = l.label, label.text.hasSuffix("*") { return .some(Identifier(String(label.text.dropLast()) + String(rep), label.loc)) }
        return .some(l.label)
    }

    /// The block a layer line uses, if its name is a block's. A block named like a built-in op
    /// replaces the op in the spec, except inside itself (where the name is the op it wraps, as in
    /// `block embed(v, d) { tok: embed v d; dropout 0.1 }`) and in the prelude, whose lines mean
    /// the built-in ops whatever the spec defines.
    func resolveBlock(_ name: Identifier) -> BlockDecl? {
        guard let b = blocks[name.text] else { return nil }
        let builtIn = OpRegistry.op(named: name.text) != nil || name.text == "norm"
        if builtIn && (blockStack.contains(name.text) || (name.loc.file === Prelude.file && b.loc.file !== Prelude.file)) { return nil }
        return b
    }

    // MARK: modules

    func openModule(name: String, type: String, loc: SourceLoc) -> Int {
        checkUniqueName(name, loc: loc)
        let path = currentPath + [name]
        graph.modules.append(Graph.Module(path: path, type: type, loc: loc, nodes: graph.nodes.count..<graph.nodes.count))
        scopes.append(Scope(path: path))
        return graph.modules.count - 1
    }

    /// Closes a group or block. Its labels and members stay reachable by dotted references (`enc.kv`)
    /// through its name in the enclosing scope, and through its label.
    func closeModule(_ index: Int, label: Identifier?, value: Int?) {
        graph.modules[index].nodes = graph.modules[index].nodes.lowerBound..<graph.nodes.count
        let scope = scopes.removeLast()
        guard let value, let name = scope.path.last else { return }
        let info = LabelInfo(value: value, nodes: graph.modules[index].nodes, loc: label?.loc ?? graph.modules[index].loc,
                             members: scope.members.merging(scope.labels) { $1 })
        scopes[scopes.count - 1].members[name] = info
        if let label { scopes[scopes.count - 1].labels[label.text] = info }
    }

    /// Reports a second layer of the same name in a scope, with a note at the first; returns false when it is one.
    @discardableResult
    func checkUniqueName(_ name: String, loc: SourceLoc) -> Bool {
        if let first = scopes[scopes.count - 1].names[name] {
            let what = Int(name) != nil ? "the layer at position \(name)" : "the first layer named '\(name)'"
            error("'\(name)' names two layers in \(currentPath.isEmpty ? "the model" : "'\(currentPath.joined(separator: "."))'")", at: loc,
                  notes: [.init("\(what) is here", at: first),
                          .init("parameter names must be unique; give one of them another label")])
            return false
        }
        scopes[scopes.count - 1].names[name] = loc
        return true
    }


    // MARK: ops of the closed set

    func applyOp(_ op: OpSpec, line l: LayerStmt, args: [Expr], label: Identifier?, input: Int?) -> Int? {
        let binder = ArgumentBinder(evaluator: evaluator, report: report, sizes: bindings)
        let bound = binder.bind(args, op: op, opLoc: l.op.loc)
        // Resolve references to earlier tensors.
        var refs: [String: TensorType] = [:]
        var refValues: [Int] = []
        var tied: [(id: Int, name: String, shape: [Int])] = []
        var ok = bound.ok
        for a in op.positional + op.options {
            switch a.kind { case .ref, .operand: break; default: continue }
            guard case .word(let w)? = bound.values[a.name] else { continue }
            guard let info = resolveReference(w, at: bound.locs[a.name]) else {
                ok = false
                continue
            }
            if a.name == "tied" {
                tied = graph.nodes[info.nodes].flatMap(\.params).map { (id: $0, name: graph.params[$0].name, shape: graph.params[$0].shape) }
            } else {
                refs[a.name] = graph.values[info.value]
                refValues.append(info.value)
            }
        }
        let name = nextName(label: label)
        guard ok, let input, !aborted else { return nil }
        var ctx = OpContext(op: op, args: bound.values, argLocs: bound.locs, input: graph.values[input],
                            refs: refs, tiedCandidates: tied, label: label?.text,
                            tensorBudget: limits.tensors - graph.params.count, tensorLimit: limits.tensors)
        do {
            try op.rule(&ctx)
        } catch let e as OpError {
            let loc = e.argument.flatMap { bound.locs[$0] } ?? l.op.loc
            error(e.message, at: loc, notes: e.notes + (e.showsInput ? provenance(input) + refValues.flatMap(provenance) : []))
            return nil
        } catch let e as ArithmeticOverflow {
            error("\(e.what) of '\(op.name)' overflows a 64-bit integer", at: l.op.loc,
                  notes: [.init("the sizes are too large to count; check them")])
            return nil
        } catch {
            return nil
        }
        for (m, notes, arg) in ctx.warnings { warning(m, at: arg.flatMap { bound.locs[$0] } ?? l.op.loc, notes: notes) }
        return addNode(op: op, ctx: ctx, name: name, label: label, line: l, inputs: [input] + refValues,
                       sources: bound.exprs.filter { ctx.args[$0.key] == bound.values[$0.key] })
    }

    func addNode(op: OpSpec, ctx: OpContext, name: String, label: Identifier?, line l: LayerStmt, inputs: [Int],
                 sources: [String: Expr] = [:]) -> Int? {
        if graph.nodes.count >= limits.nodes {
            error("the network expands to more than \(limits.nodes) layers", at: l.loc, notes: [.init("check the repetition counts")])
            aborted = true
            return nil
        }
        let uniqueLayer = checkUniqueName(name, loc: label?.loc ?? l.op.loc)
        let path = currentPath + [name]
        var ids: [Int] = [], own: [Int] = []
        for p in ctx.params {
            if let t = p.tiedTo { ids.append(t); continue }
            let full = p.localName.isEmpty ? (currentPath + [label?.text ?? op.bareTensorName ?? name]).joined(separator: ".")
                     : p.namedInGroup && label == nil ? (currentPath + [p.localName]).joined(separator: ".")
                     : (path + [p.localName]).joined(separator: ".")
            let count = p.shape.reduce(1) { $0.multipliedReportingOverflow(by: $1).partialValue }
            if !paramNames.insert(full).inserted && uniqueLayer {
                error("two parameters are named '\(full)'", at: label?.loc ?? l.op.loc, notes: [.init("give this layer a different label")])
            }
            graph.params.append(Graph.Param(name: full, shape: p.shape, isBuffer: p.isBuffer, isInteger: p.isInteger,
                                            node: graph.nodes.count, count: count))
            ids.append(graph.params.count - 1)
            own.append(graph.params.count - 1)
        }
        guard sizesWithinLimit(ctx.output.shape, of: "the output of '\(op.name)'", at: l.op.loc) else { return nil }
        do { _ = try ctx.output.minimumElementCount() } catch {
            self.error("the output \(describe(ctx.output.shape)) of '\(op.name)' has more elements than a 64-bit integer counts", at: l.op.loc,
                       notes: [.init("the sizes are too large; check them")])
            return nil
        }
        let out = graph.addValue(ctx.output)
        graph.addNode(Graph.Node(op: op.kind, path: path, args: ctx.args, inputs: inputs, output: out, params: ids, ownParams: own,
                                      macs: ctx.macs, otherOps: ctx.otherOps, loc: l.loc,
                                      sources: sources))
        graph.modules.append(Graph.Module(path: path, type: op.name, loc: l.loc, nodes: (graph.nodes.count - 1)..<graph.nodes.count))
        let node = (graph.nodes.count - 1)..<graph.nodes.count
        recordLabel(label, value: out, nodes: node)
        scopes[scopes.count - 1].members[name] = LabelInfo(value: out, nodes: node, loc: l.loc)
        warnRedundantBias(op: op)
        if op.kind == .linear { warnLinearOnSpatial(input: inputs[0], at: l.op.loc) }
        return out
    }

    /// A size above the limit is an error where it first appears (it used to pass through later
    /// layers until some count overflowed far from its cause).
    func sizesWithinLimit(_ shape: Shape, of what: String, at loc: SourceLoc) -> Bool {
        guard let big = shape.compactMap(\.value).first(where: { $0 > ArgumentBinder.maxSize }) else { return true }
        error("\(what) has shape \(describe(shape)): the size \(big) is above the limit of \(ArgumentBinder.maxSize)", at: loc,
              notes: [.init("every size is at most \(ArgumentBinder.maxSize), as in 'input' and --set")])
        return false
    }

    /// `'layer1.0.conv1' (conv)`
    static func describeLayer(_ n: Graph.Node) -> String {
        "'\(n.path.joined(separator: "."))' (\(n.op))"
    }

    /// Where the input of a failing layer came from: "input has shape [...] from here".
    func provenance(_ value: Int) -> [Diagnostic.Note] {
        let shape = describe(graph.values[value].shape)
        if let n = graph.node(producing: value) {
            return [.init("\(shape) comes from \(Elaborator.describeLayer(n))", at: n.loc)]
        }
        if let i = graph.inputs.first(where: { $0.value == value }) {
            return [.init("\(shape) is the model input '\(i.name)'")]
        }
        return []
    }
}

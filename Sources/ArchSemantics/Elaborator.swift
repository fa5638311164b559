import ArchSyntax

/// Expands a parsed file into the checked graph: binds block parameters, unrolls repetitions,
/// resolves labels, names every parameter, and applies each op's shape rule. Problems are reported
/// with the block instantiations they happened in; elaboration goes on so one run reports them all.
public final class Elaborator {
    let diags: DiagnosticEngine
    let bindings: [String: Int]
    let graph = Graph()
    var blocks: [String: BlockDecl] = [:]
    var usedBlocks: Set<String> = []
    var env: [String: Value] = [:]
    /// Names whose values an earlier error left unknown (`dim` after a failed layer): using one is silent.
    var unknownNames: Set<String> = []
    /// The leading text of computed labels that failed to evaluate: references to such labels are silent.
    var failedLabelPrefixes: Set<String> = []
    /// Innermost last: where the current code was expanded from (see `Site`).
    var trace: [Site] = []
    var blockStack: [String] = []
    var scopes: [Scope] = []
    var aborted = false
    var paramNames: Set<String> = []
    /// The sizes `--set` can bind: `batch` and the names in the inputs' shapes, and where each is declared.
    var declaredSymbols: [String: SourceLoc] = [:]
    let limits: Limits
    /// Layer lines elaborated so far, and groups open at once (see Limits).
    var steps = 0
    var nesting = 0

    struct Scope {
        var path: [String]
        var counter = 0
        var labels: [String: LabelInfo] = [:]
        /// Labels of layers that failed: referring to one is not another error.
        var poisoned: Set<String> = []
        /// The names of the layers so far, and where each was given.
        var names: [String: SourceLoc] = [:]
        /// Every layer and group of the scope by its name (label or position), for dotted references.
        var members: [String: LabelInfo] = [:]
    }

    struct LabelInfo {
        var value: Int
        /// The graph nodes that compute it (a layer, a group's or a branch's layers), whose
        /// parameters a `tied` reference shares.
        var nodes: Range<Int>
        var loc: SourceLoc
        /// A group's or block's own labels and members, reached by a dotted reference (`enc.kv`).
        var members: [String: LabelInfo] = [:]
    }

    /// Whether a binding of a size the spec does not declare is an error (the command line's
    /// `--set`); callers that bind sizes for many specs at once leave it off.
    let bindingsMustBeDeclared: Bool

    public init(diags: DiagnosticEngine, bindings: [String: Int], limits: Limits = .standard, bindingsMustBeDeclared: Bool = false) {
        self.diags = diags
        self.bindings = bindings
        self.limits = limits
        self.bindingsMustBeDeclared = bindingsMustBeDeclared
    }

    // MARK: file

    public func elaborate(_ unit: SourceUnit) -> Graph {
        var layers: [Stmt] = []
        var orders: [OrderStmt] = []
        var modelSeen: SourceLoc?
        var preludeNames: Set<String> = []
        for b in Prelude.blocks {
            blocks[b.name.text] = b
            preludeNames.insert(b.name.text)
        }
        for s in unit.stmts {
            switch s {
            case .model(let id):
                if let first = modelSeen {
                    error("the model is named twice", at: id.loc, notes: [.init("first named here", at: first)])
                }
                modelSeen = id.loc
                graph.modelName = id.text
            case .block(let declared):
                let b = uniqueParameters(declared)
                if preludeNames.remove(b.name.text) != nil {
                    blocks[b.name.text] = b
                } else if let prev = blocks[b.name.text] {
                    error("block '\(b.name.text)' is defined twice", at: b.name.loc, notes: [.init("first defined here", at: prev.name.loc)])
                } else {
                    // A block may have an op's name: it replaces the op in the spec (see `resolveBlock`).
                    blocks[b.name.text] = b
                }
            case .input(let d): declareInput(d)
            case .order(let o): orders.append(o)
            case .layer, .ifStmt, .branch: layers.append(s)
            }
        }
        if graph.modelName.isEmpty {
            graph.modelName = unit.file.path.split(separator: "/").last.map { String($0.split(separator: ".").first ?? $0) } ?? "model"
        }
        checkBindingsAreDeclared(inputsDeclared: unit.stmts.filter { if case .input = $0 { return true } else { return false } }.count)
        scopes = [Scope(path: [])]
        for (name, v) in graph.inputs { scopes[0].labels[name] = LabelInfo(value: v, nodes: 0..<0, loc: SourceLoc(unit.file, 0..<0)) }
        if graph.inputs.isEmpty {
            if diags.hasErrors { return graph }  // an earlier error (a failed input line, say) explains it
            let loc = layers.first?.loc ?? SourceLoc(unit.file, 0..<0)
            error(unit.stmts.isEmpty ? "the file describes no network" : "the network has no input",
                  at: loc, notes: [.init("declare one, as in 'input image 3x224x224' or 'input ids [seq] tokens'")])
            return graph
        }
        if layers.isEmpty && !diags.hasErrors {
            error("the network has no layers", at: unit.stmts.last?.loc, notes: [.init("add layers after the input, one per line, as in 'linear 10'")])
        }
        graph.output = elaborateSequence(layers, input: graph.inputs[0].value)
        applyOrder(orders)
        checkTotals()
        for (name, b) in blocks.sorted(by: { $0.value.loc.start < $1.value.loc.start })
            where !usedBlocks.contains(name) && b.name.loc.file !== Prelude.file {
            warning("block '\(name)' is never used", at: b.name.loc)
        }
        return graph
    }

    /// The totals must fit in 64 bits too: report the layer at which the running sum overflows.
    func checkTotals() {
        var params = 0, macs = 0
        for p in graph.params where !p.isBuffer {
            let (r, o) = params.addingReportingOverflow(p.count)
            if o {
                error("the parameter count overflows a 64-bit integer at '\(p.name)'", at: graph.nodes[p.node].loc,
                      notes: [.init("the sizes are too large to count; check them")])
                return
            }
            params = r
        }
        for n in graph.nodes {
            guard let m = n.macs else { continue }
            let (r, o) = macs.addingReportingOverflow(m)
            if o {
                error("the MAC count overflows a 64-bit integer at \(Elaborator.describeLayer(n))", at: n.loc,
                      notes: [.init("the sizes are too large to count; check them")])
                return
            }
            macs = r
        }
    }

    func declareInput(_ d: InputDecl) {
        var dims: [Dim] = [bindings["batch"].map(Dim.init) ?? Dim(symbol: "batch")]
        var kind = ElementKind.float
        do {
            // Once symbolic, for the messages; once with the bound sizes in scope, so that a product
            // of bound symbols (`[a*b]`) is a size too and not an opaque symbol --set cannot reach.
            let v = try Evaluator(env: [:], namesAreSizes: true).eval(d.shape)
            let bound = try Evaluator(env: bindings.mapValues(Value.int), namesAreSizes: true).eval(d.shape)
            let parts: [Value], boundParts: [Value]
            switch (v, bound) {
            case (.list(let vs), .list(let bs)) where vs.count == bs.count: (parts, boundParts) = (vs, bs)
            case (.int, _), (.dim, _): (parts, boundParts) = ([v], [bound])
            default:
                error("an input shape is sizes such as 3x224x224 or [seq, 512], not \(v.kindName)", at: d.shape.loc)
                return
            }
            for (p, q) in zip(parts, boundParts) {
                guard let dim = p.asDim else { error("an input shape is made of sizes, not \(p.kindName)", at: d.shape.loc); return }
                for s in dim.symbols where declaredSymbols[s] == nil { declaredSymbols[s] = d.shape.loc }
                if let n = dim.value, n < 1 || n > ArgumentBinder.maxSize {
                    error("input size \(n) is \(n < 1 ? "not positive" : "absurdly large (the limit is \(ArgumentBinder.maxSize))")", at: d.shape.loc)
                    return
                }
                let b = try q.asDim ?? dim.bound(bindings)
                if let n = b.value, n < 1 { error("--set gives \(dim) the size \(n); sizes must be positive", at: d.shape.loc); return }
                if let n = b.value, n > ArgumentBinder.maxSize {
                    error("--set gives \(dim) the size \(n), above the limit of \(ArgumentBinder.maxSize)", at: d.shape.loc)
                    return
                }
                dims.append(b)
            }
        } catch let e as EvalError {
            error(e.message, at: e.loc)
            return
        } catch {
            self.error("input size overflows", at: d.shape.loc)
            return
        }
        for o in d.options {
            switch o.word {
            case "tokens", "int": kind = .int
            case "float": kind = .float
            default: error("unknown input option '\(o.word ?? "?")'\(Suggest.didYouMean(o.word ?? "", in: ["tokens", "float"]))", at: o.loc,
                           notes: [.init("'tokens' marks token ids (for embed); inputs are floating-point otherwise")])
            }
        }
        if graph.inputs.contains(where: { $0.name == d.name.text }) {
            error("input '\(d.name.text)' is declared twice", at: d.name.loc)
            return
        }
        do { _ = try TensorType(dims).minimumElementCount() } catch {
            self.error("input '\(d.name.text)' has more elements than a 64-bit integer counts", at: d.shape.loc)
            return
        }
        graph.inputs.append((d.name.text, graph.addValue(TensorType(dims, kind))))
    }

    // MARK: sequences

    /// Runs statements in order; returns the final value, or nil once an error has poisoned the flow.
    func elaborateSequence(_ stmts: [Stmt], input: Int?) -> Int? {
        nesting += 1
        defer { nesting -= 1 }
        if nesting > limits.nesting {
            error("layers nested more than \(limits.nesting) deep (groups and blocks inside each other)", at: stmts.first?.loc)
            aborted = true
            return nil
        }
        var current = input
        for s in stmts {
            if aborted { return nil }
            switch s {
            case .layer(let l):
                current = elaborateLayer(l, input: current)
                poisonLabelIfFailed(l)
            case .ifStmt(let i): current = elaborateIf(i, input: current)
            case .branch(let b): elaborateBranch(b, input: current)
            case .order(let o): error("'order' belongs at the top level of the file", at: o.loc,
                                      notes: [.init("it names tensors by their full names, as --names lists them")])
            case .model(let id): error("'model' belongs at the top of the file", at: id.loc)
            case .input(let d): error("'input' belongs at the top of the file, outside blocks", at: d.loc)
            case .block(let b): error("block '\(b.name.text)' must be defined at the top level", at: b.loc)
            }
        }
        return current
    }

    func elaborateIf(_ first: IfStmt, input: Int?) -> Int? {
        var s = first
        // `else if` chains are walked in a loop, not by recursion.
        while true {
            guard let taken = evaluateCondition(s) else { return nil }
            if taken { return elaborateSequence(s.then, input: input) }
            guard let otherwise = s.otherwise else { return input }
            if otherwise.count == 1, case .ifStmt(let next) = otherwise[0] {
                s = next
                continue
            }
            return elaborateSequence(otherwise, input: input)
        }
    }

    func evaluateCondition(_ s: IfStmt) -> Bool? {
        let v: Value
        do { v = try evaluator.eval(s.condition) } catch let e as EvalError {
            error(e.message, at: e.loc)
            return nil
        } catch { return nil }
        guard case .bool(let b) = v else {
            error("the condition of 'if' must be true or false, got \(v.kindName)", at: s.condition.loc,
                  notes: [.init("compare values, as in 'if stride == 2'")])
            return nil
        }
        return b
    }
}

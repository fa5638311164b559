import ArchSemantics
import ArchSyntax

/// Each use of a block becomes a module of a class written for the block (`class Decoder(nn.Module)`),
/// whose `forward` holds the block's lines; uses whose code is the same share the class, so GPT-2's
/// twelve layers are `nn.ModuleList([Decoder() for _ in range(12)])`. The class builds its layers
/// with the widths of its configuration; a block used in several configurations that need
/// different code gets a class for each (`Basic`, `Basic2`). A use stays written out inline where
/// a class cannot hold it: it reads a tensor of another module (a tied head), a layer outside it
/// lives under its name, the spec's `order` reaches into it, it has no tensors, or more than one
/// of its values is read after it.
extension TorchEmitter.Emitter {
    struct Unit {
        let module: Int
        let path: [String]
        let nodes: Range<Int>
        /// The values it reads from before it, in the order it first reads them.
        let inputs: [Int]
        let output: Int
    }

    enum Item {
        case node(Int)
        case unit(Int)
    }

    /// The uses of blocks that can be emitted as classes, outermost first where they start together.
    static func units(_ g: Graph) -> [Unit] {
        var readBy: [Int: [Int]] = [:]
        for (i, n) in g.nodes.enumerated() { for v in n.inputs { readBy[v, default: []].append(i) } }
        func parts(_ path: [String]) -> [String] { path.joined(separator: ".").split(separator: ".").map(String.init) }
        var out: [Unit] = []
        for (m, module) in g.modules.enumerated() where module.arguments != nil && !module.nodes.isEmpty {
            let path = parts(module.path), prefix = path.joined(separator: ".") + "."
            guard !path.isEmpty, path.last != "training" else { continue }
            let range = module.nodes
            // Its layers lie under its name, and no other layer does.
            let inside = g.nodes.indices.allSatisfy { i in
                let p = parts(g.nodes[i].path)
                return range.contains(i) == (p.count > path.count && Array(p.prefix(path.count)) == path)
            }
            guard inside else { continue }
            guard range.allSatisfy({ i in g.nodes[i].params.allSatisfy { g.params[$0].name.hasPrefix(prefix) } }),
                  range.contains(where: { !g.nodes[$0].ownParams.isEmpty }),
                  !g.stateDictFirst.contains(where: { $0.hasPrefix(prefix) }) else { continue }
            let produced = Set(range.map { g.nodes[$0].output })
            var inputs: [Int] = []
            for i in range { for v in g.nodes[i].inputs where !produced.contains(v) && !inputs.contains(v) { inputs.append(v) } }
            let escaping = range.map { g.nodes[$0].output }.filter { v in
                v == g.output || readBy[v, default: []].contains { !range.contains($0) }
            }
            guard escaping.count == 1 else { continue }
            out.append(Unit(module: m, path: path, nodes: range, inputs: inputs, output: escaping[0]))
        }
        return out.sorted { ($0.nodes.lowerBound, -$0.nodes.count, $0.module) < ($1.nodes.lowerBound, -$1.nodes.count, $1.module) }
    }

    /// The steps of `range`: its nodes, and the units under `within` (the module whose class is
    /// written) as one step each.
    func items(_ range: Range<Int>, within: [String] = []) -> [Item] {
        var out: [Item] = [], i = range.lowerBound
        while i < range.upperBound {
            if let u = units.firstIndex(where: { $0.nodes.lowerBound == i && $0.nodes.upperBound <= range.upperBound && $0.path.count > within.count && $0.path.starts(with: within) }) {
                out.append(.unit(u))
                i = units[u].nodes.upperBound
            } else {
                out.append(.node(i))
                i += 1
            }
        }
        return out
    }

    func steps(_ items: [Item]) -> [(inputs: [Int], output: Int)] {
        items.map {
            switch $0 {
            case .node(let i): return (graph.nodes[i].inputs, graph.nodes[i].output)
            case .unit(let u): return (units[u].inputs, units[u].output)
            }
        }
    }

    mutating func emit(_ items: [Item]) throws {
        for item in items {
            switch item {
            case .node(let i):
                try emit(graph.nodes[i], index: i)
                propagate(graph.nodes[i])
            case .unit(let u): try emitUnit(u)
            }
        }
    }

    /// Registers the unit's module in the enclosing one, writes (or reuses) its class, and calls it.
    mutating func emitUnit(_ u: Int) throws {
        let unit = units[u], module = graph.modules[unit.module]
        try ensureContainers(unit.path)
        registered.insert(unit.path.joined(separator: "."))
        let placeholder = "\u{1}class\u{1}"
        initLines.append((unit.path.joined(separator: "."), try registration(unit.path, placeholder)))
        let at = initLines.count - 1
        let call = access(unit.path) + "(" + unit.inputs.map { v($0) }.joined(separator: ", ") + ")"
        let outer = (initLines, forwardLines, names, base)
        let inner = items(unit.nodes, within: unit.path)
        var given: [(name: String, value: Int)] = []
        for (k, value) in unit.inputs.enumerated() { given.append((k == 0 ? "x" : names.name(of: value), value)) }
        initLines = []
        forwardLines = []
        names = ValueNames(inputs: given, steps: steps(inner), output: unit.output)
        base = unit.path
        let outerScope = scope
        scope = classScope(unit)
        try emit(inner)
        let parameters = scope!.order.filter { scope!.used.contains($0) }
        let list = lists.contains(unit.path.joined(separator: "."))
        let body = classBody(inputs: unit.inputs.map { v($0) }, output: v(unit.output), list: list,
                             parameters: parameters.map { scope!.python[$0]! })
        base = outer.3
        let innerScope = scope!
        scope = outerScope
        let name = className(module.type, body: body, arguments: module.arguments ?? [], parameters: parameters)
        (initLines, forwardLines, names) = (outer.0, outer.1, outer.2)
        // The use's values, written with the enclosing class's names where they are its expressions.
        var values: [String] = []
        for (k, p) in parameters.enumerated() {
            var text: String
            if let a = module.arguments?.first(where: { $0.name == p }) {
                guard case .int(let n) = a.value else { continue }
                text = a.source.flatMap { symbol($0, equals: n) } ?? String(n)
            } else {
                text = try width(unit.inputs[0], p == "channels" ? 1 : -1)
            }
            values.append(k < 2 ? text : "\(innerScope.python[p]!)=\(text)")
        }
        let made = "\(name)(\(values.joined(separator: ", ")))"
        propagate(unit, inner: innerScope)
        initLines[at].text = initLines[at].text.replacingOccurrences(of: placeholder, with: made)
        forwardLines.append("\(v(unit.output)) = \(call)")
    }

    /// `__init__` and `forward` of a class, from the lines of the current scope.
    /// The names a unit's class may use: the block's whole-number parameters, and its input's
    /// `channels` and `dim` where no parameter has that name.
    func classScope(_ unit: Unit) -> ClassScope {
        var sc = ClassScope()
        let args = graph.modules[unit.module].arguments ?? []
        let params = Set(args.map(\.name))
        let shape = unit.inputs.first.map { graph.values[$0].shape } ?? []
        var facts: [String] = []
        if shape.count >= 2 {
            if !params.contains("channels"), let c = shape[1].value { sc.env["channels"] = c; facts.append("channels") }
            if !params.contains("dim"), let d = shape[shape.count - 1].value { sc.env["dim"] = d; facts.append("dim") }
        }
        for a in args { if case .int(let n) = a.value { sc.env[a.name] = n } }
        sc.order = facts + args.map(\.name).filter { sc.env[$0] != nil }
        var taken: Set<String> = []
        for name in sc.order {
            var p = name
            while !TorchNames.isVariable(p) || p.first!.isUppercase || taken.contains(p) { p += "_" }
            taken.insert(p)
            sc.python[name] = p
        }
        if let first = unit.inputs.first, shape.count >= 2 {
            var w: [Int: Sym] = [:]
            if facts.contains("channels") { w[1] = .name("channels") }
            if facts.contains("dim") { w[shape.count - 1] = .name("dim") }
            sc.widths[first] = w
        }
        return sc
    }

    /// A layer's argument: inside a block's class the spec's expression for it where that names the
    /// block's parameters (`out`, `kernel / 2`: `kernel // 2`), else its value.
    mutating func arg(_ n: Graph.Node, _ k: String) -> String {
        if case .int(let v)? = n.args[k], let e = n.sources[k], let r = symbol(e, equals: v) { return r }
        return py(n.args[k])
    }

    mutating func symbol(_ e: Expr, equals v: Int) -> String? {
        guard let s = scope, let sym = Sym.from(e, names: Set(s.env.keys)) else { return nil }
        return use(sym, equals: v)
    }

    /// The expression's Python where it evaluates to `v` for this use and names something.
    mutating func use(_ sym: Sym, equals v: Int) -> String? {
        guard let s = scope, !sym.names.isEmpty, sym.value(s.env) == v else { return nil }
        scope!.used.formUnion(sym.names)
        return sym.python(s.python)
    }

    /// A size of a value: inside a block's class its expression where one is known (`channels`, `out`).
    mutating func width(_ value: Int, _ i: Int) throws -> String {
        let n = try known(value, i)
        let rank = graph.values[value].shape.count, axis = i < 0 ? rank + i : i
        if let sym = scope?.widths[value]?[axis], let r = use(sym, equals: n) { return r }
        return String(n)
    }

    /// The expressions of a layer's output channels (axis 1) and width (last axis): from the
    /// layer's own argument (`conv 3 out`, `linear dim * 4`), or kept from its input by a layer that
    /// keeps them (norms, activations, residual sums, pools).
    mutating func propagate(_ n: Graph.Node) {
        guard let sc = scope else { return }
        let shape = graph.values[n.output].shape, rank = shape.count
        guard rank >= 2 else { return }
        let names = Set(sc.env.keys)
        func src(_ k: String) -> Sym? { n.sources[k].flatMap { Sym.from($0, names: names) } }
        var out: [Int: Sym] = [:]
        for axis in Set([1, rank - 1]) {
            guard let size = shape[axis].value else { continue }
            var cand: Sym?
            switch n.op {
            case .linear, .mlp, .swiglu, .attention, .moe: cand = axis == rank - 1 ? src("out") : nil
            case .conv, .convt: cand = axis == 1 ? src("out") : nil
            case .concat:
                let d = int(n, "dim") ?? 1
                if (d < 0 ? rank + d : d) == axis {
                    let parts = n.inputs.compactMap { sc.widths[$0]?[axis] }
                    if parts.count == n.inputs.count, let first = parts.first { cand = parts.dropFirst().reduce(first) { .binary(.add, $0, $1) } }
                }
            case .batchnorm, .layernorm, .rmsnorm, .groupnorm, .relu, .relu6, .silu, .hardswish, .gelu, .sigmoid, .tanh, .softmax,
                 .dropout, .identity, .add, .sub, .mul, .div, .rsub, .pos, .maxpool, .avgpool, .adaptive_avgpool, .adaptive_maxpool, .upsample:
                let g = graph
                cand = n.inputs.compactMap { v -> Sym? in
                    let s = g.values[v].shape
                    return s.count == rank && s[axis] == shape[axis] ? sc.widths[v]?[axis] : nil
                }.first
            default: cand = nil
            }
            if let cand, cand.value(sc.env) == size { out[axis] = cand }
        }
        scope!.widths[n.output] = out
    }

    /// The expressions of a unit's output sizes in the enclosing class: those it has in its own
    /// class, with its names replaced by the expressions the use gave them.
    mutating func propagate(_ unit: Unit, inner: ClassScope) {
        guard let sc = scope, let widths = inner.widths[unit.output] else { return }
        var map: [String: Sym] = [:]
        for name in inner.env.keys {
            if let a = graph.modules[unit.module].arguments?.first(where: { $0.name == name }) {
                map[name] = a.source.flatMap { Sym.from($0, names: Set(sc.env.keys)) }
            } else if let first = unit.inputs.first {
                let rank = graph.values[first].shape.count
                map[name] = sc.widths[first]?[name == "channels" ? 1 : rank - 1]
            }
        }
        let shape = graph.values[unit.output].shape
        var out: [Int: Sym] = [:]
        for (axis, sym) in widths {
            if let s = sym.substituting(map), let size = shape[axis].value, s.value(sc.env) == size { out[axis] = s }
        }
        scope!.widths[unit.output] = out
    }

    /// A module whose children are numbered is an nn.ModuleList, made with the modules it holds.
    func classBody(inputs: [String], output: String, list: Bool, parameters: [String]) -> String {
        var lines = initLines.map(\.text), made: [String] = []
        if list {
            let appends = lines.filter { $0.hasPrefix("self.append(") }.count
            while let first = lines.first, first.hasPrefix("self.append("), first.hasSuffix(")"), made.count < appends {
                made.append(String(first.dropFirst("self.append(".count).dropLast()))
                lines.removeFirst()
            }
            if made.count < appends {
                lines = made.map { "self.append(\($0))" } + lines
                made = []
            }
        }
        var superInit = "super().__init__()"
        if !made.isEmpty {
            let flat = "super().__init__([\(made.joined(separator: ", "))])"
            superInit = flat.count <= 100 ? flat : "super().__init__([\n" + made.map { "    \($0),\n" }.joined() + "])"
        }
        let initText = compressLists([superInit] + lines).map { indent($0, 8) }
        return """
        \(list ? "(nn.ModuleList)" : "(nn.Module)")
            def __init__(self\(parameters.map { ", " + $0 }.joined())):
        \(initText.joined(separator: "\n"))

            def forward(self, \(inputs.joined(separator: ", "))):
        \(loops(forwardLines).map { indent($0, 8) }.joined(separator: "\n"))
                return \(output)
        """
    }

    func indent(_ text: String, _ n: Int) -> String {
        let pad = String(repeating: " ", count: n)
        return text.split(separator: "\n", omittingEmptySubsequences: false).map { pad + $0 }.joined(separator: "\n")
    }

    /// The class for a block's code: the same code shares one class; the first of a block is named
    /// after it (`decoder`: Decoder), the others after the arguments they are built for unlike it
    /// (BasicDown), or numbered (Inverted2).
    mutating func className(_ block: String, body: String, arguments: [Graph.Argument], parameters: [String]) -> String {
        // The arguments the class is built for rather than given: those all its uses agree on.
        let fixed = arguments.filter { !parameters.contains($0.name) }
        if let i = classes.firstIndex(where: { $0.block == block && $0.body == body }) {
            classes[i].arguments = classes[i].arguments?.filter { fixed.contains($0) }
            return classes[i].name
        }
        func camel(_ s: String) -> String { s.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined() }
        var stem = camel(block)
        if !TorchNames.isIdentifier(stem) || stem.first.map({ !$0.isLetter }) == true {
            stem = "Block" + String(stem.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) })
        }
        // A variant is named after what it is built for unlike the block's first class (`down on`: BasicDown).
        if let first = classes.first(where: { $0.block == block }) {
            var suffix = ""
            for a in fixed where first.arguments?.first(where: { $0.name == a.name }).map({ $0.value != a.value }) ?? false {
                switch a.value {
                case .bool(true): suffix += camel(a.name)
                case .bool(false): suffix += "No" + camel(a.name)
                case .word(let w): suffix += camel(w)
                default: break
                }
            }
            if TorchNames.isIdentifier(stem + suffix) { stem += suffix }
        }
        var name = stem, k = 1
        while classes.contains(where: { $0.name == name }) || !TorchNames.isClassName(name) {
            k += 1
            name = stem + String(k)
        }
        classes.append((name, block, body, fixed, arguments.map(\.name)))
        return name
    }

    /// The class's definition: the block it writes, and the arguments it is built for (those not
    /// given to `__init__`, where all its uses agree on them).
    func classText(_ c: (name: String, block: String, body: String, arguments: [Graph.Argument]?, parameters: [String])) -> String {
        var doc = "block \(c.block)(\(c.parameters.joined(separator: ", ")))"
        if let args = c.arguments, !args.isEmpty {
            doc += ", built for " + args.map { "\($0.name) \($0.value)" }.joined(separator: ", ")
        }
        let newline = c.body.firstIndex(of: "\n")!
        let escaped = doc.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        return "class \(c.name)\(c.body[..<newline]):\n    \"\"\"\(escaped)\"\"\"\n\(c.body[newline...])"
    }

    /// `X = nn.ModuleList()` followed by every `X.append(M)` at once: `X = nn.ModuleList([M, ...])`,
    /// and `[M for _ in range(n)]` where the n modules are made alike.
    func compressLists(_ lines: [String]) -> [String] {
        var out: [String] = [], i = 0
        while i < lines.count {
            let line = lines[i]
            guard line.hasSuffix(" = nn.ModuleList()") else { out.append(line); i += 1; continue }
            let target = String(line.dropLast(" = nn.ModuleList()".count)), prefix = target + ".append("
            var made: [String] = [], j = i + 1
            while j < lines.count, lines[j].hasPrefix(prefix), lines[j].hasSuffix(")") {
                made.append(String(lines[j].dropFirst(prefix.count).dropLast()))
                j += 1
            }
            let all = lines.filter { $0.hasPrefix(prefix) }.count
            guard !made.isEmpty, made.count == all, !made.contains(where: { $0.contains("\n") }) else { out.append(line); i += 1; continue }
            if made.count > 1 && Set(made).count == 1 {
                out.append("\(target) = nn.ModuleList([\(made[0]) for _ in range(\(made.count))])")
            } else {
                let flat = "\(target) = nn.ModuleList([\(made.joined(separator: ", "))])"
                out.append(flat.count <= 100 ? flat : "\(target) = nn.ModuleList([\n" + made.map { "    \($0),\n" }.joined() + "])")
            }
            i = j
        }
        return out
    }

    /// `x = self.h[0](y)`, `x = self.h[1](x)`, ..., `x = self.h[n - 1](x)` through a whole list:
    /// `x = y` and `for layer in self.h: x = layer(x)`.
    func loops(_ lines: [String]) -> [String] {
        var out: [String] = [], i = 0
        let used = Set(names.taken)
        while i < lines.count {
            let line = lines[i]
            if let r = line.firstRange(of: "[0]("), line.hasSuffix(")") {
                let head = line[..<r.lowerBound]
                if let eq = head.range(of: " = ") {
                    let variable = String(head[..<eq.lowerBound]), list = String(head[eq.upperBound...])
                    let count = children[listPath(list), default: []].count
                    let first = String(line[r.upperBound...].dropLast())
                    var k = 1
                    while i + k < lines.count, lines[i + k] == "\(variable) = \(list)[\(k)](\(variable))" { k += 1 }
                    let loopVar = ["layer", "block", "module"].first { !used.contains($0) && $0 != variable }
                    if k > 1, k == count, lists.contains(listPath(list)), let loopVar, TorchNames.isIdentifier(first) {
                        if first != variable { out.append("\(variable) = \(first)") }
                        out.append("for \(loopVar) in \(list):\n    \(variable) = \(loopVar)(\(variable))")
                        i += k
                        continue
                    }
                }
            }
            out.append(line)
            i += 1
        }
        return out
    }

    /// The dotted path of a list reached as `self.a.b` (only plain attributes; else "").
    func listPath(_ access: String) -> String {
        guard access.hasPrefix("self.") else { return access == "self" ? base.joined(separator: ".") : "\u{0}" }
        let rest = access.dropFirst(5)
        guard rest.allSatisfy({ $0 == "_" || $0 == "." || $0.isLetter || $0.isNumber }) else { return "\u{0}" }
        return (base + rest.split(separator: ".").map(String.init)).joined(separator: ".")
    }
}

import ArchSemantics

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
            case .node(let i): try emit(graph.nodes[i], index: i)
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
        try emit(inner)
        let list = lists.contains(unit.path.joined(separator: "."))
        let body = classBody(inputs: unit.inputs.map { v($0) }, output: v(unit.output), list: list)
        base = outer.3
        let name = className(module.type, body: body, arguments: module.arguments ?? [])
        (initLines, forwardLines, names) = (outer.0, outer.1, outer.2)
        initLines[at].text = initLines[at].text.replacingOccurrences(of: placeholder, with: "\(name)()")
        forwardLines.append("\(v(unit.output)) = \(call)")
    }

    /// `__init__` and `forward` of a class, from the lines of the current scope.
    /// A module whose children are numbered is an nn.ModuleList, made with the modules it holds.
    func classBody(inputs: [String], output: String, list: Bool) -> String {
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
            def __init__(self):
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
    /// after it (`decoder`: Decoder), the others numbered (Decoder2).
    mutating func className(_ block: String, body: String, arguments: [Graph.Argument]) -> String {
        if let i = classes.firstIndex(where: { $0.block == block && $0.body == body }) {
            if classes[i].arguments != arguments { classes[i].arguments = nil }
            return classes[i].name
        }
        var stem = block.split(separator: "_").map { $0.prefix(1).uppercased() + $0.dropFirst() }.joined()
        if !TorchNames.isIdentifier(stem) || stem.first.map({ !$0.isLetter }) == true {
            stem = "Block" + String(stem.unicodeScalars.filter { $0.isASCII && ($0.properties.isAlphabetic || ("0"..."9").contains($0)) })
        }
        var name = stem, k = 1
        while classes.contains(where: { $0.name == name }) || !TorchNames.isClassName(name) {
            k += 1
            name = stem + String(k)
        }
        classes.append((name, block, body, arguments))
        return name
    }

    /// The class's definition: the block it writes, and the arguments of its uses where they all agree.
    func classText(_ c: (name: String, block: String, body: String, arguments: [Graph.Argument]?)) -> String {
        var doc = "block \(c.block)"
        if let args = c.arguments, !args.isEmpty {
            doc += ", used with " + args.map { "\($0.name) \($0.value)" }.joined(separator: ", ")
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

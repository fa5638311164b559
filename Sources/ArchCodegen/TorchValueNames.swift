import ArchSemantics

/// The variables of the emitted forward: each input under its spec name (with '_' added where that
/// is a Python keyword or one of the file's own names), a value the next layer alone reads in the
/// running variable `x`, and every other value in a variable of its own (`x1`, `x2`, ...).
struct ValueNames {
    private var names: [Int: String] = [:]

    init(_ g: Graph) {
        var taken = Set<String>()
        func fresh(_ base: String) -> String {
            var name = base
            while taken.contains(name) || !TorchNames.isVariable(name) { name += "_" }
            taken.insert(name)
            return name
        }
        for (name, v) in g.inputs { names[v] = fresh(TorchNames.isIdentifier(name) ? name : "input") }
        var uses: [Int: [Int]] = [:]
        for (i, n) in g.nodes.enumerated() { for v in n.inputs { uses[v, default: []].append(i) } }
        if let out = g.output { uses[out, default: []].append(g.nodes.count) }
        let running = fresh(taken.contains("x") ? "h" : "x")
        var counter = 0
        for (i, n) in g.nodes.enumerated() where names[n.output] == nil {
            if uses[n.output, default: []].allSatisfy({ $0 == i + 1 }) {
                names[n.output] = running
            } else {
                counter += 1
                var name = "x\(counter)"
                while taken.contains(name) { counter += 1; name = "x\(counter)" }
                names[n.output] = fresh(name)
            }
        }
    }

    func name(of value: Int) -> String { names[value] ?? "x" }
}

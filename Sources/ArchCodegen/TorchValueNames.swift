import ArchSemantics

/// The variables of one emitted forward (the model's, or a block class's): each input under its
/// given name (with '_' added where that is a Python keyword or one of the file's own names), a
/// value the next step alone reads in the running variable `x`, and every other value in a
/// variable of its own (`x1`, `x2`, ...). A step is a layer's line, or the call of a block's module.
struct ValueNames {
    private var names: [Int: String] = [:]
    private(set) var taken = Set<String>()

    init(_ g: Graph) {
        self.init(inputs: g.inputs, steps: g.nodes.map { ($0.inputs, $0.output) }, output: g.output)
    }

    init(inputs: [(name: String, value: Int)], steps: [(inputs: [Int], output: Int)], output: Int?) {
        var taken = Set<String>()
        func fresh(_ base: String) -> String {
            var name = base
            while taken.contains(name) || !TorchNames.isVariable(name) { name += "_" }
            taken.insert(name)
            return name
        }
        for (name, v) in inputs where names[v] == nil { names[v] = fresh(TorchNames.isIdentifier(name) ? name : "input") }
        var uses: [Int: [Int]] = [:]
        for (i, s) in steps.enumerated() { for v in s.inputs { uses[v, default: []].append(i) } }
        if let out = output { uses[out, default: []].append(steps.count) }
        let running = fresh(taken.contains("x") ? "h" : "x")
        var counter = 0
        for (i, s) in steps.enumerated() where names[s.output] == nil {
            if uses[s.output, default: []].allSatisfy({ $0 == i + 1 }) {
                names[s.output] = running
            } else {
                counter += 1
                var name = "x\(counter)"
                while taken.contains(name) { counter += 1; name = "x\(counter)" }
                names[s.output] = fresh(name)
            }
        }
        self.taken = taken
    }

    func name(of value: Int) -> String { names[value] ?? "x" }
}

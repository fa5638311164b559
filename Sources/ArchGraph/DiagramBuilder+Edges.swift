import ArchSemantics

extension DiagramBuilder {
    /// A graph node's counterpart in the nodes drawn (through every expanded run it repeats).
    func canonical(_ n: Int) -> Int {
        var x = n
        while alias[x] != x { x = alias[x] }
        return x
    }

    /// The edges: each value a drawn node reads from another (inside a box they vanish), once. An
    /// edge from one repetition of an expanded run into the next maps onto a loop in the first one:
    /// it points back in the graph's order and is left out (the count says it repeats).
    mutating func connect() {
        var seen = Set<Diagram.Edge>()
        func link(_ from: Int, _ to: Int) {
            let e = Diagram.Edge(from: from, to: to)
            if from != to, seen.insert(e).inserted { diagram.edges.append(e) }
        }
        diagram.nodeOfGraphNode = graph.nodes.indices.map { unit[canonical($0)] ?? 0 }
        for (i, node) in graph.nodes.enumerated() {
            let target = diagram.nodeOfGraphNode[i]
            for v in node.inputs {
                if let p = graph.producer[v] {
                    guard canonical(p) < canonical(i) else { continue }
                    link(diagram.nodeOfGraphNode[p], target)
                } else if let u = inputUnit[v] {
                    link(u, target)
                }
            }
        }
        guard let out = graph.output else { return }
        let source = graph.producer[out].map { diagram.nodeOfGraphNode[$0] } ?? inputUnit[out]
        let id = add(.init(kind: .output, title: "output", op: "", shape: shape(out), params: 0, count: 1, family: .output,
                           cluster: nil, path: "output"))
        if let source { link(source, id) }
    }
}

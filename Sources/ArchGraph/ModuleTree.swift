import ArchSemantics

/// The module tree of a checked graph (each group's child modules), the contents of a group in
/// order (child modules and the loose merge nodes between them), and runs of identical repeated
/// siblings (`encoder_layer_0` ... `encoder_layer_11`), which the diagram draws once with a count.
struct ModuleTree {
    enum Item {
        case node(Int)
        /// One module, or several identical ones in a chain.
        case run([Int])
    }

    let graph: Graph
    /// Child modules of each module, in order.
    private(set) var children: [[Int]]
    /// The top-level modules.
    private(set) var roots: [Int] = []

    init(_ g: Graph) {
        graph = g
        children = Array(repeating: [], count: g.modules.count)
        var stack: [Int] = []
        for (i, m) in g.modules.enumerated() {
            while let top = stack.last, !Self.contains(g.modules[top], m) { stack.removeLast() }
            if let top = stack.last { children[top].append(i) } else { roots.append(i) }
            stack.append(i)
        }
    }

    /// Whether `outer` is `inner`'s parent or an ancestor: a path prefix whose nodes cover it.
    static func contains(_ outer: Graph.Module, _ inner: Graph.Module) -> Bool {
        outer.path.count < inner.path.count && inner.path.starts(with: outer.path)
            && outer.nodes.lowerBound <= inner.nodes.lowerBound && inner.nodes.upperBound <= outer.nodes.upperBound
    }

    func isLeaf(_ m: Int) -> Bool { children[m].isEmpty }

    /// What a group holds (the whole network for nil), in order: runs of modules and loose nodes.
    func items(of module: Int?) -> [Item] {
        let range = module.map { graph.modules[$0].nodes } ?? 0..<graph.nodes.count
        let kids = (module.map { children[$0] } ?? roots).filter { !graph.modules[$0].nodes.isEmpty }
        var out: [Item] = []
        var i = range.lowerBound, k = 0
        while i < range.upperBound {
            if k < kids.count, graph.modules[kids[k]].nodes.lowerBound == i {
                let m = kids[k]
                if case .run(let ms)? = out.last, repeats(ms[ms.count - 1], m) {
                    out[out.count - 1] = .run(ms + [m])
                } else {
                    out.append(.run([m]))
                }
                i = graph.modules[m].nodes.upperBound
                k += 1
            } else {
                out.append(.node(i))
                i += 1
            }
        }
        return out
    }

    /// A labelled repetition (`layer1: basic 64 x2`): the run its group holds, when that is all it holds.
    func soleRun(of module: Int) -> [Int]? {
        let inside = items(of: module)
        guard inside.count == 1, case .run(let ms) = inside[0], ms.count > 1 else { return nil }
        return ms
    }

    /// Whether `next` repeats `previous`: the same structure, counts and output shape, and it takes
    /// `previous`'s output (siblings side by side in a `parallel` are not a repetition).
    func repeats(_ previous: Int, _ next: Int) -> Bool {
        let a = graph.modules[previous], b = graph.modules[next]
        guard a.type == b.type, a.nodes.count == b.nodes.count, !a.nodes.isEmpty else { return false }
        let output = graph.nodes[a.nodes.upperBound - 1].output
        guard graph.nodes[b.nodes].contains(where: { $0.inputs.contains(output) }) else { return false }
        return signature(previous) == signature(next)
    }

    struct Signature: Equatable {
        var ops: [OpKind] = []
        var paths: [ArraySlice<String>] = []
        /// Each input: its producer's offset inside the module, or -1 from outside.
        var wiring: [[Int]] = []
        var shapes: [Shape] = []
        var params = 0
    }

    func signature(_ m: Int) -> Signature {
        let module = graph.modules[m]
        var s = Signature()
        for i in module.nodes {
            let n = graph.nodes[i]
            s.ops.append(n.op)
            s.paths.append(n.path.dropFirst(module.path.count))
            s.wiring.append(n.inputs.map { v in graph.producer[v].map { module.nodes.contains($0) ? $0 - module.nodes.lowerBound : -1 } ?? -1 })
            s.shapes.append(graph.values[n.output].shape)
            for p in n.ownParams { s.params = s.params &+ graph.params[p].count }
        }
        return s
    }
}

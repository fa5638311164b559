import ArchSemantics

/// Builds the diagram of a checked graph at a depth, as `archc params --depth N` shows its rows:
/// modules `depth` deep (and leaves above it) are boxes, groups above it are clusters around their
/// parts. Runs of identical chained siblings are drawn once with their count; an expanded run shows
/// the first repetition's parts, and every repetition's nodes map onto them.
public struct DiagramBuilder {
    let graph: Graph
    let tree: ModuleTree
    /// Each module's parameters, as the `params` table counts them (its row).
    let moduleParams: [Int]
    let depth: Int
    var diagram: Diagram
    /// The diagram node of each graph node drawn directly (a first repetition's).
    var unit: [Int?]
    /// Each graph node's counterpart in the first repetition of an expanded run (itself otherwise).
    var alias: [Int]
    var inputUnit: [Int: Int] = [:]

    /// `moduleParams[i]` is module `i`'s parameter count (the `params` table's row `i`).
    public static func build(_ g: Graph, moduleParams: [Int], totalParams: Int, depth: Int) -> Diagram {
        var b = DiagramBuilder(graph: g, tree: ModuleTree(g), moduleParams: moduleParams, depth: max(1, depth),
                               diagram: Diagram(title: g.modelName, totalParams: totalParams),
                               unit: Array(repeating: nil, count: g.nodes.count), alias: Array(g.nodes.indices))
        for (name, value) in g.inputs {
            b.inputUnit[value] = b.add(.init(kind: .input, title: name, op: "", shape: b.shape(value), params: 0, count: 1,
                                             family: .input, cluster: nil, path: name))
        }
        b.emit(module: nil, level: 0, cluster: nil)
        b.connect()
        if ShapeText.usesBatchSymbol(g) { b.diagram.shapeNote = "B = batch" }
        return b.diagram
    }

    mutating func add(_ n: Diagram.Node) -> Int {
        diagram.nodes.append(n)
        return diagram.nodes.count - 1
    }

    func shape(_ value: Int) -> String { ShapeText.format(graph.values[value].shape) }

    /// The contents of a group (the network for nil) whose modules are `level + 1` deep.
    mutating func emit(module: Int?, level: Int, cluster: Int?) {
        for item in tree.items(of: module) {
            switch item {
            case .node(let n):
                unit[n] = add(looseNode(n, cluster: cluster))
            case .run(let ms):
                // A labelled repetition (`layer1: basic 64 x2`) is drawn as its run, one level down.
                let sole = ms.count == 1 ? tree.soleRun(of: ms[0]) : nil
                let reps = sole ?? ms, repLevel = level + (sole == nil ? 1 : 2)
                if tree.isLeaf(reps[0]) || repLevel >= depth {
                    let id = add(box(ms, cluster: cluster))
                    for m in ms { for n in graph.modules[m].nodes { unit[n] = id } }
                } else {
                    let c = addCluster(ms, parent: cluster)
                    emit(module: reps[0], level: repLevel, cluster: c)
                    let first = graph.modules[reps[0]].nodes
                    for m in reps.dropFirst() {
                        for (offset, n) in graph.modules[m].nodes.enumerated() { alias[n] = first.lowerBound + offset }
                    }
                }
            }
        }
    }

    /// A node no module names: a merge of a `residual` or `parallel`.
    func looseNode(_ n: Int, cluster: Int?) -> Diagram.Node {
        let node = graph.nodes[n]
        let family = OpFamily(node.op)
        let symbol = Self.symbol(node.op)
        return .init(kind: family == .merge ? .merge : .layer, title: symbol ?? node.op.rawValue, op: symbol == nil ? "" : node.op.rawValue,
                     shape: shape(node.output), params: 0, count: 1, family: family, cluster: cluster, path: node.path.joined(separator: "."))
    }

    /// A layer, a collapsed group, or a run of either drawn once.
    func box(_ ms: [Int], cluster: Int?) -> Diagram.Node {
        let first = graph.modules[ms[0]], last = graph.modules[ms[ms.count - 1]]
        let (type, count) = typeAndCount(ms)
        let leaf = tree.isLeaf(ms[0])
        let op = leaf ? graph.nodes[first.nodes.lowerBound].op : nil
        let family = op.map(OpFamily.init) ?? .block
        let (title, opText) = Self.titles(name: Self.runName(first.path.last ?? "", last.path.last ?? "", count: ms.count), type: type)
        let symbol = opText.isEmpty && count == 1 ? op.flatMap(Self.symbol) : nil
        return .init(kind: family == .merge ? .merge : .layer, title: symbol ?? title, op: opText,
                     shape: shape(graph.nodes[last.nodes.upperBound - 1].output), params: ms.reduce(0) { $0 &+ moduleParams[$1] },
                     count: count, family: family, cluster: cluster, path: first.name)
    }

    mutating func addCluster(_ ms: [Int], parent: Int?) -> Int {
        let first = graph.modules[ms[0]], last = graph.modules[ms[ms.count - 1]]
        let (type, count) = typeAndCount(ms)
        let (title, op) = Self.titles(name: Self.runName(first.path.last ?? "", last.path.last ?? "", count: ms.count), type: type)
        diagram.clusters.append(.init(title: title, op: op, params: ms.reduce(0) { $0 &+ moduleParams[$1] }, count: count,
                                      parent: parent, path: first.name))
        return diagram.clusters.count - 1
    }

    /// What a run repeats and how often; a labelled repetition (`layer1: basic 64 x2`, of type
    /// `basic x2`) is its members' type, `basic`, twice.
    func typeAndCount(_ ms: [Int]) -> (String, Int) {
        if ms.count == 1, let inner = tree.soleRun(of: ms[0]) { return (graph.modules[inner[0]].type, inner.count) }
        return (graph.modules[ms[0]].type, ms.count)
    }

    /// An unlabelled add or multiply is drawn as its symbol in a circle.
    static func symbol(_ op: OpKind) -> String? { op == .add ? "+" : op == .mul ? "×" : nil }

    /// The bold title and the op after it: an unlabelled layer (named by position) shows its op.
    static func titles(name: String, type: String) -> (String, String) {
        let positional = name.allSatisfy { ($0.isASCII && $0.isNumber) || $0 == "…" }
        if positional || name.isEmpty { return (type, "") }
        return name == type ? (name, "") : (name, type)
    }

    /// `encoder_layer_0` ... `encoder_layer_11` -> `encoder_layer_0…11`; `layer.0`, `layer.1` -> `0…1`.
    static func runName(_ first: String, _ last: String, count: Int) -> String {
        guard count > 1 else { return first }
        let a = Array(first), b = Array(last)
        var p = 0
        while p < a.count, p < b.count, a[p] == b[p], !a[p].isNumber { p += 1 }
        let tail = String(b[p...])
        return p > 0 && !tail.isEmpty && tail.allSatisfy(\.isNumber) && a[p...].allSatisfy(\.isNumber) ? first + "…" + tail : first + "…" + last
    }
}

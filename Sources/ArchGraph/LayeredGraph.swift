/// The diagram as the layout works on it: its nodes (the diagram's first, then one dummy node per
/// rank a long edge crosses), their ranks, sizes, clusters and the order of each rank.
struct LayeredGraph {
    let diagram: Diagram
    var width: [Double] = [], height: [Double] = []
    var rank: [Int] = []
    /// A node's innermost cluster; for a dummy, the innermost one holding both ends of its edge.
    var cluster: [Int?] = []
    var isDummy: [Bool] = []
    /// Drawn as a circle (an unlabelled add or multiply): ports sit on its rim.
    var isCircle: [Bool] = []
    var preds: [[Int]] = [], succs: [[Int]] = []
    /// Each diagram edge as the nodes it runs through: source, dummies, target.
    var chains: [[Int]] = []
    /// The nodes of each rank, left to right.
    var layers: [[Int]] = []
    var x: [Double] = []
    /// How strongly a node keeps its place: the longest chain most, long edges' dummies next.
    var weight: [Double] = []
    var onSpine: [Bool] = []
    /// Each node's clusters, innermost first.
    var chainOf: [[Int]] = []

    static let dummyWidth = 10.0

    init(_ d: Diagram, labels: [NodeLabel]) {
        diagram = d
        width = labels.map(\.width)
        height = labels.map(\.height)
        isCircle = labels.map { $0.shape == .circle }
        cluster = d.nodes.map(\.cluster)
        isDummy = Array(repeating: false, count: d.nodes.count)
        rank = Self.ranks(count: d.nodes.count, edges: d.edges)
        preds = Array(repeating: [], count: d.nodes.count)
        succs = preds
        for e in d.edges { addEdge(e) }
        chainOf = cluster.map { c in c.map(d.ancestors(ofCluster:)) ?? [] }
        layers = Array(repeating: [], count: (rank.max() ?? 0) + 1)
        for v in rank.indices { layers[rank[v]].append(v) }
        x = Array(repeating: 0, count: rank.count)
        weight = isDummy.map { $0 ? 2 : 1 }
        onSpine = Array(repeating: false, count: rank.count)
        for v in spine() {
            weight[v] = 100
            onSpine[v] = true
        }
    }

    /// The edge, split by dummies into steps of one rank (an edge that does not point down, which
    /// a correct diagram never has, is left out).
    mutating func addEdge(_ e: Diagram.Edge) {
        guard rank[e.to] > rank[e.from] else {
            chains.append([])
            return
        }
        let shared = Self.lowestCommonCluster(diagram, e.from, e.to)
        var chain = [e.from]
        for r in (rank[e.from] + 1)..<rank[e.to] {
            let v = rank.count
            rank.append(r)
            width.append(Self.dummyWidth)
            height.append(0)
            cluster.append(shared)
            isDummy.append(true)
            preds.append([])
            succs.append([])
            chain.append(v)
        }
        chain.append(e.to)
        for (a, b) in zip(chain, chain.dropFirst()) {
            succs[a].append(b)
            preds[b].append(a)
        }
        chains.append(chain)
    }

    /// Longest path from a source; a source that feeds later layers only (a second input) is moved
    /// down to sit just above its first reader.
    static func ranks(count: Int, edges: [Diagram.Edge]) -> [Int] {
        var indegree = Array(repeating: 0, count: count)
        var out = Array(repeating: [Int](), count: count)
        for e in edges {
            out[e.from].append(e.to)
            indegree[e.to] += 1
        }
        var rank = Array(repeating: 0, count: count)
        var ready = (0..<count).filter { indegree[$0] == 0 }
        var done = 0
        while done < ready.count {
            let v = ready[done]
            done += 1
            for w in out[v] {
                rank[w] = max(rank[w], rank[v] + 1)
                indegree[w] -= 1
                if indegree[w] == 0 { ready.append(w) }
            }
        }
        let hasSource = edges.reduce(into: Array(repeating: false, count: count)) { $0[$1.to] = true }
        for v in 0..<count where !hasSource[v] && !out[v].isEmpty {
            rank[v] = max(0, (out[v].map { rank[$0] }.min() ?? 1) - 1)
        }
        return rank
    }

    static func lowestCommonCluster(_ d: Diagram, _ a: Int, _ b: Int) -> Int? {
        let other = Set(d.clusterChain(of: b))
        return d.clusterChain(of: a).first(where: other.contains)
    }

    /// The longest chain of the drawing, from the last node back along each node's latest input.
    func spine() -> [Int] {
        guard var v = (0..<diagram.nodes.count).max(by: { rank[$0] < rank[$1] }) else { return [] }
        var path = [v]
        // Among the latest, the first reader's first input: the layer before it in the spec.
        while let p = preds[v].enumerated().max(by: { (rank[$0.element], -$0.offset) < (rank[$1.element], -$1.offset) })?.element {
            path.append(p)
            v = p
        }
        return path
    }

    /// Whether `v` lies inside cluster `c`.
    func isInside(_ v: Int, _ c: Int) -> Bool { chainOf[v].contains(c) }
}

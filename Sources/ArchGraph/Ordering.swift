/// The order within each rank: barycentre sweeps (each node toward the mean position of its
/// neighbours on the rank above, then below), keeping the order with the fewest crossings, every
/// cluster's nodes side by side on every rank.
extension LayeredGraph {
    mutating func order() {
        for r in layers.indices { layers[r] = grouped(layers[r], keys: layers[r].indices.map(Double.init)) }
        var best = layers, bestCrossings = crossings()
        for sweep in 0..<8 {
            let down = sweep % 2 == 0
            for r in down ? Array(layers.indices.dropFirst()) : Array(layers.indices.dropLast().reversed()) {
                let reference = positions(of: layers[down ? r - 1 : r + 1])
                let keys = layers[r].enumerated().map { i, v -> Double in
                    let nbrs = (down ? preds[v] : succs[v]).compactMap { reference[$0] }
                    return nbrs.isEmpty ? Double(i) : Double(nbrs.reduce(0, +)) / Double(nbrs.count)
                }
                layers[r] = grouped(layers[r], keys: keys)
            }
            let c = crossings()
            if c < bestCrossings {
                best = layers
                bestCrossings = c
            }
        }
        layers = best
    }

    func positions(of layer: [Int]) -> [Int: Int] {
        var p: [Int: Int] = [:]
        for (i, v) in layer.enumerated() { p[v] = i }
        return p
    }

    /// The rank sorted by `keys`, then regrouped so each cluster's nodes are together: a cluster
    /// sits where the mean key of its nodes puts it, recursively from the outermost.
    func grouped(_ layer: [Int], keys: [Double]) -> [Int] {
        var key: [Int: Double] = [:]
        for (v, k) in zip(layer, keys) { key[v] = k }
        func arrange(_ items: [Int], level: Int) -> [Int] {
            // Each item's cluster `level` clusters below the top, or nil for a node directly here.
            var groups: [(cluster: Int?, members: [Int], key: Double)] = []
            var index: [Int: Int] = [:]
            for v in items {
                let chain = Array(chainOf[v].reversed())
                let c: Int? = level < chain.count ? chain[level] : nil
                if let c, let g = index[c] {
                    groups[g].members.append(v)
                    groups[g].key += key[v]!
                } else {
                    if let c { index[c] = groups.count }
                    groups.append((c, [v], key[v]!))
                }
            }
            let sorted = groups.enumerated().sorted { a, b in
                let ka = a.element.key / Double(a.element.members.count), kb = b.element.key / Double(b.element.members.count)
                return ka != kb ? ka < kb : a.offset < b.offset
            }
            return sorted.flatMap { $0.element.cluster == nil ? $0.element.members : arrange($0.element.members, level: level + 1) }
        }
        return arrange(layer, level: 0)
    }

    /// Edge crossings between every pair of neighbouring ranks.
    func crossings() -> Int {
        var total = 0
        for r in layers.indices.dropLast() {
            let below = positions(of: layers[r + 1])
            var ends: [(Int, Int)] = []
            for (i, v) in layers[r].enumerated() { for w in succs[v] { if let j = below[w] { ends.append((i, j)) } } }
            ends.sort { $0 < $1 }
            // Pairs out of order in the second coordinate cross (quadratic, but ranks are narrow).
            for a in ends.indices { for b in (a + 1)..<ends.count where ends[a].0 < ends[b].0 && ends[a].1 > ends[b].1 { total += 1 } }
        }
        return total
    }
}

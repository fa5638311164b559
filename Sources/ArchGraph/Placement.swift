/// Horizontal positions: every node is pulled toward the mean position of its neighbours, a rank
/// at a time, sweeping down and up; within a rank the positions nearest those wishes that keep the
/// order and the spacing are found exactly (weighted isotonic regression, pool-adjacent-violators).
extension LayeredGraph {
    static let gap = 30.0, dummyGap = 10.0, clusterPadX = 14.0

    mutating func place() {
        for layer in layers {
            var left = 0.0
            for (i, v) in layer.enumerated() {
                if i > 0 { left += separation(layer[i - 1], v) }
                x[v] = left
            }
            let shift = layer.last.map { x[$0] / 2 } ?? 0
            for v in layer { x[v] -= shift }
        }
        for sweep in 0..<12 {
            let down = sweep % 2 == 0
            for r in down ? Array(layers.indices.dropFirst()) : Array(layers.indices.dropLast().reversed()) {
                let wishes = layers[r].map { v -> Double in
                    // The longest chain follows itself, so it stays straight whatever branches off it.
                    let all = down ? preds[v] : succs[v]
                    let spineNeighbours = all.filter { onSpine[$0] }
                    let nbrs = onSpine[v] && !spineNeighbours.isEmpty ? spineNeighbours : all
                    return nbrs.isEmpty ? x[v] : nbrs.reduce(0) { $0 + x[$1] } / Double(nbrs.count)
                }
                fit(r, wishes)
            }
        }
        keepClustersClear()
        straightenLongEdges()
        keepClustersClear()
    }

    /// Lines up the dummies of each long edge on the one farthest out (from its source), where the
    /// neighbours on each rank leave room, so a skip connection runs as one straight line.
    mutating func straightenLongEdges() {
        var slot: [Int: Int] = [:]
        for layer in layers { for (i, v) in layer.enumerated() { slot[v] = i } }
        // Twice: an edge straightened later may make room for one before it.
        for chain in chains + chains where chain.count > 3 {
            let dummies = chain.dropFirst().dropLast()
            let outward = dummies.reduce(0) { $0 + x[$1] } / Double(dummies.count) >= x[chain[0]]
            guard let target = outward ? dummies.map({ x[$0] }).max() : dummies.map({ x[$0] }).min() else { continue }
            for d in dummies {
                let layer = layers[rank[d]], i = slot[d]!
                let fits = outward ? (i + 1 == layer.count || x[layer[i + 1]] - target >= separation(d, layer[i + 1]) - 0.01)
                                   : (i == 0 || target - x[layer[i - 1]] >= separation(layer[i - 1], d) - 0.01)
                if fits { x[d] = target }
            }
        }
    }

    /// The smallest distance between the centres of neighbours `a` and `b` on a rank: half of
    /// each, a gap, and room for the frame of every cluster one is in and the other is not.
    func separation(_ a: Int, _ b: Int) -> Double {
        let frames = Set(chainOf[a]).symmetricDifference(chainOf[b]).count
        let gap = isDummy[a] && isDummy[b] ? Self.dummyGap : isDummy[a] || isDummy[b] ? Self.gap / 2 : Self.gap
        return (width[a] + width[b]) / 2 + gap + Double(frames) * Self.clusterPadX
    }

    /// Sets rank `r`'s positions as near `wishes` as the order and spacing allow (weighted least squares).
    mutating func fit(_ r: Int, _ wishes: [Double]) {
        let layer = layers[r]
        guard !layer.isEmpty else { return }
        var offset = [0.0]
        for i in 1..<layer.count { offset.append(offset[i - 1] + separation(layer[i - 1], layer[i])) }
        // Blocks of consecutive nodes placed together: (weighted sum of targets, total weight, count).
        var blocks: [(sum: Double, weight: Double, count: Int)] = []
        for (i, v) in layer.enumerated() {
            blocks.append((weight[v] * (wishes[i] - offset[i]), weight[v], 1))
            while blocks.count > 1 {
                let b = blocks[blocks.count - 1], a = blocks[blocks.count - 2]
                guard a.sum / a.weight > b.sum / b.weight else { break }
                blocks.removeLast(2)
                blocks.append((a.sum + b.sum, a.weight + b.weight, a.count + b.count))
            }
        }
        var i = 0
        for b in blocks {
            for _ in 0..<b.count {
                x[layer[i]] = b.sum / b.weight + offset[i]
                i += 1
            }
        }
    }
}

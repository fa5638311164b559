/// Edge routes: each edge leaves its source's bottom and enters its target's top at a port of its
/// own (spread along the side, ordered by where the edge goes, so edges do not cross at a box),
/// and runs straight down through the dummies on the ranks it skips, beside the boxes there.
extension LayeredGraph {
    static let portSpacing = 14.0

    func routes(_ vt: Vertical) -> [[Point]] {
        var outgoing = Array(repeating: [Int](), count: rank.count)
        var incoming = outgoing
        for (k, chain) in chains.enumerated() where chain.count >= 2 {
            outgoing[chain[0]].append(k)
            incoming[chain[chain.count - 1]].append(k)
        }
        var start = Array(repeating: Point(0, 0), count: chains.count), end = start
        for v in diagram.nodes.indices {
            let box = rect(of: v, vt)
            let outs = outgoing[v].sorted { x[chains[$0][1]] < x[chains[$1][1]] }
            for (i, k) in outs.enumerated() { start[k] = port(box, circle: isCircle[v], i, outs.count, bottom: true) }
            let ins = incoming[v].sorted { x[chains[$0][chains[$0].count - 2]] < x[chains[$1][chains[$1].count - 2]] }
            for (i, k) in ins.enumerated() { end[k] = port(box, circle: isCircle[v], i, ins.count, bottom: false) }
        }
        return chains.enumerated().map { k, chain in
            guard chain.count >= 2 else { return [] }
            var points = [start[k]]
            for d in chain.dropFirst().dropLast() {
                let r = rank[d]
                points.append(Point(x[d], vt.top[r] - vt.headerSpace[r]))
                points.append(Point(x[d], vt.top[r] + vt.height[r] + vt.footerSpace[r]))
            }
            points.append(end[k])
            return points
        }
    }

    /// The `i`th of `n` ports on a box's bottom or top (on a circle, where that column meets it).
    func port(_ box: Rect, circle: Bool, _ i: Int, _ n: Int, bottom: Bool) -> Point {
        let usable = circle ? box.width * 0.6 : max(0, box.width - 24)
        let spacing = n > 1 ? min(circle ? 6 : Self.portSpacing, usable / Double(n - 1)) : 0
        let dx = (Double(i) - Double(n - 1) / 2) * spacing
        guard circle else { return Point(box.midX + dx, bottom ? box.maxY : box.y) }
        let r = box.width / 2
        let dy = (r * r - dx * dx).squareRoot()
        return Point(box.midX + dx, box.midY + (bottom ? dy : -dy))
    }
}

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
            let outs = outgoing[v].map { (edge: $0, toward: x[chains[$0][1]]) }.sorted { $0.toward < $1.toward }
            for (k, dx) in zip(outs, offsets(v, outs.map(\.toward))) { start[k.edge] = port(box, circle: isCircle[v], dx: dx, bottom: true) }
            let ins = incoming[v].map { (edge: $0, toward: x[chains[$0][chains[$0].count - 2]]) }.sorted { $0.toward < $1.toward }
            for (k, dx) in zip(ins, offsets(v, ins.map(\.toward))) { end[k.edge] = port(box, circle: isCircle[v], dx: dx, bottom: false) }
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

    /// Where the ports of node `v` sit, from its centre, for edges toward the x positions given (in
    /// order): evenly spaced, and shifted so the edge that runs most nearly straight down leaves
    /// from the centre, as far as the side allows.
    func offsets(_ v: Int, _ toward: [Double]) -> [Double] {
        let n = toward.count
        guard n > 1 else { return Array(repeating: 0, count: n) }
        let usable = isCircle[v] ? width[v] * 0.6 : max(0, width[v] - 24)
        let spacing = min(isCircle[v] ? 6 : Self.portSpacing, usable / Double(n - 1))
        var dx = (0..<n).map { (Double($0) - Double(n - 1) / 2) * spacing }
        let straight = toward.indices.min { abs(toward[$0] - x[v]) < abs(toward[$1] - x[v]) }!
        let shift = max(-usable / 2 - dx[0], min(usable / 2 - dx[n - 1], -dx[straight]))
        for i in dx.indices { dx[i] += shift }
        return dx
    }

    /// The port `dx` from the middle of a box's bottom or top (on a circle, where that column meets it).
    func port(_ box: Rect, circle: Bool, dx: Double, bottom: Bool) -> Point {
        guard circle else { return Point(box.midX + dx, bottom ? box.maxY : box.y) }
        let r = box.width / 2
        let dy = (r * r - dx * dx).squareRoot()
        return Point(box.midX + dx, box.midY + (bottom ? dy : -dy))
    }
}

/// Clusters drawn as frames: kept clear of the nodes they do not hold, and measured.
extension LayeredGraph {
    static let headerHeight = 24.0, footerPad = 12.0, rankGap = 36.0

    /// The ranks' tops and heights.
    struct Vertical {
        var top: [Double]
        var height: [Double]
        /// Room above each rank for the headers of the frames that start there, and below it for
        /// the frames that end there: an edge passing a rank runs straight through both.
        var headerSpace: [Double]
        var footerSpace: [Double]
    }

    /// The nodes inside each cluster (dummies included), and the ranks they span.
    func membership() -> (members: [[Int]], ranks: [ClosedRange<Int>?]) {
        var members = Array(repeating: [Int](), count: diagram.clusters.count)
        for v in chainOf.indices { for c in chainOf[v] { members[c].append(v) } }
        let ranks = members.map { m -> ClosedRange<Int>? in
            guard let lo = m.map({ rank[$0] }).min(), let hi = m.map({ rank[$0] }).max() else { return nil }
            return lo...hi
        }
        return (members, ranks)
    }

    /// Clusters deepest first, so each is measured after the clusters inside it.
    func clustersInnermostFirst() -> [Int] {
        diagram.clusters.indices.sorted { diagram.ancestors(ofCluster: $0).count > diagram.ancestors(ofCluster: $1).count }
    }

    /// Each cluster's frame: its own nodes' boxes and its inner frames, widened by the padding and
    /// topped by its header (nil for a cluster with no nodes).
    func frames(_ box: (Int) -> Rect) -> [Rect?] {
        var frame = Array(repeating: Rect?.none, count: diagram.clusters.count)
        for v in cluster.indices {
            guard let c = cluster[v] else { continue }
            frame[c] = frame[c].map { $0.union(box(v)) } ?? box(v)
        }
        for c in clustersInnermostFirst() {
            guard let f = frame[c] else { continue }
            let w = max(f.width + 2 * Self.clusterPadX, Self.headerWidth(diagram.clusters[c]))
            let widened = Rect(x: f.midX - w / 2, y: f.y - Self.headerHeight, width: w, height: f.height + Self.headerHeight + Self.footerPad)
            frame[c] = widened
            if let p = diagram.clusters[c].parent { frame[p] = frame[p].map { $0.union(widened) } ?? widened }
        }
        return frame
    }

    /// The width a cluster's header needs: its title, type, parameters and count.
    static func headerWidth(_ c: Diagram.Cluster) -> Double {
        let text = TextMetrics.width(c.title, size: 11.5, bold: true) + (c.op.isEmpty ? 0 : 5 + TextMetrics.width(c.op, size: 11))
        let params = c.params > 0 ? 24 + TextMetrics.width(ShapeText.params(c.params), size: 10.5) : 0
        return min(text + params + (c.count > 1 ? NodeLabel.badgeWidth(c.count) + 6 : 0) + 26, 420)
    }

    /// Pushes every node that is not in a cluster out of the cluster's horizontal extent on each
    /// rank the cluster spans (rightward if it is right of the cluster's nodes, else leftward),
    /// until no frame covers a node it does not hold.
    mutating func keepClustersClear() {
        guard !diagram.clusters.isEmpty else { return }
        let (_, ranks) = membership()
        for _ in 0..<200 {
            let current = x, w = width
            let extents = frames { Rect(x: current[$0] - w[$0] / 2, y: 0, width: w[$0], height: 1) }
            var moved = false
            for c in diagram.clusters.indices {
                guard let e = extents[c], let span = ranks[c] else { continue }
                for r in span where clear(c, e, rank: r) { moved = true }
            }
            if !moved { break }
        }
    }

    /// Moves the nodes of rank `r` outside cluster `c` off its extent `e`; whether any moved.
    mutating func clear(_ c: Int, _ e: Rect, rank r: Int) -> Bool {
        let layer = layers[r]
        let firstInside = layer.firstIndex { isInside($0, c) }
        var moved = false
        for (i, v) in layer.enumerated() where !isInside(v, c) {
            // A repeated block's second frame sits 5 to the right and below.
            let margin = (isDummy[v] ? Self.dummyGap + 6 : Self.gap / 2) + (diagram.clusters[c].count > 1 ? 5 : 0)
            let right = firstInside.map { i > $0 } ?? (x[v] >= e.midX)
            let overlap = right ? e.maxX + margin - (x[v] - width[v] / 2) : (x[v] + width[v] / 2) - (e.x - margin)
            guard overlap > 0.01 else { continue }
            for j in right ? Array(i..<layer.count) : Array(0...i) { x[layer[j]] += right ? overlap : -overlap }
            moved = true
        }
        return moved
    }

    func verticalPositions() -> Vertical {
        let (_, ranks) = membership()
        func count(_ r: Int, _ edge: (ClosedRange<Int>) -> Int) -> Int {
            guard r < layers.count else { return 0 }
            return layers[r].map { v in chainOf[v].filter { c in ranks[c].map(edge) == r }.count }.max() ?? 0
        }
        let headers = layers.indices.map { Double(count($0, \.lowerBound)) * Self.headerHeight }
        let footers = layers.indices.map { Double(count($0, \.upperBound)) * Self.footerPad }
        var top: [Double] = [], height: [Double] = []
        var y = headers.first ?? 0
        for r in layers.indices {
            top.append(y)
            height.append(layers[r].map { self.height[$0] }.max() ?? 0)
            y += height[r] + Self.rankGap + footers[r] + (r + 1 < layers.count ? headers[r + 1] : 0)
        }
        return Vertical(top: top, height: height, headerSpace: headers, footerSpace: footers)
    }

    /// Node `v`'s box, centred on its rank (a dummy's spans the rank's band).
    func rect(of v: Int, _ vt: Vertical) -> Rect {
        let r = rank[v]
        let h = isDummy[v] ? vt.height[r] : height[v]
        return Rect(x: x[v] - width[v] / 2, y: vt.top[r] + (vt.height[r] - h) / 2, width: width[v], height: h)
    }

    func clusterRects(_ vt: Vertical) -> [Rect] {
        frames { rect(of: $0, vt) }.map { $0 ?? Rect(x: 0, y: 0, width: 0, height: 0) }
    }
}

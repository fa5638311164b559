/// A point and a rectangle of the drawing, in pixels (y grows downward).
public struct Point: Sendable, Equatable {
    public var x: Double, y: Double
    public init(_ x: Double, _ y: Double) { self.x = x; self.y = y }
}

public struct Rect: Sendable, Equatable {
    public var x: Double, y: Double, width: Double, height: Double
    public init(x: Double, y: Double, width: Double, height: Double) {
        self.x = x; self.y = y; self.width = width; self.height = height
    }
    public var maxX: Double { x + width }
    public var maxY: Double { y + height }
    public var midX: Double { x + width / 2 }
    public var midY: Double { y + height / 2 }

    public func intersects(_ o: Rect) -> Bool { x < o.maxX && o.x < maxX && y < o.maxY && o.y < maxY }
    public func contains(_ o: Rect) -> Bool { x <= o.x && o.maxX <= maxX && y <= o.y && o.maxY <= maxY }
    public func contains(_ p: Point, tolerance t: Double = 0.01) -> Bool {
        p.x >= x - t && p.x <= maxX + t && p.y >= y - t && p.y <= maxY + t
    }
    public func union(_ o: Rect) -> Rect {
        let nx = min(x, o.x), ny = min(y, o.y)
        return Rect(x: nx, y: ny, width: max(maxX, o.maxX) - nx, height: max(maxY, o.maxY) - ny)
    }
}

/// Where everything of a diagram goes: a layered top-to-bottom drawing (Sugiyama's method). Nodes
/// are ranked by their longest path from an input, long edges get a dummy node on each rank they
/// cross, the ranks are ordered to avoid crossings with each cluster kept together, x positions are
/// found by pulling each node toward its neighbours (the longest chain held straight), clusters
/// are kept clear of other nodes, and edges run through their dummies as smooth vertical curves.
public struct Layout: Sendable {
    public var labels: [NodeLabel]
    /// One per diagram node, cluster and edge, in the diagram's order.
    public var nodes: [Rect]
    public var clusters: [Rect]
    /// Each edge's points: its start on the source's bottom, two points per rank it crosses (where
    /// it enters and leaves the rank's band, frame headers and footers included), its end on the target's top.
    public var edges: [[Point]]
    public var width: Double
    public var height: Double

    public static func make(_ d: Diagram) -> Layout {
        let labels = d.nodes.map(NodeLabel.init)
        var g = LayeredGraph(d, labels: labels)
        g.order()
        g.place()
        let vertical = g.verticalPositions()
        var result = Layout(labels: labels, nodes: [], clusters: [], edges: [], width: 0, height: 0)
        result.nodes = d.nodes.indices.map { g.rect(of: $0, vertical) }
        result.clusters = g.clusterRects(vertical)
        result.edges = g.routes(vertical)
        result.normalise()
        return result
    }

    /// Moves the drawing so it starts at (0, 0), and measures it.
    mutating func normalise() {
        let all = nodes + clusters
        guard let first = all.first else { return }
        let box = all.dropFirst().reduce(first) { $0.union($1) }
        for i in nodes.indices { nodes[i].x -= box.x; nodes[i].y -= box.y }
        for i in clusters.indices { clusters[i].x -= box.x; clusters[i].y -= box.y }
        for i in edges.indices { for j in edges[i].indices { edges[i][j].x -= box.x; edges[i][j].y -= box.y } }
        width = box.width
        height = box.height
    }
}

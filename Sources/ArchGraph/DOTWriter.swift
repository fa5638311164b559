/// The diagram as Graphviz DOT: the same nodes, clusters, labels and colours as the SVG, for
/// users who lay it out with `dot` or edit it. Every id and label is a quoted, escaped string.
public enum DOTWriter {
    public static func write(_ d: Diagram) -> String {
        let ids = NodeIDs(d)
        var out = "digraph \"\(Escape.dot(d.title))\" {\n"
        out += "  graph [rankdir=TB, fontname=\"Helvetica\", fontsize=14, labelloc=t, nodesep=0.3, ranksep=0.35, "
        out += "label=\"\(Escape.dot(d.title))\\nTotal params: \(ShapeText.grouped(d.totalParams))\"];\n"
        out += "  node [shape=box, style=\"rounded,filled\", fontname=\"Helvetica\", fontsize=10, penwidth=1.2];\n"
        out += "  edge [color=\"#64748b\", arrowsize=0.7];\n"
        var children = Array(repeating: [Int](), count: d.clusters.count)
        var topClusters: [Int] = []
        for (c, cluster) in d.clusters.enumerated() {
            if let p = cluster.parent { children[p].append(c) } else { topClusters.append(c) }
        }
        var members = Array(repeating: [Int](), count: d.clusters.count)
        for (i, node) in d.nodes.enumerated() {
            if let c = node.cluster { members[c].append(i) } else { out += "  " + nodeLine(d, i, ids) }
        }
        func emit(_ c: Int, indent: String) {
            let cluster = d.clusters[c]
            var label = cluster.title + (cluster.op.isEmpty ? "" : " (\(cluster.op))") + (cluster.count > 1 ? " ×\(cluster.count)" : "")
            if cluster.params > 0 { label += "\n" + ShapeText.params(cluster.params) }
            out += "\(indent)subgraph \"cluster_\(c)\" {\n"
            out += "\(indent)  label=\"\(Escape.dot(label))\"; style=\"rounded,dashed\"; color=\"#94a3b8\"; fontsize=10; fontname=\"Helvetica\";\n"
            for i in members[c] { out += indent + "  " + nodeLine(d, i, ids) }
            for k in children[c] { emit(k, indent: indent + "  ") }
            out += "\(indent)}\n"
        }
        for c in topClusters { emit(c, indent: "  ") }
        for e in d.edges { out += "  \"\(Escape.dot(ids[e.from]))\" -> \"\(Escape.dot(ids[e.to]))\";\n" }
        return out + "}\n"
    }

    static func nodeLine(_ d: Diagram, _ i: Int, _ ids: NodeIDs) -> String {
        let node = d.nodes[i]
        let (fill, stroke, text) = node.family.colours
        var attrs = "fillcolor=\"\(fill)\", color=\"\(stroke)\", fontcolor=\"\(text)\""
        let label = NodeLabel(node)
        switch label.shape {
        case .circle: attrs += ", shape=circle, fixedsize=true, width=0.35, fontsize=14"
        case .pill: attrs += ", penwidth=2"
        case .box: if node.count > 1 { attrs += ", peripheries=2" }
        }
        return "\"\(Escape.dot(ids[i]))\" [label=\"\(Escape.dot(lines(node).joined(separator: "\n")))\", \(attrs)];\n"
    }

    /// A node's label as lines: title (with op and count), shape, parameters.
    static func lines(_ node: Diagram.Node) -> [String] {
        let label = NodeLabel(node)
        if label.shape == .circle { return [label.title] }
        let head = label.title + (label.op.isEmpty ? "" : " (\(label.op))") + (node.count > 1 ? " ×\(node.count)" : "")
        return [head] + label.lines
    }
}

/// Unique, readable ids for the nodes: their paths (`layer1.0.conv1`), a number added to repeats.
struct NodeIDs {
    var ids: [String] = []

    init(_ d: Diagram) {
        var used = Set<String>()
        for node in d.nodes {
            var id = node.kind == .input ? "input " + node.path : node.path
            var k = 2
            while !used.insert(id).inserted {
                id = (node.kind == .input ? "input " + node.path : node.path) + " #\(k)"
                k += 1
            }
            ids.append(id)
        }
    }

    subscript(_ i: Int) -> String { ids[i] }
}

/// The diagram as a Mermaid flowchart (for Markdown pages that render Mermaid): the same nodes,
/// nested subgraphs for the clusters, and a class per op family with its colours. Ids are made
/// here (`n0`, `c0`); labels from the spec use Mermaid's entity codes for every special character.
public enum MermaidWriter {
    public static func write(_ d: Diagram) -> String {
        var out = "---\ntitle: \"\(yaml(d.title + " (total params: \(ShapeText.grouped(d.totalParams)))"))\"\n---\nflowchart TB\n"
        var children = Array(repeating: [Int](), count: d.clusters.count)
        var topClusters: [Int] = []
        for (c, cluster) in d.clusters.enumerated() {
            if let p = cluster.parent { children[p].append(c) } else { topClusters.append(c) }
        }
        var members = Array(repeating: [Int](), count: d.clusters.count)
        for (i, node) in d.nodes.enumerated() {
            if let c = node.cluster { members[c].append(i) } else { out += "  " + nodeLine(d.nodes[i], i) }
        }
        func emit(_ c: Int, indent: String) {
            let cluster = d.clusters[c]
            var label = Escape.mermaid(cluster.title) + (cluster.op.isEmpty ? "" : " · " + Escape.mermaid(cluster.op))
            if cluster.count > 1 { label += " ×\(cluster.count)" }
            if cluster.params > 0 { label += " · " + ShapeText.params(cluster.params) }
            out += "\(indent)subgraph c\(c)[\"\(label)\"]\n\(indent)  direction TB\n"
            for i in members[c] { out += indent + "  " + nodeLine(d.nodes[i], i) }
            for k in children[c] { emit(k, indent: indent + "  ") }
            out += "\(indent)end\n"
        }
        for c in topClusters { emit(c, indent: "  ") }
        for e in d.edges { out += "  n\(e.from) --> n\(e.to)\n" }
        for family in OpFamily.allCases where d.nodes.contains(where: { $0.family == family }) {
            let (fill, stroke, text) = family.colours
            out += "  classDef f_\(family.rawValue) fill:\(fill),stroke:\(stroke),color:\(text)\n"
            let ids = d.nodes.indices.filter { d.nodes[$0].family == family }.map { "n\($0)" }
            out += "  class \(ids.joined(separator: ",")) f_\(family.rawValue)\n"
        }
        return out
    }

    static func nodeLine(_ node: Diagram.Node, _ i: Int) -> String {
        let label = NodeLabel(node)
        if label.shape == .circle { return "n\(i)((\"\(Escape.mermaid(label.title))\"))\n" }
        var text = "<b>\(Escape.mermaid(label.title))</b>" + (label.op.isEmpty ? "" : " " + Escape.mermaid(label.op))
        if node.count > 1 { text += " ×\(node.count)" }
        for line in label.lines { text += "<br/>" + Escape.mermaid(line) }
        return label.shape == .pill ? "n\(i)([\"\(text)\"])\n" : "n\(i)[\"\(text)\"]\n"
    }

    /// A YAML double-quoted string's contents.
    static func yaml(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            default: out.unicodeScalars.append(u.value < 0x20 || u.value == 0x7F ? "\u{FFFD}" : u)
            }
        }
        return out
    }
}

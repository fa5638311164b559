/// Boxes, merges, inputs and outputs, and the frames of expanded blocks.
extension SVGWriter {
    static func nodes(_ d: Diagram, _ layout: Layout) -> String {
        var out = ""
        for (i, node) in d.nodes.enumerated() {
            let label = layout.labels[i], r = layout.nodes[i]
            let (fill, stroke, text) = node.family.colours
            out += "<g>\n<title>\(Escape.xml(tooltip(node)))</title>\n"
            switch label.shape {
            case .circle:
                out += "<circle cx=\"\(n(r.midX))\" cy=\"\(n(r.midY))\" r=\"\(n(r.width / 2))\" fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"1.5\"/>\n"
                out += "<text x=\"\(n(r.midX))\" y=\"\(n(r.midY + 5.5))\" text-anchor=\"middle\" font-size=\"16\" font-weight=\"bold\" fill=\"\(text)\">\(Escape.xml(label.title))</text>\n"
            case .box, .pill:
                let radius = label.shape == .pill ? r.height / 2 : 7
                for k in stride(from: min(node.count - 1, 2), to: 0, by: -1) {
                    out += rect(r, dx: Double(3 * k), radius: radius, fill: fill, stroke: stroke)
                }
                out += rect(r, dx: 0, radius: radius, fill: fill, stroke: stroke)
                out += textLines(label, r, colour: text, dim: node.family == .input || node.family == .output ? "#cbd5e1" : "#475569")
                if node.count > 1 { out += badge(node.count, right: r.maxX - 5, top: r.y + 5, colour: stroke) }
            }
            out += "</g>\n"
        }
        return out
    }

    static func rect(_ r: Rect, dx: Double, radius: Double, fill: String, stroke: String) -> String {
        "<rect x=\"\(n(r.x + dx))\" y=\"\(n(r.y + dx))\" width=\"\(n(r.width))\" height=\"\(n(r.height))\" rx=\"\(n(radius))\" " +
            "fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"1.5\"/>\n"
    }

    /// The bold title with the op after it, then the shape and the parameters, centred.
    static func textLines(_ label: NodeLabel, _ r: Rect, colour: String, dim: String) -> String {
        var y = r.y + NodeLabel.padY + 11
        var out = "<text x=\"\(n(r.midX))\" y=\"\(n(y))\" text-anchor=\"middle\" fill=\"\(colour)\">"
        out += "<tspan font-size=\"\(n(NodeLabel.titleSize))\" font-weight=\"bold\">\(Escape.xml(label.title))</tspan>"
        if !label.op.isEmpty {
            out += "<tspan dx=\"\(n(NodeLabel.opGap))\" font-size=\"\(n(NodeLabel.opSize))\" fill=\"\(dim)\">\(Escape.xml(label.op))</tspan>"
        }
        out += "</text>\n"
        for (k, line) in label.lines.enumerated() {
            y += NodeLabel.lineHeight
            out += "<text x=\"\(n(r.midX))\" y=\"\(n(y))\" text-anchor=\"middle\" font-size=\"\(n(NodeLabel.lineSize))\" " +
                "fill=\"\(k == 0 ? colour : dim)\">\(Escape.xml(line))</text>\n"
        }
        return out
    }

    /// A count such as `×12` in a small pill whose right end is at `right`.
    static func badge(_ count: Int, right: Double, top: Double, colour: String) -> String {
        let text = "×\(count)", w = NodeLabel.badgeWidth(count)
        return "<rect x=\"\(n(right - w))\" y=\"\(n(top))\" width=\"\(n(w))\" height=\"17\" rx=\"8.5\" fill=\"\(colour)\"/>\n" +
            "<text x=\"\(n(right - w / 2))\" y=\"\(n(top + 12.5))\" text-anchor=\"middle\" font-size=\"10.5\" font-weight=\"bold\" fill=\"#ffffff\">\(Escape.xml(text))</text>\n"
    }

    static func tooltip(_ node: Diagram.Node) -> String {
        var parts = [node.path + (node.op.isEmpty ? "" : " (\(node.op))")]
        if node.count > 1 { parts.append("repeated \(node.count) times") }
        parts.append(node.shape)
        if node.params > 0 { parts.append(ShapeText.params(node.params)) }
        return parts.joined(separator: ", ")
    }

    /// Frames of expanded blocks, outermost first, with a second frame behind a repeated one.
    static func clusterFrames(_ d: Diagram, _ layout: Layout) -> String {
        var out = ""
        for c in outermostFirst(d) where layout.clusters[c].width > 0 {
            let r = layout.clusters[c]
            out += "<g>\n<title>\(Escape.xml(d.clusters[c].path + (d.clusters[c].op.isEmpty ? "" : " (\(d.clusters[c].op))")))</title>\n"
            if d.clusters[c].count > 1 { out += frame(r, dx: 5, fill: fill(d, c)) }
            out += frame(r, dx: 0, fill: fill(d, c)) + "</g>\n"
        }
        return out
    }

    /// The frames' headers, drawn over the edges that enter them: the title and type at the top
    /// left, the parameters at the top right, and the count of a repeated block, each on a patch of
    /// the frame's colour.
    static func clusterLabels(_ d: Diagram, _ layout: Layout) -> String {
        var out = ""
        for c in outermostFirst(d) where layout.clusters[c].width > 0 {
            let cluster = d.clusters[c], r = layout.clusters[c]
            var right = r.maxX - 10
            if cluster.count > 1 {
                out += badge(cluster.count, right: right, top: r.y + 4, colour: "#475569")
                right -= NodeLabel.badgeWidth(cluster.count) + 6
            }
            let title = TextMetrics.truncated(cluster.title, size: 11.5, bold: true, maxWidth: max(20, right - r.x - 20))
            var width = TextMetrics.width(title, size: 11.5, bold: true)
            var text = "<tspan font-weight=\"bold\">\(Escape.xml(title))</tspan>"
            if !cluster.op.isEmpty && width + TextMetrics.width(cluster.op, size: 11) + 30 < right - r.x {
                text += "<tspan dx=\"5\" fill=\"#64748b\">\(Escape.xml(cluster.op))</tspan>"
                width += 5 + TextMetrics.width(cluster.op, size: 11)
            }
            out += patch(x: r.x + 6, width: width + 8, top: r.y + 4, fill: fill(d, c))
            out += "<text x=\"\(n(r.x + 10))\" y=\"\(n(r.y + 16))\" font-size=\"11.5\" fill=\"#334155\">\(text)</text>\n"
            let params = ShapeText.params(cluster.params), paramsWidth = TextMetrics.width(params, size: 10.5)
            if cluster.params > 0 && width + 24 + paramsWidth <= right - r.x - 2 {
                out += patch(x: right - paramsWidth - 4, width: paramsWidth + 8, top: r.y + 4, fill: fill(d, c))
                out += "<text x=\"\(n(right))\" y=\"\(n(r.y + 16))\" text-anchor=\"end\" font-size=\"10.5\" fill=\"#64748b\">\(Escape.xml(params))</text>\n"
            }
        }
        return out
    }

    static func outermostFirst(_ d: Diagram) -> [Int] {
        d.clusters.indices.sorted { d.ancestors(ofCluster: $0).count < d.ancestors(ofCluster: $1).count }
    }

    static func fill(_ d: Diagram, _ c: Int) -> String {
        d.ancestors(ofCluster: c).count % 2 == 1 ? "#f8fafc" : "#f1f5f9"
    }

    static func patch(x: Double, width: Double, top: Double, fill: String) -> String {
        "<rect x=\"\(n(x))\" y=\"\(n(top))\" width=\"\(n(width))\" height=\"16\" rx=\"3\" fill=\"\(fill)\"/>\n"
    }

    static func frame(_ r: Rect, dx: Double, fill: String) -> String {
        "<rect x=\"\(n(r.x + dx))\" y=\"\(n(r.y + dx))\" width=\"\(n(r.width))\" height=\"\(n(r.height))\" rx=\"10\" " +
            "fill=\"\(fill)\" stroke=\"#94a3b8\" stroke-width=\"1\" stroke-dasharray=\"5 3\"/>\n"
    }
}

/// The diagram as a standalone SVG 1.1 document: the model's name as the title, a legend of the
/// op families it uses, the laid-out network, and the total parameter count at the foot. Every
/// text from the spec is escaped; nothing outside the file is referred to.
public enum SVGWriter {
    static let margin = 28.0
    static let font = "Helvetica, Arial, 'Liberation Sans', sans-serif"
    static let edgeColour = "#64748b"

    public static func write(_ d: Diagram, depth: Int) -> String {
        let layout = Layout.make(d)
        let title = TextMetrics.truncated(d.title, size: 22, bold: true, maxWidth: 900)
        let subtitle = "Layers to depth \(depth); each box shows its output shape" + (d.shapeNote.map { " (\($0))" } ?? "") + " and parameters."
        let width = (max(layout.width + 2 * margin, TextMetrics.width(title, size: 22, bold: true) + 2 * margin,
                         TextMetrics.width(subtitle, size: 12) + 2 * margin, 480)).rounded(.up)
        let legend = Legend(d.families, width: width - 2 * margin)
        let legendTop = 74.0
        let bodyTop = legendTop + legend.height + 26
        let bodyLeft = ((width - layout.width) / 2).rounded()
        let height = (bodyTop + layout.height + 64).rounded(.up)
        var out = """
        <?xml version="1.0" encoding="UTF-8" standalone="no"?>
        <svg xmlns="http://www.w3.org/2000/svg" version="1.1" width="\(n(width))" height="\(n(height))" \
        viewBox="0 0 \(n(width)) \(n(height))" font-family="\(font)">
        <title>\(Escape.xml(d.title))</title>
        <desc>The network \(Escape.xml(d.title)) drawn by archc graph: \(d.nodes.count) nodes, \(d.edges.count) edges.</desc>
        <defs>
        <marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto">\
        <path d="M0,1 L10,5 L0,9 z" fill="\(edgeColour)"/></marker>
        </defs>
        <rect x="0" y="0" width="\(n(width))" height="\(n(height))" fill="#ffffff"/>
        <text x="\(n(margin))" y="42" font-size="22" font-weight="bold" fill="#0f172a">\(Escape.xml(title))</text>
        <text x="\(n(margin))" y="62" font-size="12" fill="#64748b">\(Escape.xml(subtitle))</text>

        """
        out += legend.svg(x: margin, y: legendTop)
        out += "<g transform=\"translate(\(n(bodyLeft)),\(n(bodyTop)))\">\n"
        out += clusterFrames(d, layout)
        out += edges(layout)
        out += clusterLabels(d, layout)
        out += nodes(d, layout)
        out += "</g>\n"
        let footer = "Total params: \(ShapeText.grouped(d.totalParams))"
        out += "<text x=\"\(n(margin))\" y=\"\(n(height - 24))\" font-size=\"13\" font-weight=\"bold\" fill=\"#0f172a\">\(Escape.xml(footer))</text>\n"
        return out + "</svg>\n"
    }

    static func edges(_ layout: Layout) -> String {
        var out = "<g fill=\"none\" stroke=\"\(edgeColour)\" stroke-width=\"1.4\">\n"
        for points in layout.edges where points.count >= 2 {
            out += "<path d=\"\(path(points))\" marker-end=\"url(#arrow)\"/>\n"
        }
        return out + "</g>\n"
    }

    /// A route as a path: vertical S-curves between ranks, straight lines through the ranks skipped.
    static func path(_ p: [Point]) -> String {
        var d = "M\(n(p[0].x)),\(n(p[0].y))"
        // p: start, then where the edge enters and leaves each rank it skips, then its end.
        for i in 1..<p.count {
            let a = p[i - 1], b = p[i]
            if i % 2 == 1 {
                let mid = (a.y + b.y) / 2
                d += " C\(n(a.x)),\(n(mid)) \(n(b.x)),\(n(mid)) \(n(b.x)),\(n(b.y))"
            } else {
                d += " L\(n(b.x)),\(n(b.y))"
            }
        }
        return d
    }

    /// A number for SVG: at most one decimal, never `-0`.
    static func n(_ v: Double) -> String {
        let r = (v * 10).rounded() / 10
        if r == 0 { return "0" }
        return r == r.rounded() ? String(Int(r)) : String(r)
    }
}

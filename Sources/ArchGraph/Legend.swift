/// The legend: a swatch and the words of each op family the diagram uses, in rows that fit.
struct Legend {
    var items: [(family: OpFamily, x: Double, row: Int)] = []
    var height = 0.0
    static let rowHeight = 20.0, swatch = 14.0

    init(_ families: [OpFamily], width: Double) {
        var x = 0.0, row = 0
        for f in families {
            let w = Self.swatch + 6 + TextMetrics.width(f.label, size: 11) + 18
            if x > 0 && x + w > width {
                row += 1
                x = 0
            }
            items.append((f, x, row))
            x += w
        }
        height = items.isEmpty ? 0 : Double(row + 1) * Self.rowHeight
    }

    func svg(x: Double, y: Double) -> String {
        var out = "<g font-size=\"11\" fill=\"#334155\">\n"
        for item in items {
            let (fill, stroke, _) = item.family.colours
            let top = y + Double(item.row) * Self.rowHeight
            let left = x + item.x
            out += "<rect x=\"\(SVGWriter.n(left))\" y=\"\(SVGWriter.n(top))\" width=\"\(SVGWriter.n(Self.swatch))\" height=\"11\" rx=\"3\" " +
                "fill=\"\(fill)\" stroke=\"\(stroke)\" stroke-width=\"1.2\"/>\n"
            out += "<text x=\"\(SVGWriter.n(left + Self.swatch + 6))\" y=\"\(SVGWriter.n(top + 10))\">\(Escape.xml(item.family.label))</text>\n"
        }
        return out + "</g>\n"
    }
}

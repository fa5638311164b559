/// The text of a diagram node as drawn, and the box that fits it. The layout sizes boxes with it
/// and the SVG writer draws it, so both agree on every line.
public struct NodeLabel: Sendable {
    public enum Shape: Sendable { case box, pill, circle }

    public var shape: Shape
    /// Bold first line, and the op after it in regular type.
    public var title: String
    public var op: String
    /// Smaller lines under the title: the output shape, the parameter count.
    public var lines: [String]
    public var width: Double
    public var height: Double

    static let titleSize = 12.5, opSize = 11.0, lineSize = 11.0
    static let lineHeight = 15.0, padX = 14.0, padY = 9.0
    static let maxTextWidth = 300.0
    static let circleDiameter = 26.0

    public init(_ n: Diagram.Node) {
        switch n.kind {
        case .merge where n.title.count == 1:
            shape = .circle
            title = n.title
            op = ""
            lines = []
        case .merge, .layer:
            shape = n.kind == .merge ? .pill : .box
            title = TextMetrics.truncated(n.title, size: Self.titleSize, bold: true, maxWidth: Self.maxTextWidth * 0.7)
            op = TextMetrics.truncated(n.op, size: Self.opSize, maxWidth: Self.maxTextWidth * 0.45)
            lines = [n.shape] + (n.params > 0 ? [ShapeText.params(n.params)] : [])
        case .input, .output:
            shape = .pill
            title = TextMetrics.truncated(n.kind == .input ? n.title : "output", size: Self.titleSize, bold: true, maxWidth: Self.maxTextWidth * 0.7)
            op = ""
            lines = [n.shape]
        }
        lines = lines.map { TextMetrics.truncated($0, size: Self.lineSize, maxWidth: Self.maxTextWidth) }
        if shape == .circle {
            width = Self.circleDiameter
            height = Self.circleDiameter
            return
        }
        let badge = n.count > 1 ? Self.badgeWidth(n.count) + 8 : 0
        let text = max(Self.titleWidth(title, op) + 2 * badge, lines.map { TextMetrics.width($0, size: Self.lineSize) }.max() ?? 0)
        width = (max(text + 2 * Self.padX, shape == .box ? 120 : 90)).rounded(.up)
        height = 2 * Self.padY + Self.lineHeight * Double(1 + lines.count) - 3
    }

    /// The first line's width: the bold title, a gap, the op.
    static func titleWidth(_ title: String, _ op: String) -> Double {
        TextMetrics.width(title, size: titleSize, bold: true) + (op.isEmpty ? 0 : opGap + TextMetrics.width(op, size: opSize))
    }
    static let opGap = 5.0

    /// The pill showing a count, `×12`.
    static func badgeWidth(_ count: Int) -> Double {
        (TextMetrics.width("×\(count)", size: badgeSize, bold: true) + 12).rounded(.up)
    }
    static let badgeSize = 10.5
}

import ArchSemantics

/// Shapes and counts as the diagram writes them: `B×197×768`, `7,087,872`.
public enum ShapeText {
    /// The batch symbol is written `B`; every other symbol as the spec names it, an expression in
    /// parentheses (`B×(seq+1)×768`).
    public static func format(_ shape: Shape) -> String {
        if shape.isEmpty { return "scalar" }
        return shape.map(dim).joined(separator: "×")
    }

    static func dim(_ d: Dim) -> String {
        if let v = d.value { return String(v) }
        if d.constant == 0, d.terms == ["batch": 1] { return "B" }
        let text = d.description
        return text.contains(where: { "+-*/".contains($0) }) ? "(\(text))" : text
    }

    /// Whether any shape of the graph writes `B` for the batch.
    static func usesBatchSymbol(_ g: Graph) -> Bool {
        g.values.contains { $0.shape.contains { $0.constant == 0 && $0.terms == ["batch": 1] } }
    }

    /// 11689512 -> "11,689,512"
    public static func grouped(_ n: Int) -> String {
        let s = String(n.magnitude)
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    /// "9,408 params", "1 param".
    public static func params(_ n: Int) -> String {
        grouped(n) + (n == 1 ? " param" : " params")
    }
}

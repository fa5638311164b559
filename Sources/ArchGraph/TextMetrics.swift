/// Approximate text widths, so boxes fit their labels without a font engine: Helvetica's advance
/// widths (the metrics of Arial and Liberation Sans too) for ASCII, a few symbols the diagram uses,
/// and a wide default for the rest, plus a little slack for fonts that run wider.
public enum TextMetrics {
    /// Advance widths in thousandths of an em, for U+0020 ... U+007E.
    static let regular: [UInt16] = [
        278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,   // space ... /
        556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,   // 0 ... ?
        1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,  // @ ... O
        667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,   // P ... _
        333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,   // ` ... o
        556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,        // p ... ~
    ]
    static let bold: [UInt16] = [
        278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278,
        556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611,
        975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778,
        667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556,
        333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611,
        611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584,
    ]
    /// Widths measured are this much wider than the table, for fonts a little wider than Helvetica.
    static let slack = 1.04

    /// The width of `text` at `size` points.
    public static func width(_ text: String, size: Double, bold isBold: Bool = false) -> Double {
        var units = 0.0
        for s in text.unicodeScalars {
            units += Double(advance(s, bold: isBold))
        }
        return units * size / 1000 * slack
    }

    static func advance(_ s: Unicode.Scalar, bold isBold: Bool) -> UInt16 {
        let v = s.value
        if v >= 0x20 && v <= 0x7E { return (isBold ? bold : regular)[Int(v - 0x20)] }
        switch v {
        case 0xD7: return 584                    // ×
        case 0xB7: return 278                    // ·
        case 0x2026: return 1000                 // …
        case 0x0300...0x036F, 0x200B...0x200F: return 0   // combining marks, zero-width and direction marks
        case 0x1100...0x115F, 0x2E80...0xA4CF, 0xAC00...0xD7A3, 0xF900...0xFAFF, 0xFE30...0xFE4F, 0xFF00...0xFF60, 0x1F300...0x1FAFF:
            return 1000                          // wide: CJK, Hangul, full-width forms, emoji
        default: return 640
        }
    }

    /// `text` cut to fit `maxWidth`, ending in `…` when cut.
    public static func truncated(_ text: String, size: Double, bold: Bool = false, maxWidth: Double) -> String {
        guard width(text, size: size, bold: bold) > maxWidth else { return text }
        var out = ""
        for c in text {
            if width(out + String(c) + "…", size: size, bold: bold) > maxWidth { break }
            out.append(c)
        }
        return out + "…"
    }
}

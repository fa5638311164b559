/// Escaping of every text a spec provides, for each output format.
public enum Escape {
    /// Text for XML content and attribute values: `&`, `<`, `>` and both quotes as entities, and
    /// the characters XML 1.0 cannot hold at all (controls other than tab and newlines, U+FFFE,
    /// U+FFFF) replaced by U+FFFD.
    public static func xml(_ s: String) -> String {
        var out = ""
        out.reserveCapacity(s.utf8.count)
        for u in s.unicodeScalars {
            switch u {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&apos;"
            case "\t", "\n", "\r": out.unicodeScalars.append(u)
            default: out.unicodeScalars.append(isXMLChar(u) ? u : "\u{FFFD}")
            }
        }
        return out
    }

    static func isXMLChar(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        return (v >= 0x20 && v <= 0xD7FF) || (v >= 0xE000 && v <= 0xFFFD) || v >= 0x10000
    }

    /// A DOT double-quoted string's contents: `\` and `"` escaped, line breaks as `\n` (which DOT
    /// draws as a centred break), other controls as U+FFFD.
    public static func dot(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\\": out += "\\\\"
            case "\"": out += "\\\""
            case "\n": out += "\\n"
            default: out.unicodeScalars.append(u.value < 0x20 || u.value == 0x7F ? "\u{FFFD}" : u)
            }
        }
        return out
    }

    /// A Mermaid label inside `"..."`: quotes, `#`, `&`, `<`, `>` and backquotes as Mermaid's entity
    /// codes (`#quot;`, `#35;`, ...), so no label is read as markup or ends early; controls as U+FFFD.
    public static func mermaid(_ s: String) -> String {
        var out = ""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "#quot;"
            case "#": out += "#35;"
            case "&": out += "#amp;"
            case "<": out += "#lt;"
            case ">": out += "#gt;"
            case "`": out += "#96;"
            default: out.unicodeScalars.append(u.value < 0x20 || u.value == 0x7F ? "\u{FFFD}" : u)
            }
        }
        return out
    }
}

import ArchIO

/// Escaping of every text a spec provides, for each output format: each format is its table of
/// replacements, applied by `String.escaped`.
public enum Escape {
    /// Text for XML content and attribute values: `&`, `<`, `>` and both quotes as entities, and
    /// the characters XML 1.0 cannot hold at all (controls other than tab and newlines, U+FFFE,
    /// U+FFFF) replaced by U+FFFD.
    public static func xml(_ s: String) -> String {
        s.escaped { u in
            switch u {
            case "&": "&amp;"
            case "<": "&lt;"
            case ">": "&gt;"
            case "\"": "&quot;"
            case "'": "&apos;"
            case "\t", "\n", "\r": nil
            default: isXMLChar(u) ? nil : "\u{FFFD}"
            }
        }
    }

    static func isXMLChar(_ u: Unicode.Scalar) -> Bool {
        let v = u.value
        return (v >= 0x20 && v <= 0xD7FF) || (v >= 0xE000 && v <= 0xFFFD) || v >= 0x10000
    }

    /// A DOT double-quoted string's contents: `\` and `"` escaped, line breaks as `\n` (which DOT
    /// draws as a centred break), other controls as U+FFFD.
    public static func dot(_ s: String) -> String {
        s.escaped { u in
            switch u {
            case "\\": "\\\\"
            case "\"": "\\\""
            case "\n": "\\n"
            default: u.isControl ? "\u{FFFD}" : nil
            }
        }
    }

    /// A Mermaid label inside `"..."`: quotes, `#`, `&`, `<`, `>` and backquotes as Mermaid's entity
    /// codes (`#quot;`, `#35;`, ...), so no label is read as markup or ends early; controls as U+FFFD.
    public static func mermaid(_ s: String) -> String {
        s.escaped { u in
            switch u {
            case "\"": "#quot;"
            case "#": "#35;"
            case "&": "#amp;"
            case "<": "#lt;"
            case ">": "#gt;"
            case "`": "#96;"
            default: u.isControl ? "\u{FFFD}" : nil
            }
        }
    }

    /// A YAML double-quoted string's contents (Mermaid's front matter): `\` and `"` escaped,
    /// controls as U+FFFD.
    public static func yaml(_ s: String) -> String {
        s.escaped { u in
            switch u {
            case "\\": "\\\\"
            case "\"": "\\\""
            default: u.isControl ? "\u{FFFD}" : nil
            }
        }
    }
}

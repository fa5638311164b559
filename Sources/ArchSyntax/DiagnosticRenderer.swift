/// Renders diagnostics the way swiftc and clang do: location, message, source line, caret, notes.
/// What comes from the spec is shown safely (see `TerminalText`): a control byte on the line is
/// written `\u{1B}`, invalid UTF-8 as U+FFFD, and the caret and underline stay under the characters
/// they mark however wide their rendering.
public enum DiagnosticRenderer {
    public static func render(_ d: Diagnostic) -> String {
        var out = ""
        out += header(d.severity, d.message, d.loc)
        if let loc = d.loc { out += snippet(loc) }
        for n in d.notes {
            out += header(.note, n.message, n.loc)
            if let loc = n.loc { out += snippet(loc) }
        }
        return out
    }

    public static func render(_ ds: [Diagnostic]) -> String {
        ds.map(render).joined()
    }

    static func header(_ sev: Diagnostic.Severity, _ message: String, _ loc: SourceLoc?) -> String {
        let message = TerminalText.escaped(message)
        if let loc { return "\(TerminalText.escaped(loc.description)): \(sev.rawValue): \(message)\n" }
        return "\(sev.rawValue): \(message)\n"
    }

    /// One character of a source line as shown: its bytes, its text, and how wide the text is.
    struct Unit {
        var bytes: Range<Int>
        var text: String
        var width: Int
    }

    /// The line's bytes as units: a tab stays a tab; unsafe characters are escaped; invalid UTF-8 is U+FFFD.
    static func units(_ bytes: ArraySlice<UInt8>) -> [Unit] {
        var out: [Unit] = []
        var it = bytes.makeIterator()
        var parser = Unicode.UTF8.ForwardParser()
        var at = bytes.startIndex
        while true {
            switch parser.parseScalar(from: &it) {
            case .valid(let encoded):
                let u = Unicode.UTF8.decode(encoded)
                let text = TerminalText.isUnsafe(u) ? TerminalText.escape(u) : String(u)
                out.append(Unit(bytes: at..<(at + encoded.count), text: text, width: u == "\t" ? 1 : text.count))
                at += encoded.count
            case .error(let length):
                out.append(Unit(bytes: at..<(at + length), text: "\u{FFFD}", width: 1))
                at += length
            case .emptyInput:
                return out
            }
        }
    }

    static func snippet(_ loc: SourceLoc) -> String {
        let file = loc.file
        if file.bytes.isEmpty { return "" }
        let (line, column) = file.lineAndColumn(of: loc.start)
        let start = file.lineStarts[line - 1]
        var end = line < file.lineStarts.count ? file.lineStarts[line] - 1 : file.bytes.count
        if end > start, file.bytes[end - 1] == UInt8(ascii: "\r") { end -= 1 }
        let caret = min(start + column - 1, end)
        let last = max(caret + 1, min(loc.range.upperBound, end))
        // Long lines show a window of about 120 bytes around the caret, cut between characters.
        let window = 120
        var from = start
        if end - start > 2 * window && caret - start > window / 2 { from = caret - window / 2 }
        var to = min(end, from + 2 * window)
        while from > start, file.bytes[from] & 0xC0 == 0x80 { from -= 1 }
        while to < end, file.bytes[to] & 0xC0 == 0x80 { to += 1 }
        var shown = from > start ? "..." : "", prefix = from > start ? "   " : "", marked = 0
        for u in units(file.bytes[from..<to]) {
            shown += u.text
            // Tabs stay tabs under the line, so the caret lands where the terminal puts the text.
            if u.bytes.lowerBound < caret { prefix += u.text == "\t" ? "\t" : String(repeating: " ", count: u.width) }
            else if u.bytes.lowerBound < last { marked += u.width }
        }
        if to < end { shown += "..." }
        let underline = "^" + String(repeating: "~", count: max(0, min(marked, 200) - 1))
        return "    \(shown)\n    \(prefix)\(underline)\n"
    }
}

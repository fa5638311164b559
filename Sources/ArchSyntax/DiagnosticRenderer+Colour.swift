/// Diagnostics in colour, as swiftc and clang show them on a terminal: the location bold,
/// `error:` red, `warning:` magenta, `note:` bold, the message of an error or warning bold, and
/// the caret and underline green. The colours are added to text already rendered and made
/// terminal-safe (`TerminalText`), by its layout: a line `LOC: error: ...` (or one without a
/// location), and under a located one the source line and the caret line. Nothing from the spec
/// can add a colour of its own, since its control characters were escaped before.
extension DiagnosticRenderer {
    enum SGR {
        static let reset = "\u{1B}[0m"
        static let bold = "\u{1B}[1m"
        static let red = "\u{1B}[1;31m"
        static let magenta = "\u{1B}[1;35m"
        static let green = "\u{1B}[1;32m"
    }

    /// The diagnostics rendered with colours (whether or not the output is a terminal).
    public static func render(_ ds: [Diagnostic], colour: Bool) -> String {
        colour ? coloured(render(ds)) : render(ds)
    }

    /// Rendered, terminal-safe text with the colours added.
    public static func coloured(_ text: String) -> String {
        var out: [String] = [], expectCaret = 0
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if expectCaret > 0, line.hasPrefix("    ") {
                expectCaret -= 1
                out.append(expectCaret == 0 ? caret(line) : String(line))
                continue
            }
            expectCaret = 0
            if let (styled, located) = header(line) {
                out.append(styled)
                if located { expectCaret = 2 }
            } else {
                out.append(String(line))
            }
        }
        return out.joined(separator: "\n")
    }

    /// `path:3:5: error: message` styled, and whether it has a location (a snippet may follow).
    static func header(_ line: Substring) -> (String, Bool)? {
        guard !line.hasPrefix(" ") else { return nil }
        for (word, colour) in [("error", SGR.red), ("warning", SGR.magenta), ("note", SGR.bold)] {
            let tag = word + ": "
            // Errors and warnings have their message bold; a note's is plain.
            let message: String = word == "note" ? SGR.reset : SGR.reset + SGR.bold
            let severity: String = colour + word + ":" + message + " "
            if line.hasPrefix(tag) {
                return (severity + String(line.dropFirst(tag.count)) + SGR.reset, false)
            }
            if let (before, after) = split(line, at: ": " + tag) {
                return (SGR.bold + String(before) + ": " + severity + String(after) + SGR.reset, true)
            }
        }
        return nil
    }

    /// The text before and after the first occurrence of `separator`.
    static func split(_ line: Substring, at separator: String) -> (Substring, Substring)? {
        let s = Array(separator.utf8), bytes = line.utf8
        var i = bytes.startIndex
        while i != bytes.endIndex {
            if bytes[i...].starts(with: s) {
                let end = bytes.index(i, offsetBy: s.count)
                return (Substring(bytes[..<i]), Substring(bytes[end...]))
            }
            i = bytes.index(after: i)
        }
        return nil
    }

    /// `    ^~~~` with the marks green; anything else unchanged.
    static func caret(_ line: Substring) -> String {
        guard let at = line.firstIndex(of: "^"), line[..<at].allSatisfy({ $0 == " " || $0 == "\t" }),
              line[line.index(after: at)...].allSatisfy({ $0 == "~" }) else { return String(line) }
        return String(line[..<at]) + SGR.green + String(line[at...]) + SGR.reset
    }
}

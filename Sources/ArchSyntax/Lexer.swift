/// Turns bytes into tokens. Newlines are tokens (the language is line-oriented); comments run
/// from `#` to the end of the line. Errors become `.invalid` tokens with a diagnostic.
public struct Lexer {
    let file: SourceFile
    let bytes: [UInt8]
    var pos = 0
    let diags: DiagnosticEngine

    public init(file: SourceFile, diags: DiagnosticEngine) {
        self.file = file
        self.bytes = file.bytes
        self.diags = diags
    }

    public static func tokenize(_ file: SourceFile, diags: DiagnosticEngine) -> [Token] {
        var lexer = Lexer(file: file, diags: diags)
        var tokens: [Token] = []
        while true {
            let t = lexer.next()
            tokens.append(t)
            if t.kind == .eof { break }
        }
        return tokens
    }

    static func isIdentStart(_ b: UInt8) -> Bool {
        (b >= 97 && b <= 122) || (b >= 65 && b <= 90) || b == 95
    }
    static func isDigit(_ b: UInt8) -> Bool { b >= 48 && b <= 57 }
    static func isIdentChar(_ b: UInt8) -> Bool { isIdentStart(b) || isDigit(b) || b == 46 }

    func peek(_ k: Int = 0) -> UInt8? { pos + k < bytes.count ? bytes[pos + k] : nil }

    mutating func next() -> Token {
        // Skip blanks and comments.
        while let b = peek() {
            if b == 32 || b == 9 || b == 13 { pos += 1; continue }
            if b == 35 { while let c = peek(), c != 10 { pos += 1 }; continue }
            break
        }
        let start = pos
        guard let b = peek() else { return Token(.eof, start..<start) }
        pos += 1
        func tok(_ k: Token.Kind) -> Token { Token(k, start..<pos) }
        switch b {
        case 10: return tok(.newline)
        case UInt8(ascii: "{"): return tok(.lbrace)
        case UInt8(ascii: "}"): return tok(.rbrace)
        case UInt8(ascii: "("): return tok(.lparen)
        case UInt8(ascii: ")"): return tok(.rparen)
        case UInt8(ascii: "["): return tok(.lbracket)
        case UInt8(ascii: "]"): return tok(.rbracket)
        case UInt8(ascii: ","): return tok(.comma)
        case UInt8(ascii: ":"): return tok(.colon)
        case UInt8(ascii: ";"): return tok(.semicolon)
        case UInt8(ascii: "+"): return tok(.plus)
        case UInt8(ascii: "*"): return tok(.star)
        case UInt8(ascii: "/"): return tok(.slash)
        case UInt8(ascii: "%"): return tok(.percent)
        case UInt8(ascii: "="):
            if peek() == UInt8(ascii: "=") { pos += 1; return tok(.eqeq) }
            return tok(.equal)
        case UInt8(ascii: "!"):
            if peek() == UInt8(ascii: "=") { pos += 1; return tok(.noteq) }
        case UInt8(ascii: "<"):
            if peek() == UInt8(ascii: "=") { pos += 1; return tok(.lesseq) }
            return tok(.less)
        case UInt8(ascii: ">"):
            if peek() == UInt8(ascii: "=") { pos += 1; return tok(.greatereq) }
            return tok(.greater)
        case UInt8(ascii: "-"):
            // `-1` after a blank or an opening bracket is a negative literal; `a-1`, `a - 1` subtract.
            let prev: UInt8? = start > 0 ? bytes[start - 1] : nil
            let prevIsOperand = prev.map { Lexer.isIdentChar($0) || $0 == 41 || $0 == 93 } ?? false
            if let n = peek(), Lexer.isDigit(n), !prevIsOperand { return number(start: start) }
            return tok(.minus)
        default:
            if Lexer.isDigit(b) { return number(start: start) }
            if Lexer.isIdentStart(b) { return word(start: start) }
        }
        // Consume the rest of a multi-byte UTF-8 sequence so the caret sits under one character.
        while let c = peek(), c & 0xC0 == 0x80 { pos += 1 }
        let shown = b < 128 && b >= 32 ? "'\(Character(Unicode.Scalar(b)))'" : "byte 0x\(String(b, radix: 16, uppercase: true))"
        diags.error("unexpected character \(shown)", at: SourceLoc(file, start..<pos))
        return tok(.invalid)
    }

    mutating func digits() { while let c = peek(), Lexer.isDigit(c) || c == 95 { pos += 1 } }

    /// INT, FLOAT or DIMS (`3x224x224`, `7x7`, `3xHxW`).
    mutating func number(start: Int) -> Token {
        digits()
        var isFloat = false
        if peek() == 46, let n = peek(1), Lexer.isDigit(n) { pos += 1; digits(); isFloat = true }
        if let e = peek(), e == 101 || e == 69 {
            let signed = peek(1) == 45 || peek(1) == 43
            if let d = peek(signed ? 2 : 1), Lexer.isDigit(d) { pos += signed ? 2 : 1; digits(); isFloat = true }
        }
        if !isFloat, peek() == UInt8(ascii: "x"), let n = peek(1), Lexer.isDigit(n) || Lexer.isIdentStart(n) {
            while peek() == UInt8(ascii: "x"), let n = peek(1), Lexer.isDigit(n) || Lexer.isIdentStart(n) {
                pos += 1
                if Lexer.isDigit(n) { digits() } else { pos += 1 }
            }
            // A name inside `3xHxW` is one letter; `3xmax_len` would split at its x, so it is refused.
            if let c = peek(), Lexer.isIdentChar(c) {
                while let c = peek(), Lexer.isIdentChar(c) { pos += 1 }
                let text = file.text(start..<pos)
                diags.error("size '\(text)' is ambiguous: names inside NxM sizes are single letters", at: SourceLoc(file, start..<pos),
                            notes: [.init("write the size as a list: [\(text.split(separator: "x", maxSplits: 1).joined(separator: ", "))]")])
                return Token(.invalid, start..<pos)
            }
            return Token(.dims, start..<pos)
        }
        // A number glued to letters (`64k`) is one bad token, not two.
        if let c = peek(), Lexer.isIdentStart(c) {
            while let c = peek(), Lexer.isIdentChar(c) { pos += 1 }
            diags.error("malformed number '\(file.text(start..<pos))'", at: SourceLoc(file, start..<pos))
            return Token(.invalid, start..<pos)
        }
        return Token(isFloat ? .float : .int, start..<pos)
    }

    mutating func word(start: Int) -> Token {
        while let c = peek(), Lexer.isIdentChar(c) { pos += 1 }
        // `x12` is a repetition count.
        if bytes[start] == UInt8(ascii: "x"), pos - start > 1, bytes[(start + 1)..<pos].allSatisfy(Lexer.isDigit) {
            return Token(.repeat_, start..<pos)
        }
        if bytes[pos - 1] == 46 {
            diags.error("a name cannot end with '.'", at: SourceLoc(file, start..<pos))
            return Token(.invalid, start..<pos)
        }
        return Token(.name, start..<pos)
    }
}

import Foundation

/// The JSON tokens the safetensors header is made of (RFC 8259): blanks, punctuation, strings with
/// every escape, numbers and literals, and skipping a whole value whose nesting is bounded.
extension SafeTensorsHeader {
    func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }

    /// Only blanks are left (safetensors pads its header with spaces).
    mutating func atEnd() -> Bool {
        skipSpace()
        return pos == bytes.count
    }

    mutating func skipSpace() {
        while let c = peek(), c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09 { pos += 1 }
    }

    func invalid(_ what: String) -> IOError {
        IOError(path, "\(document) is not valid JSON (at byte \(pos) of \(document): \(what))")
    }

    mutating func colon() throws {
        skipSpace()
        guard peek() == UInt8(ascii: ":") else { throw invalid("expected ':'") }
        pos += 1
    }

    /// After an object's member: true at its closing brace, false at a comma (both consumed).
    mutating func endOfMembers() throws -> Bool {
        skipSpace()
        switch peek() {
        case UInt8(ascii: ","):
            pos += 1
            return false
        case UInt8(ascii: "}"):
            pos += 1
            return true
        default: throw invalid("expected ',' or '}'")
        }
    }

    mutating func literal(_ word: StaticString) -> Bool {
        let n = word.utf8CodeUnitCount
        guard pos + n <= bytes.count else { return false }
        for i in 0..<n where bytes[pos + i] != word.utf8Start[i] { return false }
        pos += n
        return true
    }

    /// A string, its escapes decoded; invalid UTF-8, raw control characters and lone surrogates are errors.
    mutating func string() throws -> String {
        skipSpace()
        guard peek() == UInt8(ascii: "\"") else { throw invalid("expected a string") }
        pos += 1
        let start = pos
        var decoded: [UInt8]?  // only once an escape is met
        while true {
            guard let c = peek() else { throw invalid("unterminated string") }
            if c == UInt8(ascii: "\"") { break }
            if c < 0x20 { throw invalid("a control character inside a string") }
            if c == UInt8(ascii: "\\") {
                if decoded == nil { decoded = Array(bytes[start..<pos]) }
                pos += 1
                try escape(into: &decoded!)
                continue
            }
            decoded?.append(c)
            pos += 1
        }
        let end = pos
        pos += 1
        // Valid UTF-8 decodes to the same bytes; anything invalid would have been replaced.
        if let decoded {
            let s = String(decoding: decoded, as: UTF8.self)
            guard s.utf8.elementsEqual(decoded) else { throw invalid("a string is not valid UTF-8") }
            return s
        }
        let raw = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
        let s = String(decoding: raw, as: UTF8.self)
        guard s.utf8.elementsEqual(raw) else { throw invalid("a string is not valid UTF-8") }
        return s
    }

    /// One escape after its backslash, appended as UTF-8.
    mutating func escape(into out: inout [UInt8]) throws {
        guard let e = peek() else { throw invalid("unterminated string") }
        pos += 1
        let simple: [UInt8: UInt8] = [0x22: 0x22, 0x5C: 0x5C, 0x2F: 0x2F, 0x62: 0x08, 0x66: 0x0C, 0x6E: 0x0A, 0x72: 0x0D, 0x74: 0x09]
        if let s = simple[e] { out.append(s); return }
        guard e == UInt8(ascii: "u") else { throw invalid("an unknown escape in a string") }
        var code = try hex4()
        if (0xD800..<0xDC00).contains(code) {
            guard literal("\\u") else { throw invalid("a lone surrogate in a string") }
            let low = try hex4()
            guard (0xDC00..<0xE000).contains(low) else { throw invalid("a lone surrogate in a string") }
            code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        }
        guard let scalar = Unicode.Scalar(code) else { throw invalid("a lone surrogate in a string") }
        out.append(contentsOf: Array(String(scalar).utf8))
    }

    mutating func hex4() throws -> UInt32 {
        guard pos + 4 <= bytes.count, let v = UInt32(String(decoding: bytes[pos..<(pos + 4)], as: UTF8.self), radix: 16) else {
            throw invalid("a bad \\u escape")
        }
        pos += 4
        return v
    }

    /// Skips one JSON value of any kind, objects and arrays at most `maxDepth` deep.
    mutating func skipValue(depth: Int) throws {
        guard depth <= Self.maxDepth else { throw invalid("values nested more than \(Self.maxDepth) deep") }
        skipSpace()
        guard let c = peek() else { throw invalid("expected a value") }
        switch c {
        case UInt8(ascii: "\""): _ = try string()
        case UInt8(ascii: "{"), UInt8(ascii: "["):
            let close = c == UInt8(ascii: "{") ? UInt8(ascii: "}") : UInt8(ascii: "]")
            pos += 1
            skipSpace()
            if peek() == close { pos += 1; return }
            while true {
                if c == UInt8(ascii: "{") {
                    _ = try string()
                    try colon()
                }
                try skipValue(depth: depth + 1)
                skipSpace()
                if peek() == UInt8(ascii: ",") { pos += 1; continue }
                guard peek() == close else { throw invalid("expected ',' or '\(Character(Unicode.Scalar(close)))'") }
                pos += 1
                return
            }
        case UInt8(ascii: "-"), 48...57: try skipNumber()
        default:
            guard literal("true") || literal("false") || literal("null") else { throw invalid("expected a value") }
        }
    }

    /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
    mutating func skipNumber() throws {
        func digits(_ p: inout SafeTensorsHeader) -> Int {
            let s = p.pos
            while let d = p.peek(), d >= 48, d <= 57 { p.pos += 1 }
            return p.pos - s
        }
        if peek() == UInt8(ascii: "-") { pos += 1 }
        let first = pos
        let n = digits(&self)
        guard n > 0, n == 1 || bytes[first] != 48 else { throw invalid("a malformed number") }
        if peek() == UInt8(ascii: ".") {
            pos += 1
            guard digits(&self) > 0 else { throw invalid("a malformed number") }
        }
        if let e = peek(), e == UInt8(ascii: "e") || e == UInt8(ascii: "E") {
            pos += 1
            if let s = peek(), s == UInt8(ascii: "+") || s == UInt8(ascii: "-") { pos += 1 }
            guard digits(&self) > 0 else { throw invalid("a malformed number") }
        }
    }
}

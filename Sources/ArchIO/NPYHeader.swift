/// The header of a .npy file: a Python dict literal with exactly the keys 'descr' (a string),
/// 'fortran_order' (True or False) and 'shape' (a tuple of non-negative integers), as numpy writes
/// it and as numpy's own reader requires. A key given twice (which one would win?), a missing or an
/// unknown key, or a value of the wrong kind (`'fortran_order': Maybe`) is an error naming the file.
struct NPYHeader {
    var descr: String
    var fortranOrder: Bool
    var shape: [Int]

    static func parse(_ text: [UInt8], path: String) throws -> NPYHeader {
        var p = Reader(bytes: text, path: path)
        return try p.dict()
    }

    /// A cursor over the header's bytes.
    struct Reader {
        let bytes: [UInt8]
        let path: String
        var pos = 0

        func peek() -> UInt8? { pos < bytes.count ? bytes[pos] : nil }
        mutating func skipSpace() { while let c = peek(), c == 0x20 || c == 0x0A || c == 0x09 || c == 0x0D { pos += 1 } }
        func error(_ m: String) -> IOError { IOError(path, m) }
        func notADict() -> IOError {
            error("the header is not a Python dict such as {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4)}")
        }

        mutating func dict() throws -> NPYHeader {
            skipSpace()
            guard peek() == UInt8(ascii: "{") else { throw notADict() }
            pos += 1
            var descr: String?, fortran: Bool?, shape: [Int]?, seen: Set<String> = []
            while true {
                skipSpace()
                if peek() == UInt8(ascii: "}") { pos += 1; break }
                guard let key = quoted() else { throw notADict() }
                guard seen.insert(key).inserted else { throw error("the header gives '\(key)' twice") }
                skipSpace()
                guard peek() == UInt8(ascii: ":") else { throw notADict() }
                pos += 1
                skipSpace()
                switch key {
                case "descr":
                    if peek() == UInt8(ascii: "[") { throw error("the array has a structured dtype; save a plain numeric array") }
                    guard let d = quoted() else { throw error("'descr' is \(rawValue()), not a dtype string such as '<f4'") }
                    descr = d
                case "fortran_order":
                    if word("True") { fortran = true } else if word("False") { fortran = false } else {
                        throw error("'fortran_order' is \(rawValue()), not True or False")
                    }
                case "shape":
                    guard let s = tuple() else { throw error("'shape' is \(rawValue()), not a tuple of non-negative integers") }
                    shape = s
                default:
                    throw error("the header has an unknown key '\(key)' (numpy writes 'descr', 'fortran_order' and 'shape')")
                }
                skipSpace()
                if peek() == UInt8(ascii: ",") { pos += 1; continue }
                guard peek() == UInt8(ascii: "}") else { throw notADict() }
            }
            skipSpace()
            guard pos == bytes.count else { throw error("the header has bytes after its dict") }
            guard let descr else { throw error("the header has no 'descr'") }
            guard let fortran else { throw error("the header has no 'fortran_order'") }
            guard let shape else { throw error("the header has no 'shape'") }
            return NPYHeader(descr: descr, fortranOrder: fortran, shape: shape)
        }

        /// `'text'` or `"text"` without escapes.
        mutating func quoted() -> String? {
            guard let q = peek(), q == UInt8(ascii: "'") || q == UInt8(ascii: "\"") else { return nil }
            var i = pos + 1
            while i < bytes.count, bytes[i] != q, bytes[i] != UInt8(ascii: "\\"), bytes[i] >= 0x20 { i += 1 }
            guard i < bytes.count, bytes[i] == q else { return nil }
            defer { pos = i + 1 }
            return String(decoding: bytes[(pos + 1)..<i], as: UTF8.self)
        }

        /// A Python word that ends there (`True`, not `Trueish`).
        mutating func word(_ w: String) -> Bool {
            let u = Array(w.utf8), end = pos + u.count
            guard end <= bytes.count, Array(bytes[pos..<end]) == u else { return false }
            if end < bytes.count, Self.isNameByte(bytes[end]) { return false }
            pos = end
            return true
        }

        static func isNameByte(_ c: UInt8) -> Bool { c == 95 || (c >= 48 && c <= 57) || (c | 0x20 >= 97 && c | 0x20 <= 122) }

        /// `(3, 4)`, `(5,)`, `()`; Python 2's `3L` too.
        mutating func tuple() -> [Int]? {
            guard peek() == UInt8(ascii: "(") else { return nil }
            let start = pos
            pos += 1
            var out: [Int] = [], trailingComma = false
            while true {
                skipSpace()
                if peek() == UInt8(ascii: ")") {
                    pos += 1
                    // `(5)` is the number 5 in Python, not a tuple.
                    if out.count == 1 && !trailingComma { pos = start; return nil }
                    return out
                }
                guard let n = integer() else { pos = start; return nil }
                out.append(n)
                skipSpace()
                trailingComma = peek() == UInt8(ascii: ",")
                if trailingComma { pos += 1 } else if peek() != UInt8(ascii: ")") { pos = start; return nil }
            }
        }

        /// Digits within Int, with an optional `L`.
        mutating func integer() -> Int? {
            var n = 0, digits = 0
            while let c = peek(), c >= 48, c <= 57 {
                let (m, o1) = n.multipliedReportingOverflow(by: 10), (sum, o2) = m.addingReportingOverflow(Int(c - 48))
                if o1 || o2 { return nil }
                n = sum
                digits += 1
                pos += 1
            }
            if peek() == UInt8(ascii: "L") { pos += 1 }
            return digits > 0 ? n : nil
        }

        /// The value's text up to the next top-level comma or brace, for messages.
        func rawValue() -> String {
            var i = pos, depth = 0
            while i < bytes.count {
                let c = bytes[i]
                if c == UInt8(ascii: "(") || c == UInt8(ascii: "[") { depth += 1 }
                if c == UInt8(ascii: ")") || c == UInt8(ascii: "]") { depth -= 1 }
                if depth <= 0 && (c == UInt8(ascii: ",") || c == UInt8(ascii: "}")) { break }
                i += 1
            }
            let text = String(String(decoding: bytes[pos..<i], as: UTF8.self).drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
            return text.isEmpty ? "empty" : String(text.prefix(40))
        }
    }
}

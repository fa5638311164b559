import Foundation

/// The JSON header of a safetensors file, parsed by hand for exactly its grammar: one object whose
/// members are `"__metadata__"` (a map of strings, or null) and tensors, each an object with
/// `"dtype"` (a string), `"shape"` (a list of integers) and `"data_offsets"` (two integers); other
/// fields of an entry are skipped, as the reference implementation does. Nothing but the entries
/// is kept, so memory stays proportional to the header (JSONSerialization took about 67 times its
/// size). A name or field given twice is an error: JSON parsers disagree on which one wins.
struct SafeTensorsHeader {
    struct Entry {
        var name: String
        var dtype: String
        var shape: [Int]
        /// data_offsets, checked to be two integers (not yet their order).
        var start: Int
        var end: Int
    }

    /// Bounds the nesting of skipped values (and the recursion that skips them).
    static let maxDepth = 64

    let bytes: UnsafeRawBufferPointer
    let path: String
    var pos = 0
    /// What the bytes are, for messages: the safetensors header, or a sharded checkpoint's index.
    var document = "the header"

    /// The tensors' entries in header order.
    static func parse(_ bytes: UnsafeRawBufferPointer, path: String) throws -> [Entry] {
        var p = SafeTensorsHeader(bytes: bytes, path: path)
        return try p.file()
    }

    // MARK: the header's structure

    mutating func file() throws -> [Entry] {
        skipSpace()
        guard peek() == UInt8(ascii: "{") else {
            // Some other JSON value, or none at all.
            let start = pos
            if (try? skipValue(depth: 0)) != nil, atEnd() { throw IOError(path, "the header is not a JSON object") }
            pos = start
            throw invalid("expected '{'")
        }
        pos += 1
        var entries: [Entry] = [], names = Set<String>(), sawMetadata = false
        skipSpace()
        if peek() == UInt8(ascii: "}") { pos += 1 } else {
            while true {
                let name = try string()
                try colon()
                if name == "__metadata__" {
                    if sawMetadata { throw IOError(path, "__metadata__ appears twice in the header") }
                    sawMetadata = true
                    try metadata()
                } else {
                    guard names.insert(name).inserted else { throw IOError(path, tensor: name, "it appears twice in the header") }
                    entries.append(try entry(name))
                }
                if try endOfMembers() { break }
            }
        }
        guard atEnd() else { throw invalid("unexpected bytes after the header's object") }
        return entries
    }

    /// `{"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}`
    mutating func entry(_ name: String) throws -> Entry {
        skipSpace()
        guard peek() == UInt8(ascii: "{") else { throw IOError(path, tensor: name, "its header entry is not an object") }
        pos += 1
        var dtype: String?, shape: [Int]?, offsets: [Int]?, seen = Set<String>()
        skipSpace()
        if peek() == UInt8(ascii: "}") { pos += 1 } else {
            while true {
                let field = try string()
                try colon()
                guard seen.insert(field).inserted else { throw IOError(path, tensor: name, "its header entry gives '\(field)' twice") }
                switch field {
                case "dtype":
                    skipSpace()
                    guard peek() == UInt8(ascii: "\"") else { throw IOError(path, tensor: name, "its dtype is not a string") }
                    dtype = try string()
                case "shape":
                    guard let s = try integers() else { throw IOError(path, tensor: name, "its shape is not a list of non-negative integers") }
                    shape = s
                case "data_offsets":
                    guard let o = try integers() else { throw IOError(path, tensor: name, "its data_offsets are not two increasing integers") }
                    offsets = o
                default:
                    try skipValue(depth: 1)
                }
                if try endOfMembers() { break }
            }
        }
        guard let dtype else { throw IOError(path, tensor: name, "no dtype") }
        guard let shape else { throw IOError(path, tensor: name, "its shape is not a list of non-negative integers") }
        guard let offsets, offsets.count == 2 else { throw IOError(path, tensor: name, "its data_offsets are not two increasing integers") }
        return Entry(name: name, dtype: dtype, shape: shape, start: offsets[0], end: offsets[1])
    }

    /// `"__metadata__": {"format": "pt"}` or null; the values must be strings.
    mutating func metadata() throws {
        skipSpace()
        if literal("null") { return }
        guard peek() == UInt8(ascii: "{") else { throw IOError(path, "__metadata__ is not a map of strings") }
        pos += 1
        var keys = Set<String>()
        skipSpace()
        if peek() == UInt8(ascii: "}") { pos += 1; return }
        while true {
            let key = try string()
            try colon()
            guard keys.insert(key).inserted else { throw IOError(path, "__metadata__ gives '\(key)' twice") }
            skipSpace()
            guard peek() == UInt8(ascii: "\"") else { throw IOError(path, "__metadata__ is not a map of strings ('\(key)')") }
            _ = try string()
            if try endOfMembers() { return }
        }
    }

    /// `[1, 2, 3]` of non-negative integers; nil when it is some other value (which is skipped).
    mutating func integers() throws -> [Int]? {
        skipSpace()
        guard peek() == UInt8(ascii: "[") else {
            try skipValue(depth: 1)
            return nil
        }
        pos += 1
        var out: [Int] = []
        skipSpace()
        if peek() == UInt8(ascii: "]") { pos += 1; return out }
        var ok = true
        while true {
            skipSpace()
            if let n = integer() { out.append(n) } else {
                ok = false
                try skipValue(depth: 2)
            }
            skipSpace()
            switch peek() {
            case UInt8(ascii: ","): pos += 1
            case UInt8(ascii: "]"): pos += 1; return ok ? out : nil
            default: throw invalid("expected ',' or ']'")
            }
        }
    }

    /// Digits only, no sign, no fraction, no exponent, within Int; nil otherwise (nothing consumed).
    mutating func integer() -> Int? {
        let start = pos
        var n = 0
        while let c = peek(), c >= 48, c <= 57 {
            let (m, o1) = n.multipliedReportingOverflow(by: 10)
            let (s, o2) = m.addingReportingOverflow(Int(c - 48))
            if o1 || o2 { pos = start; return nil }
            n = s
            pos += 1
        }
        if pos == start || (pos - start > 1 && bytes[start] == 48) { pos = start; return nil }
        if let c = peek(), c == UInt8(ascii: ".") || c == UInt8(ascii: "e") || c == UInt8(ascii: "E") { pos = start; return nil }
        return n
    }
}

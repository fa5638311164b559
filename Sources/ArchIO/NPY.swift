import Foundation

/// NumPy's .npy format: magic, version, a Python-literal header {'descr', 'fortran_order', 'shape'},
/// then the data. Little-endian float32/float64 and int32/int64 in C order are read (floats become
/// Float32, integers Int64); anything else gets an error that says what the file holds instead.
public enum NPY {
    public static let maxHeaderBytes = 1 << 20
    static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

    public static func read(path: String) throws -> Tensor {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw IOError(path, "cannot read the file (\(FileManager.default.fileExists(atPath: path) ? "unreadable" : "no such file"))")
        }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String) throws -> Tensor {
        let bytes = [UInt8](data.prefix(12))
        guard bytes.count >= 10, Array(bytes.prefix(6)) == magic else { throw IOError(path, "not a .npy file (no \\x93NUMPY magic)") }
        let major = bytes[6]
        let headerLength: Int, start: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            start = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw IOError(path, "truncated header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            start = 12
        default:
            throw IOError(path, ".npy version \(major) is not supported (1, 2 and 3 are)")
        }
        guard headerLength <= maxHeaderBytes else { throw IOError(path, "the header claims \(headerLength) bytes, more than the \(maxHeaderBytes)-byte limit") }
        guard start + headerLength <= data.count else { throw IOError(path, "truncated: the header runs past the end of the file") }
        let header = String(decoding: data.subdata(in: start..<(start + headerLength)), as: UTF8.self)
        guard let descr = field("descr", in: header).flatMap(quoted) else { throw IOError(path, "the header has no 'descr'") }
        guard let fortran = field("fortran_order", in: header) else { throw IOError(path, "the header has no 'fortran_order'") }
        guard let shapeText = field("shape", in: header), let shape = tuple(shapeText) else { throw IOError(path, "the header has no valid 'shape'") }
        if fortran.hasPrefix("True") {
            throw IOError(path, "the array is in Fortran order; save it in C order (numpy.ascontiguousarray)")
        }
        let size: Int
        switch descr {
        case "<f4", "<f8", "<i4", "<i8": size = descr == "<f4" || descr == "<i4" ? 4 : 8
        case "|u1", "|i1", "|b1", "<u4", "<u8", "<f2", "<i2", "<u2":
            throw IOError(path, "dtype \(descr) is not supported (float32, float64, int32 and int64 are)")
        default:
            if descr.hasPrefix(">") { throw IOError(path, "the data is big-endian (\(descr)); save it little-endian (array.astype('<f4'))") }
            if descr.hasPrefix("|O") { throw IOError(path, "the array holds Python objects; save a numeric array") }
            throw IOError(path, "dtype \(descr) is not supported (float32, float64, int32 and int64 are)")
        }
        let count = try Sizes.product(shape, IOError(path, "the shape \(shape) overflows"))
        let bytesNeeded = try Sizes.product([count, size], IOError(path, "the shape \(shape) overflows"))
        let dataStart = start + headerLength
        guard data.count - dataStart >= bytesNeeded else {
            throw IOError(path, "truncated: shape \(shape) needs \(bytesNeeded) bytes of data, the file has \(data.count - dataStart)")
        }
        return data.withUnsafeBytes { raw -> Tensor in
            switch descr {
            case "<f4": return Tensor(shape: shape, floats: (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: dataStart + 4 * $0, as: UInt32.self))) })
            case "<f8": return Tensor(shape: shape, floats: (0..<count).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: dataStart + 8 * $0, as: UInt64.self)))) })
            case "<i4": return Tensor(shape: shape, ints: (0..<count).map { Int64(Int32(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: dataStart + 4 * $0, as: UInt32.self)))) })
            default: return Tensor(shape: shape, ints: (0..<count).map { Int64(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: dataStart + 8 * $0, as: UInt64.self))) })
            }
        }
    }

    /// The text after `'key':` up to the next top-level comma or the closing brace.
    static func field(_ key: String, in header: String) -> String? {
        guard let r = header.range(of: "'\(key)'") else { return nil }
        var rest = header[r.upperBound...].drop { $0 == " " }
        guard rest.first == ":" else { return nil }
        rest = rest.dropFirst().drop { $0 == " " }
        var depth = 0, out = ""
        for c in rest {
            if c == "(" || c == "[" { depth += 1 }
            if c == ")" || c == "]" { depth -= 1 }
            if depth == 0 && (c == "," || c == "}") { break }
            out.append(c)
        }
        return out.trimmingCharacters(in: .whitespaces)
    }

    static func quoted(_ s: String) -> String? {
        guard s.count >= 2, let q = s.first, q == "'" || q == "\"", s.last == q else { return nil }
        return String(s.dropFirst().dropLast())
    }

    /// `(3, 4)`, `(5,)` or `()` as integers.
    static func tuple(_ s: String) -> [Int]? {
        guard s.hasPrefix("("), s.hasSuffix(")") else { return nil }
        let inner = s.dropFirst().dropLast().split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        var out: [Int] = []
        for p in inner {
            guard let n = Int(p.hasSuffix("L") ? String(p.dropLast()) : p), n >= 0 else { return nil }
            out.append(n)
        }
        return out
    }

    /// Writes float32 (or int64) little-endian, C order, version 1.0, atomically.
    public static func write(_ t: Tensor, to path: String) throws {
        let shape = t.shape.count == 1 ? "(\(t.shape[0]),)" : "(" + t.shape.map(String.init).joined(separator: ", ") + ")"
        var header = "{'descr': '\(t.isInteger ? "<i8" : "<f4")', 'fortran_order': False, 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        var out = Data(magic + [1, 0])
        withUnsafeBytes(of: UInt16(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: Array(header.utf8))
        switch t.storage {
        case .float(let f): for x in f { withUnsafeBytes(of: x.bitPattern.littleEndian) { out.append(contentsOf: $0) } }
        case .int(let i): for x in i { withUnsafeBytes(of: x.littleEndian) { out.append(contentsOf: $0) } }
        }
        try AtomicFile.write(out, to: path)
    }
}

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
        let header = try NPYHeader.parse([UInt8](data[(data.startIndex + start)..<(data.startIndex + start + headerLength)]), path: path)
        let (descr, shape) = (header.descr, header.shape)
        if header.fortranOrder {
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

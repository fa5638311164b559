import Foundation

/// The safetensors format: an 8-byte little-endian header length, a JSON header naming each
/// tensor's dtype, shape and byte range, then the data. Everything in the header is checked before
/// any tensor is read; a file that lies about its sizes gets an error naming the tensor.
public enum SafeTensors {
    /// Headers past this size are refused before anything is allocated for them.
    public static let maxHeaderBytes = 100 << 20

    static let floatSizes = ["F32": 4, "F16": 2, "BF16": 2, "F64": 8]
    static let intSizes = ["I64": 8, "I32": 4]

    /// Reads every tensor, converting F16, BF16 and F64 to Float32 and I32 to Int64.
    /// Returns the tensors in file order.
    public static func read(path: String) throws -> [(name: String, tensor: Tensor)] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw IOError(path, "cannot read the file (\(FileManager.default.fileExists(atPath: path) ? "unreadable" : "no such file"))")
        }
        return try parse(data, path: path)
    }

    public static func parse(_ data: Data, path: String) throws -> [(name: String, tensor: Tensor)] {
        guard data.count >= 8 else { throw IOError(path, "truncated: \(data.count) bytes, shorter than the 8-byte header length") }
        let n = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard n <= UInt64(maxHeaderBytes) else {
            throw IOError(path, "the header claims \(n) bytes, more than the \(maxHeaderBytes)-byte limit; this is not a safetensors file or it is corrupt")
        }
        let headerEnd = 8 + Int(n)
        guard headerEnd <= data.count else {
            throw IOError(path, "truncated: the header claims \(n) bytes but the file has \(data.count - 8) after the length")
        }
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<headerEnd)) } catch {
            throw IOError(path, "the header is not valid JSON")
        }
        guard let header = object as? [String: Any] else { throw IOError(path, "the header is not a JSON object") }
        let dataSize = data.count - headerEnd
        var entries: [(name: String, dtype: String, shape: [Int], range: Range<Int>)] = []
        for (name, value) in header where name != "__metadata__" {
            guard let info = value as? [String: Any] else { throw IOError(path, tensor: name, "its header entry is not an object") }
            guard let dtype = info["dtype"] as? String else { throw IOError(path, tensor: name, "no dtype") }
            guard let elementSize = floatSizes[dtype] ?? intSizes[dtype] else {
                throw IOError(path, tensor: name, "dtype \(dtype) is not supported (F32, F16, BF16, F64, I64 and I32 are)")
            }
            guard let shapeAny = info["shape"] as? [Any], let shape = ints(shapeAny), shape.allSatisfy({ $0 >= 0 }) else {
                throw IOError(path, tensor: name, "its shape is not a list of non-negative integers")
            }
            guard let offAny = info["data_offsets"] as? [Any], let off = ints(offAny), off.count == 2, off[0] >= 0, off[0] <= off[1] else {
                throw IOError(path, tensor: name, "its data_offsets are not two increasing integers")
            }
            guard off[1] <= dataSize else {
                throw IOError(path, tensor: name, "its data ends at byte \(off[1]) but the file holds \(dataSize) bytes of data (truncated?)")
            }
            let bytes = try Sizes.product(shape + [elementSize], IOError(path, tensor: name, "its size overflows"))
            guard off[1] - off[0] == bytes else {
                throw IOError(path, tensor: name, "shape \(shape) of \(dtype) needs \(bytes) bytes but data_offsets give \(off[1] - off[0])")
            }
            entries.append((name, dtype, shape, off[0]..<off[1]))
        }
        entries.sort { $0.range.lowerBound < $1.range.lowerBound || ($0.range.lowerBound == $1.range.lowerBound && $0.name < $1.name) }
        for (a, b) in zip(entries, entries.dropFirst()) where a.range.overlaps(b.range) {
            throw IOError(path, tensor: b.name, "its data overlaps that of '\(a.name)'")
        }
        return data.withUnsafeBytes { raw in
            entries.map { e in
                let base = headerEnd + e.range.lowerBound
                let count = e.range.count / (floatSizes[e.dtype] ?? intSizes[e.dtype]!)
                return (e.name, decode(raw, at: base, count: count, dtype: e.dtype, shape: e.shape))
            }
        }
    }

    static func ints(_ xs: [Any]) -> [Int]? {
        var out: [Int] = []
        for x in xs {
            guard let n = x as? NSNumber else { return nil }
            let d = n.doubleValue
            guard d == d.rounded(), abs(d) < 9.0e15 else { return nil }
            out.append(n.intValue)
        }
        return out
    }

    static func decode(_ raw: UnsafeRawBufferPointer, at base: Int, count: Int, dtype: String, shape: [Int]) -> Tensor {
        switch dtype {
        case "F32":
            return Tensor(shape: shape, floats: (0..<count).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * $0, as: UInt32.self))) })
        case "F16":
            return Tensor(shape: shape, floats: (0..<count).map { HalfFloat.fromHalf(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 2 * $0, as: UInt16.self))) })
        case "BF16":
            return Tensor(shape: shape, floats: (0..<count).map { HalfFloat.fromBFloat(UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: base + 2 * $0, as: UInt16.self))) })
        case "F64":
            return Tensor(shape: shape, floats: (0..<count).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8 * $0, as: UInt64.self)))) })
        case "I32":
            return Tensor(shape: shape, ints: (0..<count).map { Int64(Int32(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: base + 4 * $0, as: UInt32.self)))) })
        default:
            return Tensor(shape: shape, ints: (0..<count).map { Int64(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: base + 8 * $0, as: UInt64.self))) })
        }
    }

    /// Writes tensors (F32, or I64 for integer ones) in the given order, atomically.
    public static func write(_ tensors: [(name: String, tensor: Tensor)], to path: String) throws {
        var offset = 0
        var fields: [String] = []
        for (name, t) in tensors {
            let size = t.count * (t.isInteger ? 8 : 4)
            let shape = t.shape.map(String.init).joined(separator: ",")
            fields.append("\(JSONText.string(name)):{\"dtype\":\"\(t.isInteger ? "I64" : "F32")\",\"shape\":[\(shape)],\"data_offsets\":[\(offset),\(offset + size)]}")
            offset += size
        }
        var header = Array(("{" + fields.joined(separator: ",") + "}").utf8)
        while header.count % 8 != 0 { header.append(32) }
        var out = Data(capacity: 8 + header.count + offset)
        withUnsafeBytes(of: UInt64(header.count).littleEndian) { out.append(contentsOf: $0) }
        out.append(contentsOf: header)
        for (_, t) in tensors {
            switch t.storage {
            case .float(let f): f.withUnsafeBufferPointer { out.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress)?.assumingMemoryBound(to: UInt8.self), count: $0.count * 4)) }
            case .int(let i): i.withUnsafeBufferPointer { out.append(UnsafeBufferPointer(start: UnsafeRawPointer($0.baseAddress)?.assumingMemoryBound(to: UInt8.self), count: $0.count * 8)) }
            }
        }
        try AtomicFile.write(out, to: path)
    }

}

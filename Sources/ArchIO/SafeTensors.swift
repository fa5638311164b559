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
    /// Returns the tensors in the order of their data. `budget`, if given, is told how many 4-byte
    /// values the decoded tensors will take (an integer counts two) before any is decoded, and may refuse.
    public static func read(path: String, budget: ((Int) throws -> Void)? = nil) throws -> [(name: String, tensor: Tensor)] {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped) } catch {
            throw IOError(path, "cannot read the file (\(FileManager.default.fileExists(atPath: path) ? "unreadable" : "no such file"))")
        }
        return try parse(data, path: path, budget: budget)
    }

    public static func parse(_ data: Data, path: String, budget: ((Int) throws -> Void)? = nil) throws -> [(name: String, tensor: Tensor)] {
        guard data.count >= 8 else { throw IOError(path, "truncated: \(data.count) bytes, shorter than the 8-byte header length") }
        let n = data.withUnsafeBytes { UInt64(littleEndian: $0.loadUnaligned(as: UInt64.self)) }
        guard n <= UInt64(maxHeaderBytes) else {
            throw IOError(path, "the header claims \(n) bytes, more than the \(maxHeaderBytes)-byte limit; this is not a safetensors file or it is corrupt")
        }
        let headerEnd = 8 + Int(n)
        guard headerEnd <= data.count else {
            throw IOError(path, "truncated: the header claims \(n) bytes but the file has \(data.count - 8) after the length")
        }
        let dataSize = data.count - headerEnd
        return try data.withUnsafeBytes { raw in
            let header = try SafeTensorsHeader.parse(UnsafeRawBufferPointer(rebasing: raw[8..<headerEnd]), path: path)
            let entries = try checked(header, dataSize: dataSize, path: path)
            var floats = 0
            for e in entries {
                let (sum, o) = floats.addingReportingOverflow(e.range.count / (floatSizes[e.dtype] ?? intSizes[e.dtype]!) * (intSizes[e.dtype] == nil ? 1 : 2))
                guard !o else { throw IOError(path, "the tensors hold more values than this machine can address") }
                floats = sum
            }
            try budget?(floats)
            return entries.map { e in
                let count = e.range.count / (floatSizes[e.dtype] ?? intSizes[e.dtype]!)
                return (e.name, decode(raw, at: headerEnd + e.range.lowerBound, count: count, dtype: e.dtype, shape: e.shape))
            }
        }
    }

    /// Each entry's dtype, shape and byte range checked against each other and the file, then the
    /// ranges as the format requires: in order they cover the data from its first byte to its last,
    /// with no overlap and no hole (an empty tensor between two others cannot hide an overlap).
    static func checked(_ header: [SafeTensorsHeader.Entry], dataSize: Int, path: String) throws
        -> [(name: String, dtype: String, shape: [Int], range: Range<Int>)] {
        var entries: [(name: String, dtype: String, shape: [Int], range: Range<Int>)] = []
        entries.reserveCapacity(header.count)
        for h in header {
            let (name, dtype, shape, off) = (h.name, h.dtype, h.shape, [h.start, h.end])
            guard let elementSize = floatSizes[dtype] ?? intSizes[dtype] else {
                throw IOError(path, tensor: name, "dtype \(dtype) is not supported (F32, F16, BF16, F64, I64 and I32 are)")
            }
            guard off[0] <= off[1] else {
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
        entries.sort { ($0.range.lowerBound, $0.range.upperBound, $0.name) < ($1.range.lowerBound, $1.range.upperBound, $1.name) }
        var end = 0, previous: String?
        for e in entries {
            if e.range.lowerBound < end {
                throw IOError(path, tensor: e.name, "its data overlaps that of '\(previous!)'")
            }
            if e.range.lowerBound > end {
                throw IOError(path, tensor: e.name, "its data starts at byte \(e.range.lowerBound), but " +
                              (previous.map { "that of '\($0)' ends at byte \(end)" } ?? "the data starts at byte 0") +
                              ": the \(e.range.lowerBound - end) bytes between belong to no tensor")
            }
            end = e.range.upperBound
            previous = e.name
        }
        guard end == dataSize else {
            throw IOError(path, "the tensors' data ends at byte \(end) but the file holds \(dataSize) bytes of data: the last \(dataSize - end) belong to no tensor")
        }
        return entries
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

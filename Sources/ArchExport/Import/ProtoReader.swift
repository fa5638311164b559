/// Reads Protocol Buffers' wire format: each field's number and value (a varint, 4 or 8 bytes, or a
/// length-delimited range), every length checked against the bytes there are (a damaged or hostile
/// file is an error, never a read past the end).
public struct ProtoReader {
    public enum Value {
        case varint(UInt64)
        case fixed32(UInt32)
        case fixed64(UInt64)
        case bytes(Range<Int>)
    }

    public struct Field {
        public var number: Int
        public var value: Value
    }

    let data: [UInt8]
    var position: Int
    let end: Int

    public init(_ data: [UInt8]) { self.init(data, 0..<data.count) }
    init(_ data: [UInt8], _ range: Range<Int>) {
        self.data = data
        position = range.lowerBound
        end = range.upperBound
    }

    /// A reader of a nested message's bytes.
    public func nested(_ range: Range<Int>) -> ProtoReader { ProtoReader(data, range) }

    public mutating func next() throws -> Field? {
        guard position < end else { return nil }
        let key = try varint()
        let number = Int(key >> 3)
        guard number > 0, number < 1 << 29 else { throw ProtoError("a field number of \(key >> 3) at byte \(position)") }
        switch key & 7 {
        case 0: return Field(number: number, value: .varint(try varint()))
        case 1: return Field(number: number, value: .fixed64(UInt64(littleEndian: try fixed(8))))
        case 5: return Field(number: number, value: .fixed32(UInt32(truncatingIfNeeded: try fixed(4))))
        case 2:
            let length = try varint()
            guard length <= UInt64(end - position) else { throw ProtoError("a field of \(length) bytes where \(end - position) remain") }
            let range = position..<(position + Int(length))
            position = range.upperBound
            return Field(number: number, value: .bytes(range))
        default: throw ProtoError("the wire type \(key & 7) at byte \(position) (groups are not ONNX's)")
        }
    }

    mutating func varint() throws -> UInt64 {
        var result: UInt64 = 0
        for shift in stride(from: 0, to: 70, by: 7) {
            guard position < end else { throw ProtoError("a number cut short by the end of the data") }
            let byte = data[position]
            position += 1
            guard shift < 63 || byte <= 1 else { throw ProtoError("a number longer than 64 bits") }
            result |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte < 0x80 { return result }
        }
        throw ProtoError("a number longer than 64 bits")
    }

    mutating func fixed(_ count: Int) throws -> UInt64 {
        guard end - position >= count else { throw ProtoError("a number cut short by the end of the data") }
        var v: UInt64 = 0
        for k in 0..<count { v |= UInt64(data[position + k]) << UInt64(8 * k) }
        position += count
        return v
    }

    public func string(_ range: Range<Int>) -> String { String(decoding: data[range], as: UTF8.self) }
    public func bytes(_ range: Range<Int>) -> ArraySlice<UInt8> { data[range] }

    /// The varints of a packed repeated field.
    public func packedVarints(_ range: Range<Int>) throws -> [UInt64] {
        var r = nested(range), out: [UInt64] = []
        while r.position < r.end { out.append(try r.varint()) }
        return out
    }

    /// The floats of a packed repeated float field.
    public func packedFloats(_ range: Range<Int>) throws -> [Float] {
        guard range.count % 4 == 0 else { throw ProtoError("packed floats of \(range.count) bytes, not a multiple of 4") }
        return stride(from: range.lowerBound, to: range.upperBound, by: 4).map { i in
            Float(bitPattern: UInt32(data[i]) | UInt32(data[i + 1]) << 8 | UInt32(data[i + 2]) << 16 | UInt32(data[i + 3]) << 24)
        }
    }
}

/// A malformed Protocol Buffers message.
public struct ProtoError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "not a valid ONNX file: \(message)" }
}

/// Protocol Buffers' wire format, as much of it as ONNX needs: varints, 32-bit floats, and
/// length-delimited fields (strings, bytes, packed arrays, nested messages).
///
/// A nested message's length comes before its bytes, so each message is first encoded into a
/// counting writer (which adds up sizes and stores nothing: the hundreds of megabytes of an
/// initializer cost one addition), then for real. A message nested d deep is counted d times and
/// written once; the output is written in one buffer, reserved to its final size.
public struct ProtoWriter {
    public enum WireType: UInt8 { case varint = 0, fixed64 = 1, lengthDelimited = 2, fixed32 = 5 }

    public private(set) var bytes: [UInt8] = []
    /// Bytes written (or, when counting, that would have been).
    public private(set) var count = 0
    let counting: Bool

    public init() { counting = false }
    init(counting: Bool) { self.counting = counting }

    /// The encoding of a message, in a buffer of exactly its size.
    public static func encode(_ message: some ProtoMessage) -> [UInt8] {
        var sizer = ProtoWriter(counting: true)
        message.encode(to: &sizer)
        var w = ProtoWriter()
        w.bytes.reserveCapacity(sizer.count)
        message.encode(to: &w)
        return w.bytes
    }

    /// Bytes the message's encoding takes.
    public static func size(of message: some ProtoMessage) -> Int {
        var sizer = ProtoWriter(counting: true)
        message.encode(to: &sizer)
        return sizer.count
    }

    mutating func append(_ byte: UInt8) {
        count += 1
        if !counting { bytes.append(byte) }
    }

    mutating func append(_ raw: UnsafeRawBufferPointer) {
        count += raw.count
        if !counting { bytes.append(contentsOf: raw) }
    }

    /// An unsigned varint: 7 bits a byte, least significant first, the high bit set on all but the last.
    public mutating func varint(_ value: UInt64) {
        var v = value
        while v >= 0x80 {
            append(UInt8(v & 0x7F) | 0x80)
            v >>= 7
        }
        append(UInt8(v))
    }

    public mutating func tag(_ field: Int, _ type: WireType) {
        varint(UInt64(field) << 3 | UInt64(type.rawValue))
    }

    /// An int64 or int32 field: a negative number is its 64-bit two's complement (ten bytes).
    public mutating func int(_ field: Int, _ value: Int64) {
        tag(field, .varint)
        varint(UInt64(bitPattern: value))
    }

    /// A float field: four bytes, little-endian.
    public mutating func float(_ field: Int, _ value: Float) {
        tag(field, .fixed32)
        withUnsafeBytes(of: value.bitPattern.littleEndian) { append($0) }
    }

    public mutating func string(_ field: Int, _ value: String) {
        var s = value
        s.withUTF8 { bytes(field, UnsafeRawBufferPointer($0)) }
    }

    public mutating func bytes(_ field: Int, _ raw: UnsafeRawBufferPointer) {
        tag(field, .lengthDelimited)
        varint(UInt64(raw.count))
        append(raw)
    }

    /// A repeated float field packed: one length-delimited field holding the floats side by side.
    public mutating func packedFloats(_ field: Int, _ values: [Float]) {
        tag(field, .lengthDelimited)
        varint(UInt64(values.count * 4))
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { append($0) } }
    }

    /// A repeated int64 field packed: one length-delimited field holding the varints.
    public mutating func packedInts(_ field: Int, _ values: [Int64]) {
        var sizer = ProtoWriter(counting: true)
        for v in values { sizer.varint(UInt64(bitPattern: v)) }
        tag(field, .lengthDelimited)
        varint(UInt64(sizer.count))
        for v in values { varint(UInt64(bitPattern: v)) }
    }

    /// A nested message: its size, then its fields.
    public mutating func message(_ field: Int, _ message: some ProtoMessage) {
        tag(field, .lengthDelimited)
        var sizer = ProtoWriter(counting: true)
        message.encode(to: &sizer)
        varint(UInt64(sizer.count))
        if counting { count += sizer.count } else { message.encode(to: &self) }
    }
}

/// A message that writes its fields.
public protocol ProtoMessage {
    func encode(to w: inout ProtoWriter)
}

/// A dense tensor in C order. Floating-point data is held as Float32 whatever the file stored;
/// integer data (token ids, BatchNorm's step counter) keeps its values as Int64.
public struct Tensor: Sendable, Equatable {
    public enum Storage: Sendable, Equatable {
        case float([Float])
        case int([Int64])
    }

    public var shape: [Int]
    public var storage: Storage

    public init(shape: [Int], floats: [Float]) {
        self.shape = shape
        self.storage = .float(floats)
    }

    public init(shape: [Int], ints: [Int64]) {
        self.shape = shape
        self.storage = .int(ints)
    }

    public var count: Int { shape.reduce(1, *) }
    public var isInteger: Bool { if case .int = storage { return true } else { return false } }

    /// The values as Float32 (integers converted).
    public var floats: [Float] {
        switch storage {
        case .float(let f): return f
        case .int(let i): return i.map { Float($0) }
        }
    }
}

/// IEEE half and bfloat16 to Float32.
enum HalfFloat {
    static func fromHalf(_ h: UInt16) -> Float {
        let sign = UInt32(h >> 15) << 31
        let exp = Int((h >> 10) & 0x1F)
        let frac = UInt32(h & 0x3FF)
        if exp == 0 {
            // Zero or subnormal: frac * 2^-24.
            let v = Float(frac) * Float(sign == 0 ? 1 : -1) / 16_777_216
            return frac == 0 ? Float(bitPattern: sign) : v
        }
        if exp == 31 { return Float(bitPattern: sign | 0x7F80_0000 | (frac << 13)) }
        return Float(bitPattern: sign | UInt32(exp - 15 + 127) << 23 | (frac << 13))
    }

    static func fromBFloat(_ b: UInt16) -> Float { Float(bitPattern: UInt32(b) << 16) }
}

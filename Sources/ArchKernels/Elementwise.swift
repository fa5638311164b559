import Foundation
import Dispatch

/// Normalisation, softmax and the vectorised functions activations are made of.
public enum Elementwise {
    public static func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

    typealias V = SIMD16<Float>

    typealias U = SIMD16<UInt32>

    /// e^x for 16 lanes: x = n ln 2 + r, e^r by Cephes' polynomial, 2^n from the exponent bits.
    /// (Plain float arithmetic and bit casts only: the generic SIMD conversions are slow.)
    @inline(always)
    static func exp16(_ x: V) -> V {
        let x = x.atLeast(V(repeating: -87.3)).atMost(V(repeating: 88.7))
        // n = round(x / ln 2) with the 1.5 * 2^23 trick; its integer sits in the low mantissa bits.
        let shifted = x * 1.442_695_04 + 12_582_912
        let n = shifted - 12_582_912
        let r = x - n * 0.693_359_375 + n * 2.121_944_40e-4
        var p = V(repeating: 1.987_569_150_0e-4)
        p = p * r + 1.398_199_950_7e-3
        p = p * r + 8.333_451_907_3e-3
        p = p * r + 4.166_579_589_4e-2
        p = p * r + 1.666_666_545_9e-1
        p = p * r + 5.000_000_120_1e-1
        p = p * r * r + r + 1
        let ni = unsafeBitCast(shifted, to: U.self) &- 0x4B40_0000
        return p * unsafeBitCast((ni &+ 127) &<< 23, to: V.self)
    }

    /// Exact GELU, 0.5 x (1 + erf(x / sqrt 2)), 16 lanes at a time; erf by Abramowitz & Stegun
    /// 7.1.28, 1 - 1 / (1 + a1 z + ... + a6 z^6)^16 (error below 3e-7; within 6e-7 of the definition
    /// here in single precision): a polynomial, four squarings and one division, where 7.1.26 needed
    /// an exponential as well (about twice the operations: it cost a fifth of gMLP's first MLP layer).
    /// Past |z| of about 12 the power overflows to infinity and erf is exactly +-1 (as it is in
    /// single precision from |z| of about 4).
    @inline(always)
    static func gelu16(_ x: V) -> V {
        let z = x * 0.707_106_78
        let zbits = unsafeBitCast(z, to: U.self)
        let a = unsafeBitCast(zbits & 0x7FFF_FFFF, to: V.self)
        var p = V(repeating: 0.000_043_063_8)
        p = p * a + 0.000_276_567_2
        p = p * a + 0.000_152_014_3
        p = p * a + 0.009_270_527_2
        p = p * a + 0.042_282_012_3
        p = p * a + 0.070_523_078_4
        p = p * a + 1
        p *= p; p *= p; p *= p; p *= p
        let y = 1 - 1 / p
        let erf = unsafeBitCast(unsafeBitCast(y, to: U.self) | (zbits & 0x8000_0000), to: V.self)
        return 0.5 * x * (1 + erf)
    }

    /// 1 / (1 + e^-x) for 16 lanes.
    @inline(always)
    static func sigmoid16(_ x: V) -> V { 1 / (1 + exp16(-x)) }

    /// tanh for 16 lanes: 2 sigmoid(2x) - 1, and x itself near zero where that form loses digits.
    @inline(always)
    static func tanh16(_ x: V) -> V {
        let t = 2 * sigmoid16(2 * x) - 1
        let small = (x * x) .< V(repeating: 1e-6)
        return t.replacing(with: x, where: small)
    }

    /// p[i] += x for i in 0..<count.
    @inline(never)
    static func add(_ x: Float, to p: UnsafeMutablePointer<Float>, count: Int) {
        let v = V(repeating: x)
        var i = 0
        while i + 16 <= count {
            let raw = UnsafeMutableRawPointer(p + i)
            raw.storeBytes(of: raw.loadUnaligned(as: V.self) + v, as: V.self)
            i += 16
        }
        while i < count { p[i] += x; i += 1 }
    }

    /// Rows of a normalisation: `rows` lines of `width` values, line r at `r * ld` from the start
    /// (with `segments` > 1, each line of `ld` holds that many rows of `width` side by side: the
    /// heads of a q or k projection).
    public struct Rows: Sendable, Equatable {
        public var rows: Int, width: Int, segments: Int
        public var lds: Int, ldd: Int
        public init(rows: Int, width: Int, segments: Int = 1, lds: Int, ldd: Int) {
            self.rows = rows; self.width = width; self.segments = segments; self.lds = lds; self.ldd = ldd
        }
        @inline(always) func source(_ r: Int) -> Int { r / segments * lds + r % segments * width }
        @inline(always) func destination(_ r: Int) -> Int { r / segments * ldd + r % segments * width }
    }

    /// Normalise each row: (x - mean) / sqrt(var + eps) * weight + bias (LayerNorm), or
    /// x / sqrt(mean(x^2) + eps) * weight (RMSNorm), then the activation; `dst` may be `src`.
    /// Two passes (mean, then variance) with 16-wide accumulators; rows split across `threads`.
    public static func normalize(_ shape: Rows, src: UnsafePointer<Float>, dst: UnsafeMutablePointer<Float>, eps: Float,
                                 weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, rms: Bool,
                                 activation: Activation = .none, threads: Int = 1) {
        guard shape.rows > 0, shape.width > 0 else { return }
        let workers = shape.rows * shape.width >= 1 << 15 ? min(threads, shape.rows) : 1
        Parallel.run(workers) { k in
            for r in Parallel.share(shape.rows, k, workers) {
                normalizeRow(src + shape.source(r), dst + shape.destination(r), width: shape.width, eps: eps, weight: weight, bias: bias,
                             rms: rms, activation: activation)
            }
        }
    }

    @inline(always)
    static func normalizeRow(_ row: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>, width: Int, eps: Float,
                             weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, rms: Bool, activation: Activation) {
        let raw = UnsafeRawPointer(row)
        let vec = width / 16 * 16
        var mean: Float = 0
        if !rms { mean = sum(row, count: width) / Float(width) }
        var acc = V()
        let m = V(repeating: mean)
        var j = 0
        while j < vec { let d = raw.loadUnaligned(fromByteOffset: j * 4, as: V.self) - m; acc += d * d; j += 16 }
        var ss = acc.sum()
        while j < width { let d = row[j] - mean; ss += d * d; j += 1 }
        let inv = 1 / (ss / Float(width) + eps).squareRoot()
        let iv = V(repeating: inv)
        let oraw = UnsafeMutableRawPointer(out)
        j = 0
        while j < vec {
            var v = (raw.loadUnaligned(fromByteOffset: j * 4, as: V.self) - m) * iv
            if let weight { v *= UnsafeRawPointer(weight + j).loadUnaligned(as: V.self) }
            if let bias { v += UnsafeRawPointer(bias + j).loadUnaligned(as: V.self) }
            oraw.storeBytes(of: v, toByteOffset: j * 4, as: V.self)
            j += 16
        }
        while j < width {
            var v = (row[j] - mean) * inv
            if let weight { v *= weight[j] }
            if let bias { v += bias[j] }
            out[j] = v
            j += 1
        }
        activation.apply(out, count: width)
    }

    /// p[0] + ... + p[count - 1], in 16 running sums (one sum's chain of dependent additions took
    /// four cycles an element: a global average pool of 1280 x 7 x 7 took 0.12 ms).
    static func sum(_ p: UnsafePointer<Float>, count: Int) -> Float {
        var lanes = V(), j = 0
        while j + 16 <= count { lanes += UnsafeRawPointer(p + j).loadUnaligned(as: V.self); j += 16 }
        var total = lanes.sum()
        while j < count { total += p[j]; j += 1 }
        return total
    }

    /// Softmax over rows of `width`, numerically stable, 16 lanes at a time (exp by `exp16`).
    public static func softmaxRows(_ p: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        let vec = width / 16 * 16
        for r in 0..<rows {
            let row = p + r * width, raw = UnsafeMutableRawPointer(row)
            var mv = V(repeating: -.infinity)
            var j = 0
            while j < vec { mv = mv.atLeast(raw.loadUnaligned(fromByteOffset: j * 4, as: V.self)); j += 16 }
            var m = mv.maximumLane()
            while j < width { m = max(m, row[j]); j += 1 }
            let mm = V(repeating: m)
            var sv = V()
            j = 0
            while j < vec {
                let e = exp16(raw.loadUnaligned(fromByteOffset: j * 4, as: V.self) - mm)
                raw.storeBytes(of: e, toByteOffset: j * 4, as: V.self)
                sv += e
                j += 16
            }
            var s = sv.sum()
            while j < width { let e = expf(row[j] - m); row[j] = e; s += e; j += 1 }
            let inv = 1 / s
            for k in 0..<width { row[k] *= inv }
        }
    }
}

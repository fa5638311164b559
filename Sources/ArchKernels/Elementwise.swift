import Foundation
import Dispatch

/// Normalisation, activations and softmax on contiguous float buffers.
public enum Elementwise {
    public static func gelu(_ x: Float) -> Float { 0.5 * x * (1 + erff(x * 0.70710678118654752)) }
    public static func geluTanh(_ x: Float) -> Float {
        0.5 * x * (1 + tanhf(0.7978845608 * (x + 0.044715 * x * x * x)))
    }
    public static func sigmoid(_ x: Float) -> Float { 1 / (1 + expf(-x)) }

    typealias V = SIMD16<Float>

    typealias U = SIMD16<UInt32>

    /// e^x for 16 lanes: x = n ln 2 + r, e^r by Cephes' polynomial, 2^n from the exponent bits.
    /// (Plain float arithmetic and bit casts only: the generic SIMD conversions are slow.)
    @inline(__always)
    static func exp16(_ x: V) -> V {
        let x = pointwiseMin(pointwiseMax(x, V(repeating: -87.3)), V(repeating: 88.7))
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
    /// 7.1.26 (absolute error below 1.5e-7).
    @inline(__always)
    static func gelu16(_ x: V) -> V {
        let z = x * 0.707_106_78
        let zbits = unsafeBitCast(z, to: U.self)
        let a = unsafeBitCast(zbits & 0x7FFF_FFFF, to: V.self)
        let t = 1 / (1 + 0.327_591_1 * a)
        var poly = V(repeating: 1.061_405_429)
        poly = poly * t - 1.453_152_027
        poly = poly * t + 1.421_413_741
        poly = poly * t - 0.284_496_736
        poly = poly * t + 0.254_829_592
        let y = 1 - poly * t * exp16(-a * a)
        let erf = unsafeBitCast(unsafeBitCast(y, to: U.self) | (zbits & 0x8000_0000), to: V.self)
        return 0.5 * x * (1 + erf)
    }

    /// GELU over a buffer, vectorised.
    public static func geluInPlace(_ p: UnsafeMutablePointer<Float>, count: Int) {
        var i = 0
        while i + 16 <= count {
            let raw = UnsafeMutableRawPointer(p + i)
            raw.storeBytes(of: gelu16(raw.loadUnaligned(as: V.self)), as: V.self)
            i += 16
        }
        while i < count { p[i] = gelu(p[i]); i += 1 }
    }

    public static func apply(_ name: String, approx: String?, _ data: inout [Float]) {
        data.withUnsafeMutableBufferPointer { apply(name, approx: approx, $0) }
    }

    /// The activation `name` in place; GELU's tanh approximation is `gelu` with approx "tanh", or `gelu_tanh`.
    public static func apply(_ name: String, approx: String?, _ data: UnsafeMutableBufferPointer<Float>) {
        switch name {
        case "relu": for i in data.indices { data[i] = max(data[i], 0) }
        case "relu6": for i in data.indices { data[i] = min(max(data[i], 0), 6) }
        case "gelu", "gelu_tanh":
            if approx == "tanh" || name == "gelu_tanh" {
                for i in data.indices { data[i] = geluTanh(data[i]) }
            } else {
                geluInPlace(data.baseAddress!, count: data.count)
            }
        case "silu": for i in data.indices { data[i] = data[i] * sigmoid(data[i]) }
        case "sigmoid": for i in data.indices { data[i] = sigmoid(data[i]) }
        case "tanh": for i in data.indices { data[i] = tanhf(data[i]) }
        case "hardswish": for i in data.indices { let x = data[i]; data[i] = x * min(max(x + 3, 0), 6) / 6 }
        default: break
        }
    }

    /// Normalise each row of `width` values: (x - mean) / sqrt(var + eps) * weight + bias (LayerNorm),
    /// or x / sqrt(mean(x^2) + eps) * weight (RMSNorm). Two passes (mean, then variance) with 16-wide
    /// float accumulators; rows are split across the cores when there are many.
    public static func normalizeRows(_ data: inout [Float], width: Int, eps: Float, weight: [Float]?, bias: [Float]?, rms: Bool = false) {
        data.withUnsafeMutableBufferPointer { normalizeRows($0, width: width, eps: eps, weight: weight, bias: bias, rms: rms) }
    }

    public static func normalizeRows(_ p: UnsafeMutableBufferPointer<Float>, width: Int, eps: Float, weight: [Float]?, bias: [Float]?, rms: Bool = false) {
        let rows = width > 0 ? p.count / width : 0
        guard rows > 0 else { return }
        let w = weight ?? [], b = bias ?? []
        let base = Int(bitPattern: p.baseAddress!)
        let workers = rows * width >= 1 << 16 ? 2 : 1
        w.withUnsafeBufferPointer { wp in b.withUnsafeBufferPointer { bp in
            let wAddr = Int(bitPattern: wp.baseAddress), bAddr = Int(bitPattern: bp.baseAddress)
            DispatchQueue.concurrentPerform(iterations: workers) { k in
                let data = UnsafeMutablePointer<Float>(bitPattern: base)!
                let wt = weight == nil ? nil : UnsafePointer<Float>(bitPattern: wAddr)
                let bs = bias == nil ? nil : UnsafePointer<Float>(bitPattern: bAddr)
                for r in (rows * k / workers)..<(rows * (k + 1) / workers) {
                    normalizeRow(data + r * width, width: width, eps: eps, weight: wt, bias: bs, rms: rms)
                }
            }
        } }
    }

    @inline(__always)
    static func normalizeRow(_ row: UnsafeMutablePointer<Float>, width: Int, eps: Float, weight: UnsafePointer<Float>?, bias: UnsafePointer<Float>?, rms: Bool) {
        let raw = UnsafeMutableRawPointer(row)
        let vec = width / 16 * 16
        var mean: Float = 0
        if !rms {
            var acc = V()
            var j = 0
            while j < vec { acc += raw.loadUnaligned(fromByteOffset: j * 4, as: V.self); j += 16 }
            var s = acc.sum()
            while j < width { s += row[j]; j += 1 }
            mean = s / Float(width)
        }
        var acc = V()
        let m = V(repeating: mean)
        var j = 0
        while j < vec { let d = raw.loadUnaligned(fromByteOffset: j * 4, as: V.self) - m; acc += d * d; j += 16 }
        var ss = acc.sum()
        while j < width { let d = row[j] - mean; ss += d * d; j += 1 }
        let inv = 1 / (ss / Float(width) + eps).squareRoot()
        for j in 0..<width {
            var v = (row[j] - mean) * inv
            if let weight { v *= weight[j] }
            if let bias { v += bias[j] }
            row[j] = v
        }
    }

    /// Softmax over rows of `width`, numerically stable, 16 lanes at a time (exp by `exp16`).
    public static func softmaxRows(_ p: UnsafeMutablePointer<Float>, rows: Int, width: Int) {
        let vec = width / 16 * 16
        for r in 0..<rows {
            let row = p + r * width, raw = UnsafeMutableRawPointer(row)
            var mv = V(repeating: -.infinity)
            var j = 0
            while j < vec { mv = pointwiseMax(mv, raw.loadUnaligned(fromByteOffset: j * 4, as: V.self)); j += 16 }
            var m = mv.max()
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

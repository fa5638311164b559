import Foundation

/// The activations of the language, as kernels apply them: on their own, or as the epilogue of a
/// GEMM, a convolution or a norm, in registers, 16 lanes at a time. Every switch over them is
/// exhaustive, so a new one cannot be forgotten by a kernel.
public enum Activation: String, Sendable, CaseIterable {
    case none, relu, relu6, gelu, geluTanh, silu, sigmoid, tanh, hardswish

    typealias V = SIMD16<Float>

    /// One value.
    @inline(always)
    public func apply(_ x: Float) -> Float {
        switch self {
        case .none: return x
        case .relu: return Swift.max(x, 0)
        case .relu6: return Swift.min(Swift.max(x, 0), 6)
        case .gelu: return 0.5 * x * (1 + erff(x * 0.707_106_781_186_547_52))
        case .geluTanh: return 0.5 * x * (1 + tanhf(0.797_884_560_8 * (x + 0.044_715 * x * x * x)))
        case .silu: return x / (1 + expf(-x))
        case .sigmoid: return 1 / (1 + expf(-x))
        case .tanh: return tanhf(x)
        case .hardswish: return x * Swift.min(Swift.max(x + 3, 0), 6) / 6
        }
    }

    /// The activation as a clamp a kernel applies in registers (ReLU, ReLU6; none as an unbounded
    /// one), or nil for the others, which run as `apply` over the stored values.
    public var clamp: (low: Float, high: Float)? {
        switch self {
        case .none: return (-.infinity, .infinity)
        case .relu: return (0, .infinity)
        case .relu6: return (0, 6)
        case .gelu, .geluTanh, .silu, .sigmoid, .tanh, .hardswish: return nil
        }
    }

    /// Calls `body` with the activation as a function of 16 lanes, chosen once by this switch, so
    /// that the loops `body` runs have no switch per vector (the one definition of each
    /// activation's vector form: the GEMM's tile epilogue and `apply` both take it from here).
    @inline(always)
    func withLanes<R>(_ body: ((V) -> V) -> R) -> R {
        let zero = V(), six = V(repeating: 6)
        switch self {
        case .none: return body { $0 }
        case .relu: return body { $0.atLeast(zero) }
        case .relu6: return body { $0.atLeast(zero).atMost(six) }
        case .gelu: return body { Elementwise.gelu16($0) }
        case .geluTanh:
            // 0.5 x (1 + tanh(u)) = x sigmoid(2u)
            return body { x in x * Elementwise.sigmoid16(1.595_769_121_6 * (x + 0.044_715 * x * x * x)) }
        case .silu: return body { x in x * Elementwise.sigmoid16(x) }
        case .sigmoid: return body { Elementwise.sigmoid16($0) }
        case .tanh: return body { Elementwise.tanh16($0) }
        case .hardswish: return body { x in x * (x + 3).atLeast(zero).atMost(six) * (1 / 6) }
        }
    }

    /// In place over `count` values, vectorised.
    @inline(never)
    public func apply(_ p: UnsafeMutablePointer<Float>, count: Int) {
        if self == .none { return }
        let vectors = count / 16
        let raw = UnsafeMutableRawPointer(p)
        withLanes { f in
            for i in 0..<vectors { raw.storeBytes(of: f(raw.loadUnaligned(fromByteOffset: i * 64, as: V.self)), toByteOffset: i * 64, as: V.self) }
        }
        for i in (vectors * 16)..<count { p[i] = apply(p[i]) }
    }
}

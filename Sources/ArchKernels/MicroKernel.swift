/// The 6x32 register-blocked kernel: twelve 16-wide accumulators (6 rows x 2 vectors) stay in
/// registers for the whole K loop; each step loads 32 floats of B, broadcasts 6 of A and issues
/// 12 fused multiply-adds.
enum MicroKernel {
    typealias V = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    /// With an `epilogue` (on the last block of K), the bias and activation are applied in registers
    /// before the tile is stored: C is written once. `bias` points at the tile's first row (per-row
    /// bias) or first column (per-column bias).
    static func run(k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                    epilogue: Epilogue = .none, bias: UnsafePointer<Float>? = nil) {
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        var ap = a, bp = b
        for _ in 0..<k {
            let b0 = load(bp), b1 = load(bp + 16)
            var s = V(repeating: ap[0]); c00.addProduct(s, b0); c01.addProduct(s, b1)
            s = V(repeating: ap[1]); c10.addProduct(s, b0); c11.addProduct(s, b1)
            s = V(repeating: ap[2]); c20.addProduct(s, b0); c21.addProduct(s, b1)
            s = V(repeating: ap[3]); c30.addProduct(s, b0); c31.addProduct(s, b1)
            s = V(repeating: ap[4]); c40.addProduct(s, b0); c41.addProduct(s, b1)
            s = V(repeating: ap[5]); c50.addProduct(s, b0); c51.addProduct(s, b1)
            ap += 6
            bp += 32
        }
        let rows = [(c00, c01), (c10, c11), (c20, c21), (c30, c31), (c40, c41), (c50, c51)]
        let columnBias = epilogue.bias == .perColumn ? (load(bias!), load(bias! + 16)) : (V(), V())
        for (r, (lo0, hi0)) in rows.enumerated() {
            let p = c + r * ldc
            var (lo, hi) = accumulate ? (load(p) + lo0, load(p + 16) + hi0) : (lo0, hi0)
            switch epilogue.bias {
            case .none: break
            case .perRow: let s = V(repeating: bias![r]); lo += s; hi += s
            case .perColumn: lo += columnBias.0; hi += columnBias.1
            }
            switch epilogue.activation {
            case .none: break
            case .relu: lo = pointwiseMax(lo, V()); hi = pointwiseMax(hi, V())
            case .relu6:
                lo = pointwiseMin(pointwiseMax(lo, V()), V(repeating: 6)); hi = pointwiseMin(pointwiseMax(hi, V()), V(repeating: 6))
            case .gelu: lo = Elementwise.gelu16(lo); hi = Elementwise.gelu16(hi)
            }
            store(lo, p)
            store(hi, p + 16)
        }
    }
}

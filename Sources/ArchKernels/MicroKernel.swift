/// The 6x32 register-blocked kernel: twelve 16-wide accumulators (6 rows x 2 vectors) stay in
/// registers for the whole K loop; each step loads 32 floats of B, broadcasts 6 of A and issues
/// 12 fused multiply-adds.
enum MicroKernel {
    typealias V = SIMD16<Float>

    @inline(__always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(__always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    /// C[6 x 32] = source + A panel x B panel, then (on the last block of K, `epilogue` non-nil, offset
    /// to this tile) the bias, activation and multiplier in registers before the tile is stored:
    /// C is written once. `source` is nil (start from zero), C itself, or the residual.
    @inline(__always)
    static func run(k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                    source: UnsafePointer<Float>?, lds: Int, epilogue: Epilogue?) {
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
        write(c00, c01, 0, c, ldc, source, lds, epilogue)
        write(c10, c11, 1, c, ldc, source, lds, epilogue)
        write(c20, c21, 2, c, ldc, source, lds, epilogue)
        write(c30, c31, 3, c, ldc, source, lds, epilogue)
        write(c40, c41, 4, c, ldc, source, lds, epilogue)
        write(c50, c51, 5, c, ldc, source, lds, epilogue)
    }

    /// Row `r` of the tile: the source added, the epilogue applied, stored.
    @inline(__always)
    static func write(_ lo0: V, _ hi0: V, _ r: Int, _ c: UnsafeMutablePointer<Float>, _ ldc: Int,
                      _ source: UnsafePointer<Float>?, _ lds: Int, _ epilogue: Epilogue?) {
        var (lo, hi) = (lo0, hi0)
        if let source { let s = source + r * lds; lo += load(s); hi += load(s + 16) }
        if let e = epilogue {
            switch e.bias {
            case .none: break
            case .perRow: let s = V(repeating: e.biasValues![r]); lo += s; hi += s
            case .perColumn: lo += load(e.biasValues!); hi += load(e.biasValues! + 16)
            }
            lo = e.activation.apply16(lo)
            hi = e.activation.apply16(hi)
            if let m = e.multiplier { let p = m + r * e.ldm; lo *= load(p); hi *= load(p + 16) }
        }
        let p = c + r * ldc
        store(lo, p)
        store(hi, p + 16)
    }
}

/// The 6x32 register-blocked kernel: twelve 16-wide accumulators (6 rows x 2 vectors) stay in
/// registers for the whole K loop; each step loads 32 floats of B, broadcasts 6 of A and issues
/// 12 fused multiply-adds.
///
/// On the last block of K it adds the bias and clamps (ReLU, ReLU6) in registers before storing;
/// other activations run on the stored tile, still in L1, in their own function
/// (`Gemm.applyEpilogue`). Kept small and never inlined, so the compiler keeps its accumulators in
/// registers and inlines the SIMD operations into it (inlined into the block loops it spilled them).
enum MicroKernel {
    typealias V = SIMD16<Float>

    @inline(always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    /// One step of K: the 6 x 32 tile += A's column (6 values, broadcast) x B's row (b0, b1).
    @inline(always)
    static func step(_ a: UnsafePointer<Float>, _ b0: V, _ b1: V, _ c00: inout V, _ c01: inout V, _ c10: inout V, _ c11: inout V,
                     _ c20: inout V, _ c21: inout V, _ c30: inout V, _ c31: inout V, _ c40: inout V, _ c41: inout V,
                     _ c50: inout V, _ c51: inout V) {
        var s = V(repeating: a[0]); c00.addProduct(s, b0); c01.addProduct(s, b1)
        s = V(repeating: a[1]); c10.addProduct(s, b0); c11.addProduct(s, b1)
        s = V(repeating: a[2]); c20.addProduct(s, b0); c21.addProduct(s, b1)
        s = V(repeating: a[3]); c30.addProduct(s, b0); c31.addProduct(s, b1)
        s = V(repeating: a[4]); c40.addProduct(s, b0); c41.addProduct(s, b1)
        s = V(repeating: a[5]); c50.addProduct(s, b0); c51.addProduct(s, b1)
    }

    /// What the micro-kernel applies in registers on the last block of K: a bias per row or per
    /// column (offset to this tile) and a clamp.
    struct InRegisters {
        var rowBias: UnsafePointer<Float>?, columnBias: UnsafePointer<Float>?
        var low: Float, high: Float
    }

    /// C[rows x 32] = source + A panel x B panel (+ bias, clamped); `source` is nil (start from zero),
    /// C itself, or the residual. All 6 rows are computed (A's panel is padded with zero rows); only
    /// the first `rows` are read from the source and stored, so a tile at the bottom edge of C (M not
    /// a multiple of 6: 16, 32, 64 channels) is written in place.
    @inline(never)
    static func run(k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                    source: UnsafePointer<Float>?, lds: Int, epilogue: InRegisters? = nil, rows: Int = 6) {
        var c00 = V(), c01 = V(), c10 = V(), c11 = V(), c20 = V(), c21 = V()
        var c30 = V(), c31 = V(), c40 = V(), c41 = V(), c50 = V(), c51 = V()
        if let s = source {
            c00 = load(s); c01 = load(s + 16)
            if rows > 1 { c10 = load(s + lds); c11 = load(s + lds + 16) }
            if rows > 2 { c20 = load(s + 2 * lds); c21 = load(s + 2 * lds + 16) }
            if rows > 3 { c30 = load(s + 3 * lds); c31 = load(s + 3 * lds + 16) }
            if rows > 4 { c40 = load(s + 4 * lds); c41 = load(s + 4 * lds + 16) }
            if rows > 5 { c50 = load(s + 5 * lds); c51 = load(s + 5 * lds + 16) }
        }
        var ap = a, bp = b
        for _ in 0..<k {
            step(ap, load(bp), load(bp + 16), &c00, &c01, &c10, &c11, &c20, &c21, &c30, &c31, &c40, &c41, &c50, &c51)
            ap += 6
            bp += 32
        }
        if let e = epilogue {
            if let r = e.rowBias {
                // (The bias has `rows` entries here: past them the rows are not stored.)
                var s = V(repeating: r[0]); c00 += s; c01 += s
                if rows > 1 { s = V(repeating: r[1]); c10 += s; c11 += s }
                if rows > 2 { s = V(repeating: r[2]); c20 += s; c21 += s }
                if rows > 3 { s = V(repeating: r[3]); c30 += s; c31 += s }
                if rows > 4 { s = V(repeating: r[4]); c40 += s; c41 += s }
                if rows > 5 { s = V(repeating: r[5]); c50 += s; c51 += s }
            }
            if let col = e.columnBias {
                let (lo, hi) = (load(col), load(col + 16))
                c00 += lo; c01 += hi; c10 += lo; c11 += hi; c20 += lo; c21 += hi
                c30 += lo; c31 += hi; c40 += lo; c41 += hi; c50 += lo; c51 += hi
            }
            let (l, h) = (V(repeating: e.low), V(repeating: e.high))
            // Written out: a local clamp function was outlined (despite @inline(always)), with the
            // accumulators spilled around each of its 12 calls.
            c00 = c00.atLeast(l).atMost(h); c01 = c01.atLeast(l).atMost(h)
            c10 = c10.atLeast(l).atMost(h); c11 = c11.atLeast(l).atMost(h)
            c20 = c20.atLeast(l).atMost(h); c21 = c21.atLeast(l).atMost(h)
            c30 = c30.atLeast(l).atMost(h); c31 = c31.atLeast(l).atMost(h)
            c40 = c40.atLeast(l).atMost(h); c41 = c41.atLeast(l).atMost(h)
            c50 = c50.atLeast(l).atMost(h); c51 = c51.atLeast(l).atMost(h)
        }
        store(c00, c); store(c01, c + 16)
        if rows > 1 { store(c10, c + ldc); store(c11, c + ldc + 16) }
        if rows > 2 { store(c20, c + 2 * ldc); store(c21, c + 2 * ldc + 16) }
        if rows > 3 { store(c30, c + 3 * ldc); store(c31, c + 3 * ldc + 16) }
        if rows > 4 { store(c40, c + 4 * ldc); store(c41, c + 4 * ldc + 16) }
        if rows > 5 { store(c50, c + 5 * ldc); store(c51, c + 5 * ldc + 16) }
    }

    /// C[6 x 32] = clamp(bias + A panel x B), B's row t read in place at `b + taps[t]` (a direct
    /// convolution's tap in its phase plane: `DirectConv`), every row stored (C has whole panels).
    @inline(never)
    static func runTaps(k: Int, a: UnsafePointer<Float>, taps: UnsafePointer<Int>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
                        ldc: Int, bias: UnsafePointer<Float>, low: Float, high: Float) {
        var c00 = V(repeating: bias[0]), c10 = V(repeating: bias[1]), c20 = V(repeating: bias[2])
        var c30 = V(repeating: bias[3]), c40 = V(repeating: bias[4]), c50 = V(repeating: bias[5])
        var (c01, c11, c21, c31, c41, c51) = (c00, c10, c20, c30, c40, c50)
        var ap = a
        for t in 0..<k {
            let bp = b + taps[t]
            step(ap, load(bp), load(bp + 16), &c00, &c01, &c10, &c11, &c20, &c21, &c30, &c31, &c40, &c41, &c50, &c51)
            ap += 6
        }
        let (l, h) = (V(repeating: low), V(repeating: high))
        store(c00.atLeast(l).atMost(h), c); store(c01.atLeast(l).atMost(h), c + 16)
        store(c10.atLeast(l).atMost(h), c + ldc); store(c11.atLeast(l).atMost(h), c + ldc + 16)
        store(c20.atLeast(l).atMost(h), c + 2 * ldc); store(c21.atLeast(l).atMost(h), c + 2 * ldc + 16)
        store(c30.atLeast(l).atMost(h), c + 3 * ldc); store(c31.atLeast(l).atMost(h), c + 3 * ldc + 16)
        store(c40.atLeast(l).atMost(h), c + 4 * ldc); store(c41.atLeast(l).atMost(h), c + 4 * ldc + 16)
        store(c50.atLeast(l).atMost(h), c + 5 * ldc); store(c51.atLeast(l).atMost(h), c + 5 * ldc + 16)
    }

    /// The left half of a tile, C[6 x 16] = source + A panel x B panel's first 16 columns (B's rows
    /// still 32 apart): for a right-edge tile 16 or fewer columns wide (196 = 6 x 32 + 4 positions),
    /// half the multiply-adds of a whole tile. Writes all 6 rows and 16 columns of `c`.
    @inline(never)
    static func runLeftHalf(k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>, ldc: Int,
                            source: UnsafePointer<Float>?, lds: Int) {
        var c0 = V(), c1 = V(), c2 = V(), c3 = V(), c4 = V(), c5 = V()
        if let s = source {
            c0 = load(s); c1 = load(s + lds); c2 = load(s + 2 * lds); c3 = load(s + 3 * lds); c4 = load(s + 4 * lds); c5 = load(s + 5 * lds)
        }
        var ap = a, bp = b
        for _ in 0..<k {
            let b0 = load(bp)
            c0.addProduct(V(repeating: ap[0]), b0); c1.addProduct(V(repeating: ap[1]), b0)
            c2.addProduct(V(repeating: ap[2]), b0); c3.addProduct(V(repeating: ap[3]), b0)
            c4.addProduct(V(repeating: ap[4]), b0); c5.addProduct(V(repeating: ap[5]), b0)
            ap += 6
            bp += 32
        }
        store(c0, c); store(c1, c + ldc); store(c2, c + 2 * ldc); store(c3, c + 3 * ldc); store(c4, c + 4 * ldc); store(c5, c + 5 * ldc)
    }
}


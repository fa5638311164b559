/// The two products of one (window, head) in registers, for head widths that are a multiple of 32
/// (Swin's are all 32): the scores S = scale Q Kᵀ in tiles of 6 rows x 64 keys, with K transposed
/// once into zero-padded rows of 64; then S V in tiles of 6 rows x 32 channels, V read in place.
/// A general GEMM spent most of its time packing these 49 x 49 x 32 products and on their edges.
extension WindowAttention {
    typealias V = SIMD16<Float>

    /// Whether a head is computed by the tiles (else by the general GEMM).
    static func tiled(_ g: Grid) -> Bool { g.headWidth % 32 == 0 }

    /// scores [t, padded] = Q Kᵀ for one (window, head) (zero past the keys): q at the head's first
    /// query (rows 3c apart, the keys c after it), `kt` the worker's Kᵀ [dh, padded], zero past the keys.
    static func tiledScores(_ g: Grid, q: UnsafePointer<Float>, kt: UnsafeMutablePointer<Float>, scores: UnsafeMutablePointer<Float>) {
        let (t, c, padded) = (g.tokens, g.channels, paddedTokens(g))
        transpose(q + c, ldk: 3 * c, tokens: t, width: g.headWidth, into: kt, padded: padded)
        for i in stride(from: 0, to: t, by: 6) {
            for j in stride(from: 0, to: t, by: 64) {
                scoreTile(k: g.headWidth, a: q + i * 3 * c, lda: 3 * c, rows: min(6, t - i), b: kt + j, ldb: padded,
                          out: scores + i * padded + j, ldo: padded)
            }
        }
    }

    /// out [t, dh] (rows c apart) = probabilities [t, padded] V, V's rows 3c apart.
    static func tiledValues(_ g: Grid, probabilities p: UnsafePointer<Float>, v: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>) {
        let (t, c, padded) = (g.tokens, g.channels, paddedTokens(g))
        for i in stride(from: 0, to: t, by: 6) {
            for d in stride(from: 0, to: g.headWidth, by: 32) {
                valueTile(k: t, p: p + i * padded, ldp: padded, rows: min(6, t - i), b: v + d, ldb: 3 * c, out: out + i * c + d, ldo: c)
            }
        }
    }

    /// K [t, dh] (rows `ldk` apart) into Kᵀ [dh, padded]; the columns past t are left as they are (zero).
    static func transpose(_ k: UnsafePointer<Float>, ldk: Int, tokens: Int, width: Int, into kt: UnsafeMutablePointer<Float>, padded: Int) {
        for j in 0..<tokens {
            let row = k + j * ldk
            for d in 0..<width { kt[d * padded + j] = row[d] }
        }
    }

    /// A tile row's accumulators, stored to a row of the output.
    protocol TileRow { func store(_ p: UnsafeMutablePointer<Float>) }

    /// The first `rows` (at most 6) rows of a tile, `ldo` apart.
    @inline(always)
    static func store<Row: TileRow>(_ r: (Row, Row, Row, Row, Row, Row), rows: Int, out: UnsafeMutablePointer<Float>, ldo: Int) {
        r.0.store(out)
        if rows > 1 { r.1.store(out + ldo) }
        if rows > 2 { r.2.store(out + 2 * ldo) }
        if rows > 3 { r.3.store(out + 3 * ldo) }
        if rows > 4 { r.4.store(out + 4 * ldo) }
        if rows > 5 { r.5.store(out + 5 * ldo) }
    }

    /// Four vectors of one tile row.
    struct Four: TileRow {
        var v0 = V(), v1 = V(), v2 = V(), v3 = V()
        @inline(always) mutating func add(_ s: Float, _ b0: V, _ b1: V, _ b2: V, _ b3: V) {
            let s = V(repeating: s)
            v0.addProduct(s, b0); v1.addProduct(s, b1); v2.addProduct(s, b2); v3.addProduct(s, b3)
        }
        @inline(always) func store(_ p: UnsafeMutablePointer<Float>) {
            let raw = UnsafeMutableRawPointer(p)
            raw.storeBytes(of: v0, as: V.self); raw.storeBytes(of: v1, toByteOffset: 64, as: V.self)
            raw.storeBytes(of: v2, toByteOffset: 128, as: V.self); raw.storeBytes(of: v3, toByteOffset: 192, as: V.self)
        }
    }

    /// S[rows x 64] = A[rows x k] B[k x 64], rows <= 6: A's rows `lda` apart (queries), B's rows
    /// `ldb` apart (Kᵀ, zero past the keys). Rows past `rows` repeat the last.
    @inline(never)
    static func scoreTile(k: Int, a: UnsafePointer<Float>, lda: Int, rows: Int, b: UnsafePointer<Float>, ldb: Int,
                          out: UnsafeMutablePointer<Float>, ldo: Int) {
        let a0 = a, a1 = a + min(1, rows - 1) * lda, a2 = a + min(2, rows - 1) * lda
        let a3 = a + min(3, rows - 1) * lda, a4 = a + min(4, rows - 1) * lda, a5 = a + min(5, rows - 1) * lda
        var r0 = Four(), r1 = Four(), r2 = Four(), r3 = Four(), r4 = Four(), r5 = Four()
        var bp = b
        for p in 0..<k {
            let b0 = load(bp), b1 = load(bp + 16), b2 = load(bp + 32), b3 = load(bp + 48)
            r0.add(a0[p], b0, b1, b2, b3); r1.add(a1[p], b0, b1, b2, b3); r2.add(a2[p], b0, b1, b2, b3)
            r3.add(a3[p], b0, b1, b2, b3); r4.add(a4[p], b0, b1, b2, b3); r5.add(a5[p], b0, b1, b2, b3)
            bp += ldb
        }
        store((r0, r1, r2, r3, r4, r5), rows: rows, out: out, ldo: ldo)
    }

    /// Two vectors of one tile row.
    struct Two: TileRow {
        var v0 = V(), v1 = V()
        @inline(always) mutating func add(_ s: Float, _ b0: V, _ b1: V) {
            let s = V(repeating: s)
            v0.addProduct(s, b0); v1.addProduct(s, b1)
        }
        @inline(always) func store(_ p: UnsafeMutablePointer<Float>) {
            UnsafeMutableRawPointer(p).storeBytes(of: v0, as: V.self)
            UnsafeMutableRawPointer(p + 16).storeBytes(of: v1, as: V.self)
        }
    }

    /// O[rows x 32] = P[rows x k] B[k x 32], rows <= 6: P's rows `ldp` apart (probabilities), B's
    /// rows `ldb` apart (values, read in place). Rows past `rows` repeat the last.
    @inline(never)
    static func valueTile(k: Int, p: UnsafePointer<Float>, ldp: Int, rows: Int, b: UnsafePointer<Float>, ldb: Int,
                          out: UnsafeMutablePointer<Float>, ldo: Int) {
        let p0 = p, p1 = p + min(1, rows - 1) * ldp, p2 = p + min(2, rows - 1) * ldp
        let p3 = p + min(3, rows - 1) * ldp, p4 = p + min(4, rows - 1) * ldp, p5 = p + min(5, rows - 1) * ldp
        var r0 = Two(), r1 = Two(), r2 = Two(), r3 = Two(), r4 = Two(), r5 = Two()
        var bp = b
        for j in 0..<k {
            let b0 = load(bp), b1 = load(bp + 16)
            r0.add(p0[j], b0, b1); r1.add(p1[j], b0, b1); r2.add(p2[j], b0, b1)
            r3.add(p3[j], b0, b1); r4.add(p4[j], b0, b1); r5.add(p5[j], b0, b1)
            bp += ldb
        }
        store((r0, r1, r2, r3, r4, r5), rows: rows, out: out, ldo: ldo)
    }

    @inline(always) static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
}

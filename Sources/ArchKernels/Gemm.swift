/// Single-precision matrix multiply, C[m x n] = A[m x k] B[k x n] (+ C if `accumulate`), row-major
/// with leading dimensions (with `transposeB`, B is given as Bᵀ [n x k], as a linear layer's weight
/// is), in the BLIS structure: B is packed in panels of 32 columns and A in panels of 6 rows per
/// KC x NC block, and a 6x32 register-blocked micro-kernel runs on the panels. The epilogue (bias,
/// residual, activation, multiplier) is applied as C is written. Work is split across `threads`.
public enum Gemm {
    public static let mr = 6, nr = 32
    static let kc = 256, mc = 96, nc = 512

    public static func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                             c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool = false, epilogue: Epilogue = .none,
                             threads: Int = 1, transposeB: Bool = false) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            emptyProduct(m: m, n: n, c: c, ldc: ldc, accumulate: accumulate, epilogue: epilogue)
            return
        }
        parallelBlocks(m: m, n: n, k: k, a: .matrix(a, lda: lda), b: transposeB ? .transposed(b, ldb: ldb) : .matrix(b, ldb: ldb),
                       c: c, ldc: ldc, accumulate: accumulate, epilogue: epilogue, threads: threads)
    }

    /// C = A B with B prepacked (a linear layer: A the activations, B the weight).
    public static func sgemm(m: Int, a: UnsafePointer<Float>, lda: Int, packed b: PackedB, c: UnsafeMutablePointer<Float>, ldc: Int,
                             accumulate: Bool = false, epilogue: Epilogue = .none, threads: Int = 1) {
        guard m > 0, b.n > 0 else { return }
        if b.k == 0 { emptyProduct(m: m, n: b.n, c: c, ldc: ldc, accumulate: accumulate, epilogue: epilogue); return }
        if m == 1 { gemv(a: a, packed: b, c: c, accumulate: accumulate, epilogue: epilogue, threads: threads); return }
        parallelBlocks(m: m, n: b.n, k: b.k, a: .matrix(a, lda: lda), b: .prepacked(b.data, columnsPadded: b.columnsPadded),
                       c: c, ldc: ldc, accumulate: accumulate, epilogue: epilogue, threads: threads)
    }

    /// C = A B with A prepacked (a convolution's weights, gMLP's token projection).
    public static func sgemm(packed a: PackedA, n: Int, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                             accumulate: Bool = false, epilogue: Epilogue = .none, threads: Int = 1) {
        guard a.m > 0, n > 0 else { return }
        if a.k == 0 { emptyProduct(m: a.m, n: n, c: c, ldc: ldc, accumulate: accumulate, epilogue: epilogue); return }
        parallelBlocks(m: a.m, n: n, k: a.k, a: .prepacked(a.data, rowsPadded: a.rowsPadded), b: .matrix(b, ldb: ldb),
                       c: c, ldc: ldc, accumulate: accumulate, epilogue: epilogue, threads: threads)
    }

    /// A convolution as one GEMM without an im2col matrix: C [out x oh ow] = W (prepacked) times the
    /// image's patches, which are packed straight from `image` [c, h, w] into B's panels (from its
    /// phase planes with `phases`: `image` is then the planes).
    public static func sgemm(packed a: PackedA, image: UnsafePointer<Float>, geometry g: ConvGeometry, phases: PhasePlanes? = nil,
                             c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: Epilogue = .none, threads: Int = 1) {
        let n = g.outH * g.outW
        guard a.m > 0, n > 0, a.k > 0 else { return }
        parallelBlocks(m: a.m, n: n, k: a.k, a: .prepacked(a.data, rowsPadded: a.rowsPadded), b: .image(g, image, phases),
                       c: c, ldc: ldc, accumulate: false, epilogue: epilogue, threads: threads)
    }

    /// A convolution with the output positions as rows (`SpatialGemm`): Cᵀ [batch oh ow x out] = the
    /// patches, packed from the examples' phase planes `planes`, times the weights packed as B.
    static func sgemm(patches g: ConvGeometry, batch: Int, planes: UnsafePointer<Float>, exampleStride: Int, layout: PhasePlanes,
                      packed b: PackedB, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = 1) {
        let m = batch * g.outH * g.outW
        guard m > 0, b.n > 0, b.k > 0 else { return }
        parallelBlocks(m: m, n: b.n, k: b.k, a: .patches(g, planes, exampleStride: exampleStride, layout),
                       b: .prepacked(b.data, columnsPadded: b.columnsPadded),
                       c: c, ldc: ldc, accumulate: false, epilogue: .none, threads: threads)
    }

    /// K = 0: C is the epilogue of nothing (or of itself, accumulating).
    static func emptyProduct(m: Int, n: Int, c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, epilogue: Epilogue) {
        for i in 0..<m {
            for j in 0..<n { c[i * ldc + j] = (accumulate ? c[i * ldc + j] : 0) + (epilogue.residual?[i * epilogue.ldr + j] ?? 0) }
        }
        applyEpilogue(c: c, ldc: ldc, rows: 0..<m, cols: 0..<n, epilogue)
    }
}

/// A matrix A [m x k] packed once into the micro-kernel's 6-row panels, KC block by KC block
/// (`Gemm.packA` makes the data): constant operands skip the packing on every call.
public struct PackedA {
    public let data: UnsafePointer<Float>
    public let m: Int, k: Int
    public init(_ data: UnsafePointer<Float>, m: Int, k: Int) {
        self.data = data
        self.m = m
        self.k = k
    }
    var rowsPadded: Int { (m + Gemm.mr - 1) / Gemm.mr * Gemm.mr }
}

/// B given as Bᵀ [n x k] (a linear layer's weight [out, in]) packed once into 32-column panels,
/// KC block by KC block (`Gemm.packB` makes the data).
public struct PackedB {
    public let data: UnsafePointer<Float>
    public let n: Int, k: Int
    public init(_ data: UnsafePointer<Float>, n: Int, k: Int) {
        self.data = data
        self.n = n
        self.k = k
    }
    var columnsPadded: Int { (n + Gemm.nr - 1) / Gemm.nr * Gemm.nr }
}

extension Gemm {
    /// Floats of `packA`'s result.
    public static func packedACount(m: Int, k: Int) -> Int { (m + mr - 1) / mr * mr * k }
    /// Floats of `packB`'s result.
    public static func packedBCount(n: Int, k: Int) -> Int { (n + nr - 1) / nr * nr * k }

    /// A [m x k] (row-major, lda) into `out` (`packedACount` floats) as `PackedA` reads it.
    public static func packA(_ a: UnsafePointer<Float>, lda: Int, m: Int, k: Int, into out: UnsafeMutablePointer<Float>) {
        let padded = (m + mr - 1) / mr * mr
        forKBlocks(k) { pc, kcur in Pack.a(a + pc, lda: lda, m: m, k: kcur, into: out + padded * pc) }
    }

    /// Bᵀ [n x k] (row-major, ldb: a linear layer's weight) into `out` (`packedBCount` floats) as `PackedB` reads it.
    public static func packB(transposed bt: UnsafePointer<Float>, ldb: Int, n: Int, k: Int, into out: UnsafeMutablePointer<Float>) {
        let padded = (n + nr - 1) / nr * nr
        forKBlocks(k) { pc, kcur in Pack.bTransposed(bt + pc, ldb: ldb, k: kcur, n: n, into: out + padded * pc) }
    }

    /// B [k x n] (row-major, ldb) into `out` (`packedBCount` floats) as `PackedB` reads it.
    public static func packB(_ b: UnsafePointer<Float>, ldb: Int, k: Int, n: Int, into out: UnsafeMutablePointer<Float>) {
        let padded = (n + nr - 1) / nr * nr
        forKBlocks(k) { pc, kcur in Pack.b(b + pc * ldb, ldb: ldb, k: kcur, n: n, into: out + padded * pc) }
    }

    static func forKBlocks(_ k: Int, _ body: (Int, Int) -> Void) {
        var pc = 0
        while pc < k {
            let kcur = min(kc, k - pc)
            body(pc, kcur)
            pc += kcur
        }
    }
}

import Foundation

/// What happens to C = A x B on its way out: a bias and an activation, applied once, when the
/// last block of K has been accumulated (a fused epilogue: the output is written once).
public struct Epilogue: Sendable {
    public enum Bias: Sendable { case none, perRow, perColumn }
    public enum Activation: Sendable { case none, relu, relu6, gelu }
    public var bias: Bias
    public var activation: Activation
    public init(bias: Bias = .none, activation: Activation = .none) {
        self.bias = bias
        self.activation = activation
    }
    public static let none = Epilogue()
}

/// Single-precision matrix multiply, C[m x n] = A[m x k] * B[k x n] (+ C if `accumulate`), row-major
/// (with `transposeB`, B is given as Bᵀ [n x k], as a linear layer's weight is),
/// with leading dimensions, in the BLIS structure: B is packed in panels of 32 columns and A in
/// panels of 6 rows per KC x NC block, and a 6x32 register-blocked micro-kernel runs on the panels.
/// Columns are split across the cores.
public enum Gemm {
    public static let mr = 6, nr = 32
    static let kc = 256, mc = 96, nc = 2048

    public static func sgemm(m: Int, n: Int, k: Int,
                             a: UnsafePointer<Float>, lda: Int,
                             b: UnsafePointer<Float>, ldb: Int,
                             c: UnsafeMutablePointer<Float>, ldc: Int,
                             accumulate: Bool = false, bias: UnsafePointer<Float>? = nil,
                             epilogue: Epilogue = .none, threads: Int = 0, transposeB: Bool = false) {
        guard m > 0, n > 0 else { return }
        if k == 0 {
            for i in 0..<m { for j in 0..<n { c[i * ldc + j] = accumulate ? c[i * ldc + j] : 0 } }
            applyEpilogue(c: c, ldc: ldc, rows: 0..<m, cols: 0..<n, bias: bias, epilogue: epilogue)
            return
        }
        parallelBlocks(m: m, n: n, k: k, a: .matrix(a, lda: lda), b: transposeB ? .transposed(b, ldb: ldb) : .matrix(b, ldb: ldb),
                       c: c, ldc: ldc, accumulate: accumulate, bias: bias, epilogue: epilogue, threads: threads)
    }

    public static var defaultThreads: Int { min(2, max(1, System.cores)) }

    /// Packs a constant operand once, KC block by KC block: block `pc` of `kcur` columns of K goes to
    /// offset `padded * pc`, where `padded` is its rows (A) or columns (B) rounded up to whole panels.
    static func packByKBlocks(padded: Int, k: Int, _ pack: (Int, Int, UnsafeMutablePointer<Float>) -> Void) -> [Float] {
        var data = [Float](repeating: 0, count: padded * k)
        data.withUnsafeMutableBufferPointer { out in
            var pc = 0
            while pc < k {
                let kcur = min(kc, k - pc)
                pack(pc, kcur, out.baseAddress! + padded * pc)
                pc += kcur
            }
        }
        return data
    }

    /// A matrix A [m x k] packed once into the micro-kernel's 6-row panels, KC block by KC block:
    /// constant operands (convolution weights) skip the packing on every call.
    public struct PackedA: @unchecked Sendable {
        public let m: Int, k: Int
        let rowsPadded: Int
        let storage: [Float]

        public init(_ a: UnsafePointer<Float>, lda: Int, m: Int, k: Int) {
            self.m = m
            self.k = k
            rowsPadded = (m + Gemm.mr - 1) / Gemm.mr * Gemm.mr
            storage = Gemm.packByKBlocks(padded: rowsPadded, k: k) { pc, kcur, out in
                Pack.a(a + pc, lda: lda, m: m, k: kcur, into: out)
            }
        }
    }

    /// B given as Bᵀ [n x k] (a linear layer's weight [out, in]) packed once into 32-column panels,
    /// KC block by KC block: the constant operand of every linear layer.
    public struct PackedB: @unchecked Sendable {
        public let n: Int, k: Int
        let columnsPadded: Int
        let storage: [Float]

        public init(transposed bt: UnsafePointer<Float>, ldb: Int, n: Int, k: Int) {
            self.n = n
            self.k = k
            columnsPadded = (n + Gemm.nr - 1) / Gemm.nr * Gemm.nr
            storage = Gemm.packByKBlocks(padded: columnsPadded, k: k) { pc, kcur, out in
                Pack.bTransposed(bt + pc, ldb: ldb, k: kcur, n: n, into: out)
            }
        }
    }

    /// C = A B with B prepacked (a linear layer: A the activations, B the weight).
    public static func sgemm(m: Int, a: UnsafePointer<Float>, lda: Int, packed b: PackedB, c: UnsafeMutablePointer<Float>, ldc: Int,
                             bias: UnsafePointer<Float>? = nil, epilogue: Epilogue = .none, threads: Int = 0) {
        guard m > 0, b.n > 0, b.k > 0 else { return }
        b.storage.withUnsafeBufferPointer { bp in
            parallelBlocks(m: m, n: b.n, k: b.k, a: .matrix(a, lda: lda), b: .prepacked(bp.baseAddress!, columnsPadded: b.columnsPadded),
                           c: c, ldc: ldc, accumulate: false, bias: bias, epilogue: epilogue, threads: threads)
        }
    }

    /// C = A B with A prepacked.
    public static func sgemm(packed a: PackedA, n: Int, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                             bias: UnsafePointer<Float>? = nil, epilogue: Epilogue = .none, threads: Int = 0) {
        guard a.m > 0, n > 0, a.k > 0 else { return }
        a.storage.withUnsafeBufferPointer { ap in
            parallelBlocks(m: a.m, n: n, k: a.k, a: .prepacked(ap.baseAddress!, rowsPadded: a.rowsPadded), b: .matrix(b, ldb: ldb),
                           c: c, ldc: ldc, accumulate: false, bias: bias, epilogue: epilogue, threads: threads)
        }
    }

    /// A convolution as one GEMM without an im2col matrix: C [out x oh ow] = W (prepacked) times the
    /// image's patches, which are packed straight from `image` [c, h, w] into B's panels.
    public static func sgemm(packed a: PackedA, image: UnsafePointer<Float>, geometry g: ConvGeometry,
                             c: UnsafeMutablePointer<Float>, ldc: Int, bias: UnsafePointer<Float>? = nil, epilogue: Epilogue = .none,
                             threads: Int = 0) {
        let n = g.outH * g.outW
        guard a.m > 0, n > 0, a.k > 0 else { return }
        a.storage.withUnsafeBufferPointer { ap in
            parallelBlocks(m: a.m, n: n, k: a.k, a: .prepacked(ap.baseAddress!, rowsPadded: a.rowsPadded), b: .image(g, image),
                           c: c, ldc: ldc, accumulate: false, bias: bias, epilogue: epilogue, threads: threads)
        }
    }
}

public enum System {
    /// Cores available to this process.
    public static var cores: Int { ProcessInfo.processInfo.activeProcessorCount }
}

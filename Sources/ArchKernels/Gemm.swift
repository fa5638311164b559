import Foundation

/// What happens to C = A x B on its way out: a bias and an activation, applied once, when the
/// last block of K has been accumulated (a fused epilogue: the output is written once).
public struct Epilogue: Sendable {
    public enum Bias: Sendable { case none, perRow, perColumn }
    public enum Activation: Sendable { case none, relu, relu6 }
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
        parallelBlocks(m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: accumulate, bias: bias,
                       epilogue: epilogue, threads: threads, transposeB: transposeB)
    }

    /// Splits the columns into chunks of whole panels, one per worker, and runs `block` on each.
    static func parallelBlocks(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                               c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, bias: UnsafePointer<Float>?,
                               epilogue: Epilogue, threads: Int, transposeB: Bool = false,
                               prepackedRows: Int? = nil, prepackedColumns: Int? = nil) {
        let workers = max(1, min(threads > 0 ? threads : defaultThreads, (n + nr - 1) / nr, m * n * k >= 1 << 15 ? Int.max : 1))
        let panels = (n + nr - 1) / nr
        let perWorker = (panels + workers - 1) / workers
        let aAddr = Int(bitPattern: a), bAddr = Int(bitPattern: b), cAddr = Int(bitPattern: c), biasAddr = bias.map { Int(bitPattern: $0) } ?? 0
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let j0 = w * perWorker * nr, j1 = min(n, (w + 1) * perWorker * nr)
            guard j0 < j1 else { return }
            block(m: m, cols: j0..<j1, k: k,
                  a: UnsafePointer(bitPattern: aAddr)!, lda: lda, b: UnsafePointer(bitPattern: bAddr)!, ldb: ldb,
                  c: UnsafeMutablePointer(bitPattern: cAddr)!, ldc: ldc, accumulate: accumulate,
                  bias: UnsafePointer(bitPattern: biasAddr), epilogue: epilogue, transposeB: transposeB,
                  prepackedRows: prepackedRows, prepackedColumns: prepackedColumns)
        }
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
            parallelBlocks(m: m, n: b.n, k: b.k, a: a, lda: lda, b: bp.baseAddress!, ldb: 0, c: c, ldc: ldc, accumulate: false,
                           bias: bias, epilogue: epilogue, threads: threads, prepackedColumns: b.columnsPadded)
        }
    }

    /// C = A B with A prepacked.
    public static func sgemm(packed a: PackedA, n: Int, b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int,
                             bias: UnsafePointer<Float>? = nil, epilogue: Epilogue = .none, threads: Int = 0) {
        guard a.m > 0, n > 0, a.k > 0 else { return }
        a.storage.withUnsafeBufferPointer { ap in
            parallelBlocks(m: a.m, n: n, k: a.k, a: ap.baseAddress!, lda: 0, b: b, ldb: ldb, c: c, ldc: ldc, accumulate: false,
                           bias: bias, epilogue: epilogue, threads: threads, prepackedRows: a.rowsPadded)
        }
    }

    /// One worker's columns: loops over NC, KC and MC blocks with packing, then the micro-kernel.
    static func block(m: Int, cols: Range<Int>, k: Int,
                      a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                      c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool,
                      bias: UnsafePointer<Float>?, epilogue: Epilogue, transposeB: Bool, prepackedRows: Int? = nil,
                      prepackedColumns: Int? = nil) {
        let packedB = UnsafeMutablePointer<Float>.allocate(capacity: kc * (nc + nr))
        let packedA = UnsafeMutablePointer<Float>.allocate(capacity: (mc + mr) * kc)
        let edge = UnsafeMutablePointer<Float>.allocate(capacity: mr * nr)
        defer { packedB.deallocate(); packedA.deallocate(); edge.deallocate() }
        var jc = cols.lowerBound
        while jc < cols.upperBound {
            let ncur = min(nc, cols.upperBound - jc)
            var pc = 0
            while pc < k {
                let kcur = min(kc, k - pc)
                let add = accumulate || pc > 0
                let last = pc + kcur == k
                // A prepacked B already holds this block's panels.
                let bBlock: UnsafePointer<Float>
                if let columns = prepackedColumns {
                    bBlock = b + columns * pc + jc * kcur
                } else {
                    if transposeB {
                        Pack.bTransposed(b + jc * ldb + pc, ldb: ldb, k: kcur, n: ncur, into: packedB)
                    } else {
                        Pack.b(b + pc * ldb + jc, ldb: ldb, k: kcur, n: ncur, into: packedB)
                    }
                    bBlock = UnsafePointer(packedB)
                }
                var ic = 0
                while ic < m {
                    let mcur = min(mc, m - ic)
                    // A prepacked matrix already holds this block's panels.
                    let aBlock: UnsafePointer<Float>
                    if let rows = prepackedRows {
                        aBlock = a + rows * pc + ic * kcur
                    } else {
                        Pack.a(a + ic * lda + pc, lda: lda, m: mcur, k: kcur, into: packedA)
                        aBlock = UnsafePointer(packedA)
                    }
                    var jr = 0
                    while jr < ncur {
                        let nw = min(nr, ncur - jr)
                        var ir = 0
                        while ir < mcur {
                            let mh = min(mr, mcur - ir)
                            let cp = c + (ic + ir) * ldc + jc + jr
                            let ap = aBlock + ir * kcur, bp = bBlock + jr * kcur
                            if mh == mr && nw == nr {
                                MicroKernel.run(k: kcur, a: ap, b: bp, c: cp, ldc: ldc, accumulate: add)
                            } else {
                                // Edge tile: compute a full tile aside, copy the valid part.
                                for i in 0..<mh { for j in 0..<nw { edge[i * nr + j] = add ? cp[i * ldc + j] : 0 } }
                                MicroKernel.run(k: kcur, a: ap, b: bp, c: edge, ldc: nr, accumulate: true)
                                for i in 0..<mh { for j in 0..<nw { cp[i * ldc + j] = edge[i * nr + j] } }
                            }
                            if last {
                                applyEpilogue(c: c, ldc: ldc, rows: (ic + ir)..<(ic + ir + mh), cols: (jc + jr)..<(jc + jr + nw),
                                              bias: bias, epilogue: epilogue)
                            }
                            ir += mr
                        }
                        jr += nr
                    }
                    ic += mc
                }
                pc += kcur
            }
            jc += ncur
        }
    }

    /// Bias and activation on a tile that is still in cache.
    @inline(__always)
    static func applyEpilogue(c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, cols: Range<Int>,
                              bias: UnsafePointer<Float>?, epilogue: Epilogue) {
        if epilogue.bias == .none && epilogue.activation == .none { return }
        for i in rows {
            let row = c + i * ldc
            let rb: Float = epilogue.bias == .perRow ? bias![i] : 0
            for j in cols {
                var v = row[j] + rb
                if epilogue.bias == .perColumn { v += bias![j] }
                switch epilogue.activation {
                case .none: break
                case .relu: v = max(v, 0)
                case .relu6: v = min(max(v, 0), 6)
                }
                row[j] = v
            }
        }
    }
}

public enum System {
    /// Cores available to this process.
    public static var cores: Int { ProcessInfo.processInfo.activeProcessorCount }
}

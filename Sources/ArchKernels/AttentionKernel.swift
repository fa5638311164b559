import Dispatch

/// Scaled dot-product attention for one head, a block of query rows at a time: only a
/// `rowBlock x m` tile of the score matrix exists at once. Q, K, V and the output are read and
/// written in place with their row strides (a head is a column slice of the [tokens, width] tensors).
public enum AttentionKernel {
    public static let rowBlock = 64

    public static func head(n: Int, m: Int, dh: Int,
                            q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int,
                            v: UnsafePointer<Float>, ldv: Int, out: UnsafeMutablePointer<Float>, ldo: Int,
                            scale: Float, causal: Bool, scores: UnsafeMutablePointer<Float>) {
        var r0 = 0
        while r0 < n {
            let rows = min(rowBlock, n - r0)
            // scores = Q_block K^T: K [m x dh] is read as B^T.
            Gemm.sgemm(m: rows, n: m, k: dh, a: q + r0 * ldq, lda: ldq, b: k, ldb: ldk, c: scores, ldc: m, threads: 1, transposeB: true)
            for i in 0..<rows {
                let row = scores + i * m
                for j in 0..<m { row[j] *= scale }
                if causal { for j in (r0 + i + 1)..<max(r0 + i + 1, m) { row[j] = -.infinity } }
            }
            Elementwise.softmaxRows(scores, rows: rows, width: m)
            Gemm.sgemm(m: rows, n: dh, k: m, a: scores, lda: m, b: v, ldb: ldv, c: out + r0 * ldo, ldc: ldo, threads: 1)
            r0 += rows
        }
    }

    /// All heads of all examples, spread over the cores. q [b, n, heads*dh], k and v [b, m, heads*dh],
    /// each row `ldq` / `ldkv` floats apart (so q, k and v can be column slices of one packed
    /// projection); out [b, n, heads*dh].
    public static func multiHead(batch: Int, heads: Int, n: Int, m: Int, dh: Int,
                                 q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, ldq: Int? = nil, ldkv: Int? = nil,
                                 out: UnsafeMutablePointer<Float>, causal: Bool) {
        let width = heads * dh, lq = ldq ?? width, lkv = ldkv ?? width
        let scale = 1 / Float(dh).squareRoot()
        let addrs = (Int(bitPattern: q), Int(bitPattern: k), Int(bitPattern: v), Int(bitPattern: out))
        let workers = min(Gemm.defaultThreads, batch * heads)
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let scores = UnsafeMutablePointer<Float>.allocate(capacity: rowBlock * m)
            defer { scores.deallocate() }
            let qp = UnsafePointer<Float>(bitPattern: addrs.0)!, kp = UnsafePointer<Float>(bitPattern: addrs.1)!
            let vp = UnsafePointer<Float>(bitPattern: addrs.2)!, op = UnsafeMutablePointer<Float>(bitPattern: addrs.3)!
            var task = w
            while task < batch * heads {
                let b = task / heads, h = task % heads
                head(n: n, m: m, dh: dh, q: qp + b * n * lq + h * dh, ldq: lq, k: kp + b * m * lkv + h * dh, ldk: lkv,
                     v: vp + b * m * lkv + h * dh, ldv: lkv, out: op + b * n * width + h * dh, ldo: width,
                     scale: scale, causal: causal, scores: scores)
                task += workers
            }
        }
    }
}

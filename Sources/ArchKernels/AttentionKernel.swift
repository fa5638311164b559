import Foundation

/// Scaled dot-product attention, softmax(scale q kᵀ + mask) v, one (example, head, block of query
/// rows) at a time with an online softmax over blocks of keys (flash attention's schedule): only a
/// `queryBlock x keyBlock` tile of scores exists at once, and the rows' running maximum and sum
/// rescale the partial output as each block of keys arrives. Q, K, V and the output are read and
/// written in place with their row strides (a head is a column slice of [tokens, width] tensors, so
/// q, k and v may be slices of one packed projection). With a causal mask, key blocks wholly
/// above the diagonal are skipped. Grouped-query attention: query head h reads key/value head
/// h / (heads / kvHeads).
public enum AttentionKernel {
    public static let queryBlock = 64, keyBlock = 128

    public struct Shape: Sendable, Equatable {
        public var batch: Int, heads: Int, kvHeads: Int
        /// Query and key lengths, and the width of a head.
        public var n: Int, m: Int, dh: Int
        public var causal: Bool
        public init(batch: Int, heads: Int, kvHeads: Int, n: Int, m: Int, dh: Int, causal: Bool) {
            self.batch = batch; self.heads = heads; self.kvHeads = kvHeads; self.n = n; self.m = m; self.dh = dh; self.causal = causal
        }
        var scale: Float { 1 / Float(dh).squareRoot() }
        var rowBlocks: Int { (n + AttentionKernel.queryBlock - 1) / AttentionKernel.queryBlock }
        var tasks: Int { batch * heads * rowBlocks }
    }

    /// Floats of scratch per worker: a score tile, the output accumulator and the row statistics.
    static func scratchPerWorker(_ s: Shape) -> Int { queryBlock * keyBlock + queryBlock * s.dh + 2 * queryBlock }

    public static func workers(_ s: Shape, threads: Int) -> Int { max(1, min(threads, s.tasks)) }

    public static func scratchCount(_ s: Shape, threads: Int) -> Int { workers(s, threads: threads) * scratchPerWorker(s) }

    /// q [b, n, heads dh] with rows `ldq` apart; k, v [b, m, kvHeads dh] with rows `ldk`, `ldv` apart;
    /// out [b, n, heads dh] with rows `ldo` apart. Each pointer is at its tensor's first head.
    public static func forward(_ s: Shape, q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int,
                               v: UnsafePointer<Float>, ldv: Int, out: UnsafeMutablePointer<Float>, ldo: Int,
                               scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let workers = workers(s, threads: threads), per = scratchPerWorker(s)
        let group = s.heads / s.kvHeads
        Parallel.forEach(s.tasks, threads: workers) { task, w in
            let tile = scratch + w * per
            do {
                let rb = task % s.rowBlocks, h = (task / s.rowBlocks) % s.heads, b = task / (s.rowBlocks * s.heads)
                let r0 = rb * queryBlock, rows = min(queryBlock, s.n - r0)
                let kvh = h / group
                block(s, rows: r0..<(r0 + rows),
                      q: q + (b * s.n + r0) * ldq + h * s.dh, ldq: ldq,
                      k: k + b * s.m * ldk + kvh * s.dh, ldk: ldk, v: v + b * s.m * ldv + kvh * s.dh, ldv: ldv,
                      out: out + (b * s.n + r0) * ldo + h * s.dh, ldo: ldo, tile: tile)
            }
        }
    }

    /// One head's block of query rows against every key, blocks of keys at a time.
    static func block(_ s: Shape, rows: Range<Int>, q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int,
                      v: UnsafePointer<Float>, ldv: Int, out: UnsafeMutablePointer<Float>, ldo: Int, tile: UnsafeMutablePointer<Float>) {
        let nr = rows.count, dh = s.dh
        let scores = tile, acc = tile + queryBlock * keyBlock
        let rowMax = acc + queryBlock * dh, rowSum = rowMax + queryBlock
        acc.update(repeating: 0, count: nr * dh)
        rowMax.update(repeating: -.infinity, count: nr)
        rowSum.update(repeating: 0, count: nr)
        // With a causal mask, query i (its position in the sequence) sees keys 0...i + (m - n).
        let shift = s.m - s.n
        let keyEnd = s.causal ? min(s.m, rows.upperBound + shift) : s.m
        var c0 = 0
        while c0 < keyEnd {
            let cols = min(keyBlock, keyEnd - c0)
            Gemm.sgemm(m: nr, n: cols, k: dh, a: q, lda: ldq, b: k + c0 * ldk, ldb: ldk, c: scores, ldc: keyBlock, threads: 1, transposeB: true)
            for i in 0..<nr {
                let visible = s.causal ? max(0, min(cols, rows.lowerBound + i + shift + 1 - c0)) : cols
                let correction = update(row: scores + i * keyBlock, count: cols, visible: visible, scale: s.scale,
                                        max: &rowMax[i], sum: &rowSum[i])
                if correction != 1 { let o = acc + i * dh; for j in 0..<dh { o[j] *= correction } }
            }
            // acc += P V (P's masked entries are zero).
            Gemm.sgemm(m: nr, n: dh, k: cols, a: scores, lda: keyBlock, b: v + c0 * ldv, ldb: ldv, c: acc, ldc: dh, accumulate: true, threads: 1)
            c0 += cols
        }
        for i in 0..<nr {
            let inv = rowSum[i] > 0 ? 1 / rowSum[i] : 0
            let o = out + i * ldo, a = acc + i * dh
            for j in 0..<dh { o[j] = a[j] * inv }
        }
    }

    /// The online softmax for one row of a key block: scales the scores, masks those past `visible`,
    /// raises the running maximum, replaces the scores by exp(score - max) and adds them to the sum.
    /// Returns the factor the row's partial output must be multiplied by (exp(old max - new max)).
    @inline(never)
    static func update(row: UnsafeMutablePointer<Float>, count: Int, visible: Int, scale: Float, max m: inout Float, sum: inout Float) -> Float {
        typealias V = SIMD16<Float>
        let raw = UnsafeMutableRawPointer(row)
        let vec = visible / 16 * 16
        var mv = V(repeating: -.infinity)
        var j = 0
        while j < vec {
            let x = raw.loadUnaligned(fromByteOffset: j * 4, as: V.self) * scale
            raw.storeBytes(of: x, toByteOffset: j * 4, as: V.self)
            mv = pointwiseMax(mv, x)
            j += 16
        }
        var blockMax = mv.max()
        while j < visible { row[j] *= scale; blockMax = Swift.max(blockMax, row[j]); j += 1 }
        let newMax = Swift.max(m, blockMax)
        if newMax == -.infinity {
            // Nothing visible yet: the row contributes nothing.
            row.update(repeating: 0, count: count)
            return 1
        }
        let mm = V(repeating: newMax)
        var sv = V()
        j = 0
        while j < vec {
            let e = Elementwise.exp16(raw.loadUnaligned(fromByteOffset: j * 4, as: V.self) - mm)
            raw.storeBytes(of: e, toByteOffset: j * 4, as: V.self)
            sv += e
            j += 16
        }
        var total = sv.sum()
        while j < visible { let e = expf(row[j] - newMax); row[j] = e; total += e; j += 1 }
        if visible < count { (row + visible).update(repeating: 0, count: count - visible) }
        let correction = m == -.infinity ? 0 : expf(m - newMax)
        sum = sum * correction + total
        m = newMax
        return correction
    }
}

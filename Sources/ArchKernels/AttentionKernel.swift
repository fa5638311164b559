import Foundation

/// Scaled dot-product attention, softmax(scale q kᵀ + mask) v, one (example, head) at a time: the
/// head's keys and values are packed for the GEMM once, then each block of query rows takes its
/// scores against them (S = Q Kᵀ), the softmax, and P V, written straight into the output. Keys
/// come in blocks of up to `keyBlock` with an online softmax (flash attention's schedule), so the
/// scores of a row block never exceed `queryBlock x keyBlock`; with a causal mask, the keys past a
/// block's last query are skipped. Q, K, V and the output are read and written in place with their
/// row strides (a head is a column slice of [tokens, width] tensors, so q, k and v may be slices of
/// one packed projection). Grouped-query attention: query head h reads key/value head
/// h / (heads / kvHeads). A key padding mask [batch, m] of 1 and 0 (transformers' attention_mask)
/// gives the keys marked 0 a score of -inf: they take no part in the softmax, and a row whose every
/// key is masked is zeros (as transformers' default attention, SDPA, gives it).
public enum AttentionKernel {
    public static let queryBlock = 64, keyBlock = 1024

    public struct Shape: Sendable, Equatable {
        public var batch: Int, heads: Int, kvHeads: Int
        /// Query and key lengths, and the width of a head.
        public var n: Int, m: Int, dh: Int
        public var causal: Bool
        public init(batch: Int, heads: Int, kvHeads: Int, n: Int, m: Int, dh: Int, causal: Bool) {
            self.batch = batch; self.heads = heads; self.kvHeads = kvHeads; self.n = n; self.m = m; self.dh = dh; self.causal = causal
        }
        var scale: Float { 1 / Float(dh).squareRoot() }
        var keys: Int { min(m, AttentionKernel.keyBlock) }
        /// The distance between rows of scores: the keys rounded up to whole vectors, so the softmax
        /// takes a row's last keys as one vector too.
        var scoreStride: Int { (keys + 15) / 16 * 16 }
        /// Tasks: (example, head) pairs, each split into a few groups of query blocks when there are
        /// fewer pairs than workers to keep busy.
        func groups(threads: Int) -> Int {
            let blocks = (n + AttentionKernel.queryBlock - 1) / AttentionKernel.queryBlock
            return batch * heads >= 2 * threads ? 1 : min(blocks, (2 * threads + batch * heads - 1) / (batch * heads))
        }
    }

    /// Floats of scratch per worker: the packed keys and values of a key block, a score tile, the
    /// output accumulator and the row statistics.
    static func scratchPerWorker(_ s: Shape) -> Int {
        Gemm.packedBCount(n: s.keys, k: s.dh) + Gemm.packedBCount(n: s.dh, k: s.keys) + queryBlock * s.scoreStride + queryBlock * s.dh
            + 2 * queryBlock
    }

    public static func workers(_ s: Shape, threads: Int) -> Int { max(1, min(threads, s.batch * s.heads * s.groups(threads: threads))) }

    public static func scratchCount(_ s: Shape, threads: Int) -> Int { workers(s, threads: threads) * scratchPerWorker(s) }

    /// q [b, n, heads dh] with rows `ldq` apart; k, v [b, m, kvHeads dh] with rows `ldk`, `ldv` apart;
    /// out [b, n, heads dh] with rows `ldo` apart. Each pointer is at its tensor's first head; `mask`,
    /// if any, is [b, m].
    public static func forward(_ s: Shape, q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int,
                               v: UnsafePointer<Float>, ldv: Int, out: UnsafeMutablePointer<Float>, ldo: Int, mask: UnsafePointer<Float>? = nil,
                               scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let workers = workers(s, threads: threads), per = scratchPerWorker(s), groups = s.groups(threads: threads)
        let blocks = (s.n + queryBlock - 1) / queryBlock
        Parallel.forEach(s.batch * s.heads * groups, threads: workers) { task, w in
            let g = task % groups, h = (task / groups) % s.heads, b = task / (groups * s.heads)
            let kvh = h / (s.heads / s.kvHeads)
            let rows = min(s.n, blocks * g / groups * queryBlock)..<min(s.n, blocks * (g + 1) / groups * queryBlock)
            head(s, rows: rows, q: q + b * s.n * ldq + h * s.dh, ldq: ldq, k: k + b * s.m * ldk + kvh * s.dh, ldk: ldk,
                 v: v + b * s.m * ldv + kvh * s.dh, ldv: ldv, out: out + b * s.n * ldo + h * s.dh, ldo: ldo, keep: mask.map { $0 + b * s.m },
                 scratch: scratch + w * per)
        }
    }

    /// One head's query rows `rows`. When the keys a row block sees fit one key block, they are packed
    /// once for all the row blocks, and P V goes straight into the output; longer sequences take the
    /// online softmax over key blocks (`blocked`).
    static func head(_ s: Shape, rows: Range<Int>, q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int,
                     v: UnsafePointer<Float>, ldv: Int, out: UnsafeMutablePointer<Float>, ldo: Int, keep: UnsafePointer<Float>?,
                     scratch: UnsafeMutablePointer<Float>) {
        guard !rows.isEmpty else { return }
        // With a causal mask, query i (its position in the sequence) sees keys 0...i + (m - n).
        let shift = s.m - s.n
        let keyEnd = s.causal ? min(s.m, rows.upperBound + shift) : s.m
        guard keyEnd <= s.keys else {
            blocked(s, rows: rows, q: q, ldq: ldq, k: k, ldk: ldk, v: v, ldv: ldv, out: out, ldo: ldo, keep: keep, scratch: scratch)
            return
        }
        let dh = s.dh, keys = s.keys, ld = s.scoreStride
        let packedK = scratch, packedV = packedK + Gemm.packedBCount(n: keys, k: dh)
        let scores = packedV + Gemm.packedBCount(n: dh, k: keys), rowMax = scores + queryBlock * ld + queryBlock * dh
        let rowSum = rowMax + queryBlock
        Gemm.packB(transposed: k, ldb: ldk, n: keyEnd, k: dh, into: packedK)
        Gemm.packB(v, ldb: ldv, k: keyEnd, n: dh, into: packedV)
        var r0 = rows.lowerBound
        while r0 < rows.upperBound {
            let nr = min(queryBlock, rows.upperBound - r0)
            let seen = s.causal ? max(0, min(keyEnd, r0 + nr + shift)) : keyEnd
            Gemm.sgemm(m: nr, a: q + r0 * ldq, lda: ldq, packed: PackedB(packedK, n: seen, k: dh), c: scores, ldc: ld)
            for i in 0..<nr {
                let visible = s.causal ? max(0, min(seen, r0 + i + shift + 1)) : seen
                (rowMax[i], rowSum[i]) = (-.infinity, 0)
                _ = update(row: scores + i * ld, count: seen, visible: visible, scale: s.scale, keep: keep, max: &rowMax[i], sum: &rowSum[i])
            }
            Gemm.sgemm(m: nr, a: scores, lda: ld, packed: PackedB(packedV, n: dh, k: seen), c: out + r0 * ldo, ldc: ldo)
            normalise(out + r0 * ldo, ld: ldo, rows: nr, dh: dh, sum: rowSum)
            r0 += nr
        }
    }

    /// Rows of P V divided by their softmax sums.
    static func normalise(_ o: UnsafeMutablePointer<Float>, ld: Int, rows: Int, dh: Int, sum: UnsafePointer<Float>) {
        for i in 0..<rows {
            let inv = sum[i] > 0 ? 1 / sum[i] : 0
            let row = o + i * ld
            for j in 0..<dh { row[j] *= inv }
        }
    }

    /// Keys longer than one block: per query block, the key blocks in turn with the online softmax
    /// (each key block packed again for each query block).
    static func blocked(_ s: Shape, rows: Range<Int>, q: UnsafePointer<Float>, ldq: Int, k: UnsafePointer<Float>, ldk: Int,
                        v: UnsafePointer<Float>, ldv: Int, out: UnsafeMutablePointer<Float>, ldo: Int, keep: UnsafePointer<Float>?,
                        scratch: UnsafeMutablePointer<Float>) {
        let dh = s.dh, keys = s.keys, ld = s.scoreStride
        let packedK = scratch, packedV = packedK + Gemm.packedBCount(n: keys, k: dh)
        let scores = packedV + Gemm.packedBCount(n: dh, k: keys), acc = scores + queryBlock * ld
        let rowMax = acc + queryBlock * dh, rowSum = rowMax + queryBlock
        let shift = s.m - s.n
        var r0 = rows.lowerBound
        while r0 < rows.upperBound {
            let nr = min(queryBlock, rows.upperBound - r0)
            rowMax.update(repeating: -.infinity, count: nr)
            rowSum.update(repeating: 0, count: nr)
            let keyEnd = s.causal ? min(s.m, r0 + nr + shift) : s.m
            var c0 = 0
            while c0 < keyEnd {
                let cols = min(keys, keyEnd - c0)
                Gemm.packB(transposed: k + c0 * ldk, ldb: ldk, n: cols, k: dh, into: packedK)
                Gemm.packB(v + c0 * ldv, ldb: ldv, k: cols, n: dh, into: packedV)
                Gemm.sgemm(m: nr, a: q + r0 * ldq, lda: ldq, packed: PackedB(packedK, n: cols, k: dh), c: scores, ldc: ld)
                for i in 0..<nr {
                    let visible = s.causal ? max(0, min(cols, r0 + i + shift + 1 - c0)) : cols
                    let correction = update(row: scores + i * ld, count: cols, visible: visible, scale: s.scale, keep: keep.map { $0 + c0 },
                                            max: &rowMax[i], sum: &rowSum[i])
                    if c0 > 0 && correction != 1 { let oi = acc + i * dh; for j in 0..<dh { oi[j] *= correction } }
                }
                Gemm.sgemm(m: nr, a: scores, lda: ld, packed: PackedB(packedV, n: dh, k: cols), c: acc, ldc: dh, accumulate: c0 > 0)
                c0 += cols
            }
            for i in 0..<nr {
                let inv = rowSum[i] > 0 ? 1 / rowSum[i] : 0
                let o = out + (r0 + i) * ldo, a = acc + i * dh
                for j in 0..<dh { o[j] = a[j] * inv }
            }
            r0 += nr
        }
    }

    /// The online softmax for one row of a key block: scales the scores, masks those past `visible`
    /// and those whose `keep` entry is 0, raises the running maximum, replaces the scores by
    /// exp(score - max) (0 where masked) and adds them to the sum. Returns the factor the row's
    /// partial output must be multiplied by (exp(old max - new max)). The row has room for whole
    /// vectors (`scoreStride`): its last, partial vector is taken whole, its lanes past `visible`
    /// masked.
    @inline(never)
    static func update(row: UnsafeMutablePointer<Float>, count: Int, visible: Int, scale: Float, keep: UnsafePointer<Float>? = nil,
                       max m: inout Float, sum: inout Float) -> Float {
        typealias V = SIMD16<Float>
        let raw = UnsafeMutableRawPointer(row)
        let vectors = (visible + 15) / 16
        // Lanes of the last vector past `visible`, and those `keep` masks.
        var dead = SIMDMask<SIMD16<Int32>>(repeating: false)
        if visible % 16 != 0 {
            dead = SIMD16<Int32>(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15) .>= Int32(visible % 16)
        }
        @inline(always) func masked(_ j: Int) -> SIMDMask<SIMD16<Int32>> {
            var out = j == vectors - 1 ? dead : SIMDMask(repeating: false)
            guard let keep else { return out }
            if j < visible / 16 {
                out = out .| (UnsafeRawPointer(keep).loadUnaligned(fromByteOffset: j * 64, as: V.self) .== 0)
            } else {
                for t in 0..<(visible - j * 16) where keep[j * 16 + t] == 0 { out[t] = true }
            }
            return out
        }
        var mv = V(repeating: -.infinity)
        for j in 0..<vectors {
            var x = raw.loadUnaligned(fromByteOffset: j * 64, as: V.self) * scale
            x.replace(with: -.infinity, where: masked(j))
            raw.storeBytes(of: x, toByteOffset: j * 64, as: V.self)
            mv = mv.atLeast(x)
        }
        let newMax = Swift.max(m, mv.maximumLane())
        if newMax == -.infinity {
            // Nothing visible yet: the row contributes nothing.
            row.update(repeating: 0, count: count)
            return 1
        }
        let mm = V(repeating: newMax)
        var sv = V()
        for j in 0..<vectors {
            var e = Elementwise.exp16(raw.loadUnaligned(fromByteOffset: j * 64, as: V.self) - mm)
            e.replace(with: 0, where: masked(j))
            raw.storeBytes(of: e, toByteOffset: j * 64, as: V.self)
            sv += e
        }
        if visible < count { (row + visible).update(repeating: 0, count: count - visible) }
        let correction = m == -.infinity ? 0 : expf(m - newMax)
        sum = sum * correction + sv.sum()
        m = newMax
        return correction
    }
}

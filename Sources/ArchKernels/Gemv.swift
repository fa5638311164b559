/// One row times prepacked weights, c [n] = a [k] B (a linear layer at batch 1 with one position:
/// the classifier heads of the image networks). The GEMM's 6 x 32 tile spent its work on five
/// empty rows and wrote its tile once a KC block; here each 32-column panel keeps its sums in
/// registers over a KC block (four vectors: even and odd steps, so that no multiply-add waits for
/// the one before), each worker reading its panels of each block in memory order (a run of up to
/// 32 KB a panel, its panels side by side), its sums in a buffer of its own, each column written
/// once. Memory-bound: the weights stream once; the workers take equal ranges of panels.
/// gemm-bench, ResNet-50's head (1 x 1000 x 2048, weights from memory), medians of 3 interleaved
/// runs: 1 thread 0.31-0.34 ms by the GEMM -> 0.21-0.24 (numpy's sgemv 0.25-0.27), 2 threads
/// 0.22-0.33 -> 0.20-0.22 (numpy 0.20-0.21).
extension Gemm {
    static func gemv(a: UnsafePointer<Float>, packed b: PackedB, c: UnsafeMutablePointer<Float>, accumulate: Bool, epilogue: Epilogue,
                     threads: Int) {
        let panels = (b.n + nr - 1) / nr
        // The GEMM's split for one row (by columns), which the schedule's cost model also asks.
        let workers = split(m: 1, n: b.n, k: b.k, threads: threads, bPrepacked: true).workers
        Parallel.forEach(workers, threads: workers) { w, _ in
            let mine = Parallel.share(panels, w, workers)
            guard !mine.isEmpty else { return }
            withUnsafeTemporaryAllocation(of: Float.self, capacity: mine.count * nr) { sums in
                let sums = sums.baseAddress!
                sums.initialize(repeating: 0, count: mine.count * nr)
                // Block by block, this worker's panels of each in memory order.
                var pc = 0
                while pc < b.k {
                    let kcur = min(kc, b.k - pc)
                    for j in mine {
                        gemvPanel(a + pc, b.data + b.columnsPadded * pc + j * nr * kcur, k: kcur, into: sums + (j - mine.lowerBound) * nr)
                    }
                    pc += kcur
                }
                let first = mine.lowerBound * nr, cols = first..<min(b.n, mine.upperBound * nr)
                // (Not `start?[i] ?? 0`: see `TileBlock.run`.)
                if let start = epilogue.residual ?? (accumulate ? UnsafePointer(c) : nil) {
                    for i in cols { c[i] = sums[i - first] + start[i] }
                } else {
                    for i in cols { c[i] = sums[i - first] }
                }
                applyEpilogue(c: c, ldc: b.n, rows: 0..<1, cols: cols, epilogue)
            }
        }
    }

    /// sums [32] += x [k] times one panel's piece [k][32].
    @inline(never)
    static func gemvPanel(_ x: UnsafePointer<Float>, _ panel: UnsafePointer<Float>, k: Int, into sums: UnsafeMutablePointer<Float>) {
        typealias V = SIMD16<Float>
        @inline(always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        var (e0, e1, o0, o1) = (load(sums), load(sums + 16), V(), V())
        var p = panel, step = 0
        while step + 1 < k {
            let (s0, s1) = (V(repeating: x[step]), V(repeating: x[step + 1]))
            e0.addProduct(s0, load(p)); e1.addProduct(s0, load(p + 16))
            o0.addProduct(s1, load(p + nr)); o1.addProduct(s1, load(p + nr + 16))
            p += 2 * nr; step += 2
        }
        if step < k {
            let s = V(repeating: x[step])
            e0.addProduct(s, load(p)); e1.addProduct(s, load(p + 16))
        }
        let out = UnsafeMutableRawPointer(sums)
        out.storeBytes(of: e0 + o0, as: V.self)
        out.storeBytes(of: e1 + o1, toByteOffset: 64, as: V.self)
    }
}

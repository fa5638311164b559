/// Where the GEMM reads A: a row-major matrix, panels packed once, or a convolution's patches
/// with the output positions as rows (`SpatialGemm`), packed from the input's phase planes.
enum AOperand {
    case matrix(UnsafePointer<Float>, lda: Int)
    case prepacked(UnsafePointer<Float>, rowsPadded: Int)
    case patches(ConvGeometry, UnsafePointer<Float>, exampleStride: Int, PhasePlanes)
}

/// Where the GEMM reads B: a row-major matrix, its transpose, panels packed once, or the patches
/// of an image under a convolution (implicit im2col: packed straight into panels).
enum BOperand {
    case matrix(UnsafePointer<Float>, ldb: Int)
    case transposed(UnsafePointer<Float>, ldb: Int)
    case prepacked(UnsafePointer<Float>, columnsPadded: Int)
    case image(ConvGeometry, UnsafePointer<Float>, PhasePlanes?)

    var isPrepacked: Bool { if case .prepacked = self { return true } else { return false } }
}

extension AOperand {
    var isPrepacked: Bool { if case .prepacked = self { return true } else { return false } }
    var isPatches: Bool { if case .patches = self { return true } else { return false } }
}

extension Gemm {
    /// How a GEMM's work is split: into whole column panels wherever they share out evenly enough
    /// (the workers busy at least 3/4 of the time), each worker packing its own B in its own cache;
    /// into rows where there are too few panels (fewer than the workers, or 3 for 2), every row task
    /// then reading one B packed once from the shared cache. Rows cost 10-35% more on 2 threads
    /// where both apply (ResNet's 7x7 and 14x14 maps, `benchmarks/gemm.sh`). With B prepacked (a
    /// linear layer's weight) rows need no packing pass first, and columns must share out at least
    /// 7/8 evenly: Swin's 96-wide layers (3 panels for 2 workers) ran at 3/4 of the two cores. A
    /// linear layer with more rows than columns splits by rows even where its columns share out:
    /// every column task streams all of A, there the larger operand (2 threads, gemm-bench, rows
    /// against columns: ViT's fc2 at batch 8, 1576 x 768 x 3072, 0.81-0.83 of the time; GPT-2's
    /// at batch 8 0.83; Mixer's token fc1 0.78 at batch 1, 0.67 at 8; Swin's stage-3 fc2 at batch 8
    /// 0.68; the layers with fewer rows than columns, 1.0-1.12).
    /// The tasks shrink towards the end (`tasks`, guided) and are taken as workers come free
    /// (`Parallel.forEach`).
    ///
    /// A convolution's patches as A (`SpatialGemm`, B its prepacked weights) split by rows, one
    /// task per worker: each worker packs its own rows' patches block by block in its own cache and
    /// reads all of B, where a split by columns packed all the patches first, into a shared buffer
    /// (7 MB for ResNet's 7x7 maps at batch 8) that every column task read again from L3. ResNet-18's
    /// 3x3 convolutions on 7x7 maps, 512 channels, 2 threads: 40-44 -> 33-36 ms for three at batch 8,
    /// 6.1-6.4 -> 5.0-5.8 at batch 1; more tasks per worker, each reading all of B again, were slower.
    public static func split(m: Int, n: Int, k: Int, threads: Int, bPrepacked: Bool = false, aPatches: Bool = false)
        -> (workers: Int, byRows: Bool, guided: Bool) {
        let panels = (n + nr - 1) / nr
        let wanted = max(1, min(threads, m * n * k >= 1 << 15 ? Int.max : 1))
        let enoughRows = m >= 4 * mr * wanted
        if aPatches && bPrepacked && wanted > 1 && enoughRows { return (wanted, true, false) }
        let rounds = (panels + wanted - 1) / wanted
        let columnsBalanced = bPrepacked ? 8 * panels >= 7 * rounds * wanted : 4 * panels >= 3 * rounds * wanted
        // With B prepacked, each column task reads all of A and each row task all of B: rows where A
        // is the larger (more rows than columns).
        let aLarger = bPrepacked && m > n
        let byRows = wanted > 1 && (!columnsBalanced || aLarger) && enoughRows
        return (byRows ? wanted : min(wanted, panels), byRows, true)
    }

    /// The tasks of a split: ranges of rows (whole panels of 6) or of columns (whole panels of 32).
    /// Guided, each task takes a `2 x workers`-th of the panels still left (at least one), so the
    /// tasks shrink towards the end and a worker that finishes early waits for a small task at
    /// most: on these shared cores one worker is often slowed by another job, and a fixed 4 tasks
    /// per worker left the other waiting for up to a quarter of its share. gemm-bench, 2 threads,
    /// guided against 4 a worker, medians of 3-4 interleaved rounds: 1024³ 0.78, ViT's linear
    /// layers 0.85-0.99 at batch 1 and 0.90-0.97 at batch 8, GPT-2's at batch 8 0.86-0.95,
    /// ResNet-50's 1x1s by the GEMM 0.59-1.0. Otherwise one task a worker, of equal size.
    static func tasks(m: Int, n: Int, workers: Int, byRows: Bool, guided: Bool = true) -> [(rows: Range<Int>, cols: Range<Int>)] {
        let units = byRows ? (m + mr - 1) / mr : (n + nr - 1) / nr, size = byRows ? mr : nr, total = byRows ? m : n
        func task(_ first: Int, _ end: Int) -> (rows: Range<Int>, cols: Range<Int>) {
            let range = min(total, first * size)..<min(total, end * size)
            return byRows ? (range, 0..<n) : (0..<m, range)
        }
        if workers == 1 { return [task(0, units)] }
        if !guided { return (0..<workers).map { t in task(units * t / workers, units * (t + 1) / workers) } }
        var parts: [(rows: Range<Int>, cols: Range<Int>)] = []
        var first = 0
        while first < units {
            let take = (units - first + 2 * workers - 1) / (2 * workers)
            parts.append(task(first, first + take))
            first += take
        }
        return parts
    }

    static func parallelBlocks(m: Int, n: Int, k: Int, a: AOperand, b: BOperand, c: UnsafeMutablePointer<Float>, ldc: Int,
                               accumulate: Bool, epilogue: Epilogue, threads: Int) {
        let (workers, byRows, guided) = split(m: m, n: n, k: k, threads: threads, bPrepacked: b.isPrepacked, aPatches: a.isPatches)
        if byRows && workers > 1 && !b.isPrepacked {
            // Every row task reads all of B: pack it once, the KC blocks across the workers, then share it.
            let padded = (n + nr - 1) / nr * nr
            SharedPanels.shared.with(padded * k) { panels in
                Parallel.forEach((k + kc - 1) / kc, threads: workers) { block, _ in
                    let pc = block * kc, kcur = min(kc, k - pc)
                    _ = packB(b, pc: pc, kcur: kcur, jc: 0, ncur: n, into: panels + padded * pc)
                }
                parallelBlocks(m: m, n: n, k: k, a: a, b: .prepacked(panels, columnsPadded: padded), c: c, ldc: ldc,
                               accumulate: accumulate, epilogue: epilogue, threads: threads)
            }
            return
        }
        if !byRows && workers > 1, !a.isPrepacked {
            // Every column task reads all of A: pack it once, its row panels across the workers, then share it.
            let padded = (m + mr - 1) / mr * mr, panels = padded / mr
            SharedPanels.shared.with(padded * k) { packed in
                Parallel.forEach(panels, threads: workers) { panel, _ in
                    let i = panel * mr, rows = min(mr, m - i)
                    forKBlocks(k) { pc, kcur in _ = packA(a, rows: i..<(i + rows), pc: pc, kcur: kcur, into: packed + padded * pc + i * kcur) }
                }
                parallelBlocks(m: m, n: n, k: k, a: .prepacked(packed, rowsPadded: padded), b: b, c: c, ldc: ldc,
                               accumulate: accumulate, epilogue: epilogue, threads: threads)
            }
            return
        }
        let parts = tasks(m: m, n: n, workers: workers, byRows: byRows, guided: guided)
        Parallel.forEach(parts.count, threads: workers) { t, _ in
            let (rows, cols) = parts[t]
            guard !rows.isEmpty, !cols.isEmpty else { return }
            PackingBuffers.shared.with { packedB, packedA, edge in
                blockLoops(rows: rows, cols: cols, k: k, a: a, b: b, c: c, ldc: ldc, accumulate: accumulate, epilogue: epilogue,
                           packedB: packedB, packedA: packedA, edge: edge)
            }
        }
    }

    /// One worker's part: loops over NC, KC and MC blocks, packing what is not prepacked, then
    /// the micro-kernel on every 6 x 32 tile.
    static func blockLoops(rows: Range<Int>, cols: Range<Int>, k: Int, a: AOperand, b: BOperand, c: UnsafeMutablePointer<Float>, ldc: Int,
                           accumulate: Bool, epilogue: Epilogue,
                           packedB: UnsafeMutablePointer<Float>, packedA: UnsafeMutablePointer<Float>, edge: UnsafeMutablePointer<Float>) {
        var jc = cols.lowerBound
        while jc < cols.upperBound {
            let ncur = min(nc, cols.upperBound - jc)
            var pc = 0
            while pc < k {
                let kcur = min(kc, k - pc)
                let bBlock = packB(b, pc: pc, kcur: kcur, jc: jc, ncur: ncur, into: packedB)
                var ic = rows.lowerBound
                while ic < rows.upperBound {
                    let mcur = min(mc, rows.upperBound - ic)
                    let aBlock = packA(a, rows: ic..<(ic + mcur), pc: pc, kcur: kcur, into: packedA)
                    let block = Block(k: kcur, first: pc == 0, last: pc + kcur == k, accumulate: accumulate)
                    tiles(block, rows: ic..<(ic + mcur), cols: jc..<(jc + ncur), a: aBlock, b: bBlock, c: c, ldc: ldc,
                          epilogue: epilogue, edge: edge)
                    ic += mc
                }
                pc += kcur
            }
            jc += ncur
        }
    }

    /// A's block of rows `rows` and columns pc..<pc+kcur, packed unless it was prepacked.
    @inline(always)
    static func packA(_ a: AOperand, rows: Range<Int>, pc: Int, kcur: Int, into packedA: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        switch a {
        case .prepacked(let p, let rowsPadded): return p + rowsPadded * pc + rows.lowerBound * kcur
        case .matrix(let p, let lda): Pack.a(p + rows.lowerBound * lda + pc, lda: lda, m: rows.count, k: kcur, into: packedA)
        case .patches(let g, let planes, let stride, let layout):
            Pack.aPatches(g, planes, exampleStride: stride, layout, rows: rows, ks: pc..<(pc + kcur), into: packedA)
        }
        return UnsafePointer(packedA)
    }

    /// B's block of rows pc..<pc+kcur and columns jc..<jc+ncur, packed unless it was prepacked.
    @inline(always)
    static func packB(_ b: BOperand, pc: Int, kcur: Int, jc: Int, ncur: Int, into packedB: UnsafeMutablePointer<Float>) -> UnsafePointer<Float> {
        switch b {
        case .prepacked(let p, let columns): return p + columns * pc + jc * kcur
        case .matrix(let p, let ldb): Pack.b(p + pc * ldb + jc, ldb: ldb, k: kcur, n: ncur, into: packedB)
        case .transposed(let p, let ldb): Pack.bTransposed(p + jc * ldb + pc, ldb: ldb, k: kcur, n: ncur, into: packedB)
        case .image(let g, let image, let phases): Pack.bImage(g, image, phases: phases, rows: pc..<(pc + kcur), cols: jc..<(jc + ncur), into: packedB)
        }
        return UnsafePointer(packedB)
    }

    /// One KC block: which it is decides where each tile starts from (zero, C, or the residual)
    /// and whether the epilogue runs.
    struct Block {
        var k: Int, first: Bool, last: Bool, accumulate: Bool
    }

    /// The micro-kernel over the tiles of an MC x NC block, in the order that keeps a panel in L1.
    /// Where B's panel (K x 32) is small enough to share L1 with A's panels streaming past it
    /// (K up to `kBResident`), each B panel stays while the A panels go by; above it, each A panel
    /// (6 x K, a quarter of the size) stays while B's panels come by from L2, where the NC x KC block
    /// (512 KB) fits (BLIS's order, the broadcast operand resident). At 1 thread, fastest of 8
    /// interleaved runs against B resident throughout: GPT-2's 50257-wide head 116 -> 111 ms (median
    /// 131 -> 114), 1024³ 22.9 -> 21.6, ViT's fc1 10.0 -> 9.1. (The bound of 128 is reasoned from
    /// L1's 32 KB, a 16 KB B panel beside A's 3 KB panels, not tuned.)
    static func tiles(_ block: Block, rows: Range<Int>, cols: Range<Int>, a: UnsafePointer<Float>, b: UnsafePointer<Float>,
                      c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: Epilogue, edge: UnsafeMutablePointer<Float>) {
        let tile = TileBlock(block: block, rows: rows, cols: cols, a: a, b: b, c: c, ldc: ldc, epilogue: epilogue, edge: edge)
        if block.k > kBResident {
            for ir in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) {
                for jr in stride(from: cols.lowerBound, to: cols.upperBound, by: nr) { tile.run(ir, jr) }
            }
        } else {
            for jr in stride(from: cols.lowerBound, to: cols.upperBound, by: nr) {
                for ir in stride(from: rows.lowerBound, to: rows.upperBound, by: mr) { tile.run(ir, jr) }
            }
        }
    }

    /// The deepest KC block whose B panel (K x 32 floats) stays in L1 as A's panels stream past.
    static let kBResident = 128

    /// One MC x NC block's operands: `run(ir, jr)` computes the tile at row `ir`, column `jr`.
    struct TileBlock {
        let block: Block, rows: Range<Int>, cols: Range<Int>, a: UnsafePointer<Float>, b: UnsafePointer<Float>
        let c: UnsafeMutablePointer<Float>, ldc: Int, epilogue: Epilogue, edge: UnsafeMutablePointer<Float>

        /// The tile's sums over this KC block, started from zero, C or the residual; the epilogue on
        /// the last block. Edge tiles are computed in a full tile aside and their valid part copied.
        @inline(always)
        func run(_ ir: Int, _ jr: Int) {
            let kcur = block.k, mh = min(mr, rows.upperBound - ir), nw = min(nr, cols.upperBound - jr)
            let cp = c + ir * ldc + jr
            let ap = a + (ir - rows.lowerBound) * kcur, bp = b + (jr - cols.lowerBound) * kcur
            // Where the sums start: the residual on the first block, C when accumulating or past it.
            let source: UnsafePointer<Float>?, lds: Int
            if block.first, let r = epilogue.residual { (source, lds) = (r + ir * epilogue.ldr + jr, epilogue.ldr) }
            else if !block.first || block.accumulate { (source, lds) = (UnsafePointer(cp), ldc) }
            else { (source, lds) = (nil, 0) }
            if nw == nr {
                let inRegisters = block.last ? epilogue.inRegisters(row: ir, column: jr) : nil
                MicroKernel.run(k: kcur, a: ap, b: bp, c: cp, ldc: ldc, source: source, lds: lds, epilogue: inRegisters, rows: mh)
                if block.last && inRegisters == nil { applyEpilogue(c: c, ldc: ldc, rows: ir..<(ir + mh), cols: jr..<(jr + nw), epilogue) }
                return
            }
            // (Not `source?[...] ?? 0`: vectorised, that is a masked load from address 0 when there is no
            // source, which takes a microcode assist on AMD's Zen 4.)
            if let source { for i in 0..<mh { for j in 0..<nw { edge[i * nr + j] = source[i * lds + j] } } }
            if nw <= nr / 2 {
                MicroKernel.runLeftHalf(k: kcur, a: ap, b: bp, c: edge, ldc: nr, source: source == nil ? nil : UnsafePointer(edge), lds: nr)
            } else {
                MicroKernel.run(k: kcur, a: ap, b: bp, c: edge, ldc: nr, source: source == nil ? nil : UnsafePointer(edge), lds: nr)
            }
            for i in 0..<mh { for j in 0..<nw { cp[i * ldc + j] = edge[i * nr + j] } }
            if block.last { applyEpilogue(c: c, ldc: ldc, rows: ir..<(ir + mh), cols: jr..<(jr + nw), epilogue) }
        }
    }

    /// Bias, activation and multiplier on a tile that is still in L1 (the residual is already in),
    /// in one pass, 16 columns at a time, the activation chosen once for the tile (`withLanes`). A
    /// part of a row narrower than 16 goes through a vector on the stack.
    @inline(never)
    static func applyEpilogue(c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, cols: Range<Int>, _ epilogue: Epilogue) {
        if epilogue.isIdentity { return }
        typealias V = SIMD16<Float>
        let width = cols.count, whole = width / 16 * 16
        let columnBias = epilogue.bias == .perColumn ? epilogue.biasValues.map { $0 + cols.lowerBound } : nil
        @inline(always) func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
        epilogue.activation.withLanes { f in
            for i in rows {
                let row = c + i * ldc + cols.lowerBound
                let rowBias = V(repeating: epilogue.bias == .perRow ? epilogue.biasValues.map { $0[i] } ?? 0 : 0)
                let gate = epilogue.multiplier.map { $0 + i * epilogue.ldm + cols.lowerBound }
                @inline(always) func apply(_ x: V, at j: Int) -> V {
                    var x = x + rowBias
                    if let columnBias { x += load(columnBias + j) }
                    x = f(x)
                    if let gate { x *= load(gate + j) }
                    return x
                }
                var j = 0
                while j < whole {
                    UnsafeMutableRawPointer(row + j).storeBytes(of: apply(load(row + j), at: j), as: V.self)
                    j += 16
                }
                if j < width {
                    // The last few columns: padded to a vector on the stack (bias and gate read only where they exist).
                    var x = V(), bias = V(), g = V(repeating: 1)
                    for l in 0..<(width - j) {
                        x[l] = row[j + l]
                        if let columnBias { bias[l] = columnBias[j + l] }
                        if let gate { g[l] = gate[j + l] }
                    }
                    let y = f(x + rowBias + bias) * g
                    for l in 0..<(width - j) { row[j + l] = y[l] }
                }
            }
        }
    }
}

/// 3x3 stride-1 convolution by Winograd's minimal filtering F(4x4, 3x3) (Lavin & Gray 2015, the
/// points 0, ±1, ±2 and ∞): each 4x4 block of outputs from a 6x6 input tile with 36 multiplications
/// instead of 144. As in `Winograd` (F(2x2, 3x3)), tiles and filters are transformed into positions
/// (36 here) and at each position the transformed filters [out x in] (packed once) multiply the
/// transformed tiles [in x tiles] as one GEMM:
///   U = G g Gᵀ,  V = Bᵀ d B,  Y = Aᵀ (U ⊙ V summed over channels) A
///
/// The tiles are taken in blocks that fill one panel of the GEMM (32 columns, "slots"): a block is a
/// few runs of consecutive tiles of a tile row, each run followed by a spare slot. Laid out so, the
/// input under a block is six "stacked rows" in which every slot starts 4 columns after the previous
/// one (a run's last tile reads its last two columns from the spare slot), and the transforms are
/// vectorised across 16 slots with fixed shuffles, with no edge cases; the spare slots' results are
/// computed and dropped. The transformed tiles are written as the GEMM's packed panel, so each of
/// the 36 GEMMs runs the micro-kernel straight on them.
public enum Winograd4 {
    /// Whether the convolution is one this kernel computes: a 3x3 kernel, stride 1, no dilation,
    /// no groups, padding up to 2, and enough tiles for the blocks to fill the GEMM's panels.
    public static func applies(_ g: ConvGeometry) -> Bool {
        g.kernelH == 3 && g.kernelW == 3 && g.strideH == 1 && g.strideW == 1 && g.dilationH == 1 && g.dilationW == 1
            && g.groups == 1 && g.padTop <= 2 && g.padLeft <= 2 && tiles(g) >= minimumTiles && g.inChannels >= 8
    }

    /// A block's 36 GEMMs cost as much for one tile as for 28: below 16 tiles (a 14x14 map; ResNet's 7x7
    /// maps have 4) they cost more than the direct GEMM. Above, the cost model weighs them.
    static let minimumTiles = 16

    static func tilesH(_ g: ConvGeometry) -> Int { (g.outH + 3) / 4 }
    static func tilesW(_ g: ConvGeometry) -> Int { (g.outW + 3) / 4 }
    static func tiles(_ g: ConvGeometry) -> Int { tilesH(g) * tilesW(g) }

    /// Slots of a block: the columns of one GEMM panel.
    static let slots = Gemm.nr
    /// Floats of a stacked row: 4 per slot, and room for the vector loads past the last one.
    static let rowFloats = 4 * slots + 16
    typealias V = SIMD16<Float>

    /// How the tiles are cut into runs (tile rows, or pieces of them) and the runs grouped into blocks.
    struct Plan {
        let tilesW: Int, tilesH: Int
        /// Runs per tile row, slots from one run to the next (its longest run and a spare), runs per block.
        let pieces: Int, runSlots: Int, runsPerBlock: Int
        /// The last `split` blocks (those left over when the blocks are shared evenly between the
        /// workers) are split into `parts` tasks, each a part of the output channels (whole panels of 6)
        /// for the GEMMs and the output transform, each transforming the block's input.
        let split: Int, parts: Int, panels: Int
        var runs: Int { tilesH * pieces }
        var blocks: Int { (runs + runsPerBlock - 1) / runsPerBlock }
        var tasks: Int { blocks - split + split * parts }

        init(_ g: ConvGeometry, threads: Int) {
            tilesW = Winograd4.tilesW(g)
            tilesH = Winograd4.tilesH(g)
            // The cut whose blocks hold the most tiles: tile rows of 14, two runs of 14 a block (28 tiles
            // in 32 slots); of 16, three runs of 8 (24 tiles), where runs of 16 would go one a block.
            var best = (pieces: 1, fill: -1.0)
            for length in stride(from: min(slots - 1, max(1, tilesW)), through: 1, by: -1) {
                let p = max(1, (tilesW + length - 1) / length), longest = (tilesW + p - 1) / p
                let fill = Double(slots / (longest + 1)) * Double(tilesW) / Double(p)
                if fill > best.fill + 1e-9 { best = (p, fill) }
            }
            pieces = max(1, best.pieces)
            runSlots = (tilesW + pieces - 1) / pieces + 1
            // As few blocks as hold the runs (each block's GEMMs cost the same, and read all the filters),
            // the runs shared evenly between them.
            let total = tilesH * pieces, threads = max(1, threads)
            let blocks = (total + slots / runSlots - 1) / (slots / runSlots)
            runsPerBlock = (total + blocks - 1) / blocks
            panels = (g.outChannels + Gemm.mr - 1) / Gemm.mr
            let left = blocks % threads
            parts = left == 0 ? 1 : max(1, min(panels, (threads + left - 1) / left))
            split = parts > 1 ? left : 0
        }

        /// Task t's block and output channels (the whole blocks come first).
        func task(_ t: Int, outputs k: Int) -> (block: Int, outputs: Range<Int>) {
            let whole = blocks - split
            if t < whole { return (t, 0..<k) }
            let share = Parallel.share(panels, (t - whole) % parts, parts)
            return (whole + (t - whole) / parts, min(k, Gemm.mr * share.lowerBound)..<min(k, Gemm.mr * share.upperBound))
        }

        /// Run r: its tile row, first tile, tile count, and slot in its block.
        @inline(always)
        func run(_ r: Int) -> (ty: Int, tx: Int, n: Int, slot: Int) {
            let piece = Parallel.share(tilesW, r % pieces, pieces)
            return (r / pieces, piece.lowerBound, piece.count, (r % runsPerBlock) * runSlots)
        }

        func runs(ofBlock b: Int) -> Range<Int> { (b * runsPerBlock)..<min(runs, (b + 1) * runsPerBlock) }
    }

    /// The tasks the workers take (each a block of tiles, that is 36 GEMMs on one 32-column panel, for
    /// some output channels): `whole` blocks for all the channels (padded to panels of 6), then `split`
    /// blocks in parts of `partRows` channels each; and the workers.
    public static func tasks(_ g: ConvGeometry, threads: Int) -> (whole: Int, rows: Int, split: Int, partRows: [Int], workers: Int) {
        let plan = Plan(g, threads: threads)
        let partRows = (0..<plan.parts).map { Parallel.share(plan.panels, $0, plan.parts).count * Gemm.mr }
        return (plan.blocks - plan.split, plan.panels * Gemm.mr, plan.split, plan.split > 0 ? partRows : [], max(1, min(threads, plan.tasks)))
    }

    static func workers(_ g: ConvGeometry, threads: Int) -> Int { max(1, min(threads, Plan(g, threads: threads).tasks)) }

    /// One worker's scratch: a block's transformed input, per position a packed panel [in][32] (16
    /// floats apart, so the 36 panels a channel is written to do not map to the same cache sets); the
    /// products, per output channel its 36 positions [36][32] together (the output transform reads
    /// them in one stream); the stacked rows (input, Bᵀ d, output) and Aᵀ M.
    struct Scratch {
        let panel: Int, product: Int, count: Int
        init(_ g: ConvGeometry) {
            panel = g.inChannels * slots + 16
            product = 36 * slots
            let rows = (g.outChannels + Gemm.mr - 1) / Gemm.mr * Gemm.mr
            count = 36 * panel + rows * product + 12 * rowFloats + 4 * 4 * slots + 24 * 16
        }
    }

    /// Floats of scratch `forward` needs with `threads` workers.
    static func scratchCount(_ g: ConvGeometry, threads: Int) -> Int { workers(g, threads: threads) * Scratch(g).count }

    /// Floats of the transformed filters.
    static func preparedCount(_ g: ConvGeometry) -> Int { 36 * Gemm.packedACount(m: g.outChannels, k: g.inChannels) }

    /// G, 6x3: row j evaluates the filter at point j (0, 1, -1, 2, -2, then its last tap for ∞), scaled
    /// by 1/4, -1/6, -1/6, 1/24, 1/24 and 1 (the Lagrange denominators, which Bᵀ and Aᵀ leave out).
    static let gMatrix: [[Double]] = [[1.0 / 4, 0, 0], [-1.0 / 6, -1.0 / 6, -1.0 / 6], [-1.0 / 6, 1.0 / 6, -1.0 / 6],
                                      [1.0 / 24, 1.0 / 12, 1.0 / 6], [1.0 / 24, -1.0 / 12, 1.0 / 6], [0, 0, 1]]

    /// The filters [out, in, 3, 3] transformed (U = G g Gᵀ, in double precision) and packed for the
    /// GEMM, one matrix [out x in] per position (row-major over the 6x6 positions).
    static func prepare(_ g: ConvGeometry, weight: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let (k, c) = (g.outChannels, g.inChannels)
        let u = UnsafeMutablePointer<Float>.allocate(capacity: 36 * k * c)
        defer { u.deallocate() }
        let gm = gMatrix
        var gg = [Double](repeating: 0, count: 18)
        for o in 0..<k { for i in 0..<c {
            let w = weight + (o * c + i) * 9
            // G g: 6 rows of 3; then (G g) Gᵀ.
            for r in 0..<6 { for col in 0..<3 {
                gg[r * 3 + col] = gm[r][0] * Double(w[col]) + gm[r][1] * Double(w[3 + col]) + gm[r][2] * Double(w[6 + col])
            } }
            for r in 0..<6 { for col in 0..<6 {
                let value = gg[r * 3] * gm[col][0] + gg[r * 3 + 1] * gm[col][1] + gg[r * 3 + 2] * gm[col][2]
                u[((r * 6 + col) * k + o) * c + i] = Float(value)
            } }
        } }
        let per = Gemm.packedACount(m: k, k: c)
        for xi in 0..<36 { Gemm.packA(u + xi * k * c, lda: c, m: k, k: c, into: out + xi * per) }
    }

    /// One example: output = activation(conv(input) + bias + residual). Each worker takes tasks (a
    /// block of tiles, for all the output channels or a part of them) through the input transform,
    /// the 36 GEMMs (single-threaded, on the packed filters and the transformed tiles as they are) and
    /// the output transform.
    static func forward(_ g: ConvGeometry, input x: UnsafePointer<Float>, prepared: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        residual: UnsafePointer<Float>?, activation: Activation, output y: UnsafeMutablePointer<Float>,
                        scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let (k, c) = (g.outChannels, g.inChannels)
        let plan = Plan(g, threads: threads)
        let perMatrix = Gemm.packedACount(m: k, k: c), rowsPadded = (k + Gemm.mr - 1) / Gemm.mr * Gemm.mr
        let layout = Scratch(g), inPlane = g.inH * g.inW, outPlane = g.outH * g.outW
        Parallel.forEach(plan.tasks, threads: workers(g, threads: threads)) { task, w in
            let (block, outputs) = plan.task(task, outputs: k)
            let v = scratch + w * layout.count
            let m = v + 36 * layout.panel, rows = m + rowsPadded * layout.product
            let outRows = rows + 12 * rowFloats, temp = outRows + 4 * 4 * slots
            let runs = plan.runs(ofBlock: block)
            // Slots no run covers stay zero.
            rows.update(repeating: 0, count: 6 * rowFloats)
            for ch in 0..<c {
                gatherRows(g, x + ch * inPlane, plan, runs, into: rows)
                transformInput(rows, into: v + ch * slots, stride: layout.panel)
            }
            // Position ξ: the filters' rows `outputs` times the panel, in 6 x 32 tiles (the filters' rows
            // are zero-padded to whole panels of 6, and so are the products).
            for xi in 0..<36 {
                let a = prepared + xi * perMatrix, b = v + xi * layout.panel, product = m + xi * slots
                Gemm.forKBlocks(c) { pc, kcur in
                    var i = outputs.lowerBound
                    while i < outputs.upperBound {
                        let tile = product + i * layout.product
                        MicroKernel.run(k: kcur, a: a + rowsPadded * pc + i * kcur, b: b + slots * pc, c: tile, ldc: layout.product,
                                        source: pc == 0 ? nil : UnsafePointer(tile), lds: layout.product)
                        i += Gemm.mr
                    }
                }
            }
            for o in outputs {
                transformOutput(m + o * layout.product, bias: bias?[o] ?? 0, temp: temp, into: outRows)
                for r in runs {
                    let run = plan.run(r)
                    let count = min(4 * run.n, g.outW - 4 * run.tx)
                    for i in 0..<4 where 4 * run.ty + i < g.outH {
                        let offset = o * outPlane + (4 * run.ty + i) * g.outW + 4 * run.tx
                        finish(outRows + i * 4 * slots + 4 * run.slot, residual: residual.map { $0 + offset }, count: count,
                               activation: activation, into: y + offset)
                    }
                }
            }
        }
    }

    /// The six input rows under the block's runs, stacked: run (ty, tx, n) at 4 x its slot, from input
    /// row 4 ty - padTop + i and column 4 tx - padLeft, 4 n + 2 columns and two zeros (zero outside the input).
    static func gatherRows(_ g: ConvGeometry, _ plane: UnsafePointer<Float>, _ plan: Plan, _ runs: Range<Int>, into d: UnsafeMutablePointer<Float>) {
        for r in runs {
            let run = plan.run(r)
            let len = 4 * run.n + 4, xs = 4 * run.tx - g.padLeft
            let lo = min(len, max(0, -xs)), hi = max(lo, min(len - 2, g.inW - xs))
            for i in 0..<6 {
                let row = d + i * rowFloats + 4 * run.slot, y = 4 * run.ty - g.padTop + i
                if y < 0 || y >= g.inH { row.update(repeating: 0, count: len); continue }
                if lo > 0 { row.update(repeating: 0, count: lo) }
                Pack.copy(row + lo, plane + y * g.inW + xs + lo, hi - lo)
                (row + hi).update(repeating: 0, count: len - hi)
            }
        }
    }

    @inline(always) static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(always) static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    /// V = Bᵀ d B for one channel's stacked rows `d` (6 rows of `rowFloats`; Bᵀ d goes to the 6 rows
    /// after them): position ξ of slot j to v[ξ stride + j]. The row stage runs over whole rows; the
    /// column stage takes 16 slots at a time, their six columns deinterleaved from the row by shuffles.
    @inline(never)
    static func transformInput(_ d: UnsafeMutablePointer<Float>, into v: UnsafeMutablePointer<Float>, stride: Int) {
        let r = d + 6 * rowFloats, n = rowFloats
        var x = 0
        while x < n {
            let d0 = load(d + x), d1 = load(d + n + x), d2 = load(d + 2 * n + x)
            let d3 = load(d + 3 * n + x), d4 = load(d + 4 * n + x), d5 = load(d + 5 * n + x)
            store(4 * d0 - 5 * d2 + d4, r + x)
            store(d3 + d4 - 4 * (d1 + d2), r + n + x)
            store(4 * (d1 - d2) - d3 + d4, r + 2 * n + x)
            store(2 * (d3 - d1) - d2 + d4, r + 3 * n + x)
            store(2 * (d1 - d3) - d2 + d4, r + 4 * n + x)
            store(4 * d1 - 5 * d3 + d5, r + 5 * n + x)
            x += 16
        }
        for i in 0..<6 {
            for half in 0..<2 {
                let p = r + i * n + 64 * half
                let a = load(p), b = load(p + 16), c = load(p + 32), e = load(p + 48), f = load(p + 64)
                // Column k of slot j is p[4 j + k]: k = 4, 5 are the next slot's first two.
                let x0 = V(a[0], a[4], a[8], a[12], b[0], b[4], b[8], b[12], c[0], c[4], c[8], c[12], e[0], e[4], e[8], e[12])
                let x1 = V(a[1], a[5], a[9], a[13], b[1], b[5], b[9], b[13], c[1], c[5], c[9], c[13], e[1], e[5], e[9], e[13])
                let x2 = V(a[2], a[6], a[10], a[14], b[2], b[6], b[10], b[14], c[2], c[6], c[10], c[14], e[2], e[6], e[10], e[14])
                let x3 = V(a[3], a[7], a[11], a[15], b[3], b[7], b[11], b[15], c[3], c[7], c[11], c[15], e[3], e[7], e[11], e[15])
                let x4 = V(a[4], a[8], a[12], b[0], b[4], b[8], b[12], c[0], c[4], c[8], c[12], e[0], e[4], e[8], e[12], f[0])
                let x5 = V(a[5], a[9], a[13], b[1], b[5], b[9], b[13], c[1], c[5], c[9], c[13], e[1], e[5], e[9], e[13], f[1])
                let out = v + 6 * i * stride + 16 * half
                store(4 * x0 - 5 * x2 + x4, out)
                store(x3 + x4 - 4 * (x1 + x2), out + stride)
                store(4 * (x1 - x2) - x3 + x4, out + 2 * stride)
                store(2 * (x3 - x1) - x2 + x4, out + 3 * stride)
                store(2 * (x1 - x3) - x2 + x4, out + 4 * stride)
                store(4 * x1 - 5 * x3 + x5, out + 5 * stride)
            }
        }
    }

    /// Y = Aᵀ M A + bias for one output channel (position ξ of slot j at m[32 ξ + j]), as four
    /// stacked output rows (slot j's 4 columns at 4 j); `temp` holds Aᵀ M (24 vectors).
    @inline(never)
    static func transformOutput(_ m: UnsafePointer<Float>, bias: Float, temp: UnsafeMutablePointer<Float>,
                                into out: UnsafeMutablePointer<Float>) {
        let bias = V(repeating: bias), stride = slots
        for half in 0..<2 {
            let p = m + 16 * half
            for col in 0..<6 {
                let m0 = load(p + col * stride), m1 = load(p + (6 + col) * stride), m2 = load(p + (12 + col) * stride)
                let m3 = load(p + (18 + col) * stride), m4 = load(p + (24 + col) * stride), m5 = load(p + (30 + col) * stride)
                let (t1, t2, t3, t4) = (m1 + m2, m1 - m2, m3 + m4, m3 - m4)
                store(m0 + t1 + t3, temp + col * 16)
                store(t2 + 2 * t4, temp + (6 + col) * 16)
                store(t1 + 4 * t3, temp + (12 + col) * 16)
                store(t2 + 8 * t4 + m5, temp + (18 + col) * 16)
            }
            for i in 0..<4 {
                let s = temp + i * 6 * 16
                let s0 = load(s), s1 = load(s + 16), s2 = load(s + 32), s3 = load(s + 48), s4 = load(s + 64), s5 = load(s + 80)
                let (t1, t2, t3, t4) = (s1 + s2, s1 - s2, s3 + s4, s3 - s4)
                let y0 = s0 + t1 + t3 + bias, y1 = t2 + 2 * t4 + bias, y2 = t1 + 4 * t3 + bias, y3 = t2 + 8 * t4 + s5 + bias
                // Slot j's columns y0[j] ... y3[j] at 4 j.
                let row = out + i * 4 * slots + 64 * half
                store(V(y0[0], y1[0], y2[0], y3[0], y0[1], y1[1], y2[1], y3[1], y0[2], y1[2], y2[2], y3[2], y0[3], y1[3], y2[3], y3[3]), row)
                store(V(y0[4], y1[4], y2[4], y3[4], y0[5], y1[5], y2[5], y3[5], y0[6], y1[6], y2[6], y3[6], y0[7], y1[7], y2[7], y3[7]), row + 16)
                store(V(y0[8], y1[8], y2[8], y3[8], y0[9], y1[9], y2[9], y3[9], y0[10], y1[10], y2[10], y3[10], y0[11], y1[11], y2[11], y3[11]),
                      row + 32)
                store(V(y0[12], y1[12], y2[12], y3[12], y0[13], y1[13], y2[13], y3[13], y0[14], y1[14], y2[14], y3[14], y0[15], y1[15], y2[15],
                        y3[15]), row + 48)
            }
        }
    }

    /// One output row segment: the transformed values plus the residual, then the activation (ReLU
    /// in registers; the others over the written segment). The residual may be the output itself
    /// (an in-place residual add): every value is read before it is overwritten, the last vector
    /// (which overlaps the one before it) computed first.
    @inline(never)
    static func finish(_ src: UnsafePointer<Float>, residual: UnsafePointer<Float>?, count: Int, activation: Activation,
                       into dst: UnsafeMutablePointer<Float>) {
        let relu = activation == .relu, zero = V()
        if count >= 16 {
            let last = count - 16
            var tail = load(src + last)
            if let residual { tail += load(residual + last) }
            if relu { tail = pointwiseMax(tail, zero) }
            var i = 0
            while i < last {
                var v = load(src + i)
                if let residual { v += load(residual + i) }
                if relu { v = pointwiseMax(v, zero) }
                store(v, dst + i)
                i += 16
            }
            store(tail, dst + last)
        } else if let residual {
            // (Not `residual?[i] ?? 0`: vectorised, that is a masked load from address 0 when there is no
            // residual, which takes a microcode assist on AMD's Zen 4, 100 times slower than the loop.)
            for i in 0..<count { let v = src[i] + residual[i]; dst[i] = relu ? max(v, 0) : v }
        } else {
            for i in 0..<count { dst[i] = relu ? max(src[i], 0) : src[i] }
        }
        if !relu { activation.apply(dst, count: count) }
    }
}

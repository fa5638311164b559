/// A 1x1 convolution (any stride, no padding) with the output positions as rows and the output
/// channels as columns, for small maps: Cᵀ [positions x out] = X's positions [positions x in] times
/// the weights [in x out], each 7 x 32 tile written out transposed into the [out, oh, ow] output as
/// it leaves the registers, with its bias, residual and activation.
///
/// Why 7 rows: the maps of ImageNet-sized networks are 7 x 2^k wide (7, 14, 28, 56, 112), so their
/// positions fill panels of 7 exactly, where the channel-major GEMM's 32-wide panels hold 49
/// positions in 64 columns (77%) and its 6-row panels (`SpatialGemm`) in 54. The output channels
/// (multiples of 32 in most networks) fill the columns. 14 accumulators, 2 loads of B and 7
/// broadcasts for 14 multiply-adds per step of K (the 6 x 32 kernel: 12 for 8).
///
/// The positions of the whole batch (example after example) are packed once into 7-row panels (for
/// stride 1, 7 consecutive floats of each input channel), shared by the workers, which split the
/// output channels: each reads its part of the weights once, each channel panel (K x 32) staying in
/// L2 while the position panels go by.
public enum PointwiseRows {
    public static let rows = 7, columns = 32
    typealias V = SIMD16<Float>

    public static func applies(_ g: ConvGeometry) -> Bool {
        g.kernelH == 1 && g.kernelW == 1 && g.padTop == 0 && g.padLeft == 0 && g.groups == 1
    }

    static func panels(_ count: Int, of width: Int) -> Int { (count + width - 1) / width }

    /// The weights [out, in] as 32-column panels over the whole of K (panel j: [in][32], zero-padded).
    public static func preparedCount(_ g: ConvGeometry) -> Int { panels(g.outChannels, of: columns) * columns * g.inChannels }

    public static func prepare(_ g: ConvGeometry, weight: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        Pack.panels(weight, ld: g.inChannels, rows: g.outChannels, k: g.inChannels, width: columns, into: out)
    }

    /// The workers a call uses: one per part of the output channels, one for small work.
    public static func workers(_ g: ConvGeometry, batch: Int, threads: Int) -> Int {
        let work = batch.multipliedReportingOverflow(by: g.outputCount).partialValue.multipliedReportingOverflow(by: g.inChannels).partialValue
        return work >= 1 << 15 ? max(1, min(threads, panels(g.outChannels, of: columns))) : 1
    }

    /// The batch's positions packed as 7-row panels.
    public static func scratchCount(_ g: ConvGeometry, batch: Int) -> Int { panels(batch * g.outH * g.outW, of: rows) * rows * g.inChannels }

    /// `batch` examples: output = activation(conv(input) + bias + residual), the residual laid out as
    /// the output (it may be the output).
    static func forward(_ g: ConvGeometry, batch: Int, input: UnsafePointer<Float>, prepared: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        residual: UnsafePointer<Float>?, activation: Activation, output: UnsafeMutablePointer<Float>,
                        scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let positions = batch * g.outH * g.outW, k = g.inChannels
        let rowPanels = panels(positions, of: rows), columnPanels = panels(g.outChannels, of: columns)
        let workers = workers(g, batch: batch, threads: threads)
        Parallel.forEach(rowPanels, threads: min(workers, rowPanels)) { i, _ in
            pack(g, batch: batch, input, panel: i, into: scratch + i * rows * k)
        }
        let tile = Tile(g: g, k: k, positions: positions, panels: UnsafePointer(scratch), prepared: prepared, bias: bias, residual: residual,
                        activation: activation, output: output)
        Parallel.forEach(workers, threads: workers) { w, _ in
            // Each channel panel's weights (K x 32) stay in L2 while every position panel goes by.
            for j in Parallel.share(columnPanels, w, workers) {
                for i in 0..<rowPanels { tile.run(row: i, column: j) }
            }
        }
    }

    /// Where row p of the GEMM (the batch's positions, example after example) is in the input and in the output.
    @inline(__always)
    static func offsets(_ g: ConvGeometry, row p: Int) -> (input: Int, output: Int) {
        let size = g.outH * g.outW, (n, s) = (p / size, p % size)
        return (n * g.inputCount + s / g.outW * g.strideH * g.inW + s % g.outW * g.strideW, n * g.outputCount + s)
    }

    /// Rows 7i..<7i+7 (past the last: zero) as the panel [in][7]: for each input channel, the input
    /// values they read.
    static func pack(_ g: ConvGeometry, batch: Int, _ x: UnsafePointer<Float>, panel i: Int, into d: UnsafeMutablePointer<Float>) {
        let positions = batch * g.outH * g.outW, plane = g.inH * g.inW, first = i * rows, count = min(rows, positions - first)
        withUnsafeTemporaryAllocation(of: Int.self, capacity: rows) { offsets in
            for r in 0..<count { offsets[r] = PointwiseRows.offsets(g, row: first + r).input }
            let contiguous = count == rows && offsets[rows - 1] - offsets[0] == rows - 1
            for c in 0..<g.inChannels {
                let src = x + c * plane, dst = d + c * rows
                if contiguous {
                    let s = src + offsets[0]
                    dst[0] = s[0]; dst[1] = s[1]; dst[2] = s[2]; dst[3] = s[3]; dst[4] = s[4]; dst[5] = s[5]; dst[6] = s[6]
                } else {
                    for r in 0..<count { dst[r] = src[offsets[r]] }
                    for r in count..<rows { dst[r] = 0 }
                }
            }
        }
    }

    /// A call's operands: `run` computes one 7 x 32 tile and writes it out (`positions`: the batch's).
    struct Tile {
        let g: ConvGeometry, k: Int, positions: Int
        let panels: UnsafePointer<Float>, prepared: UnsafePointer<Float>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?
        let activation: Activation, output: UnsafeMutablePointer<Float>

        func run(row i: Int, column j: Int) {
            let p0 = i * rows, c0 = j * columns, plane = g.outH * g.outW
            let height = min(rows, positions - p0), width = min(columns, g.outChannels - c0)
            withUnsafeTemporaryAllocation(of: Float.self, capacity: (rows + 1) * columns) { buffer in
                let t = buffer.baseAddress!, columnBias = t + rows * columns
                // The bias of this panel's channels, zero past the last.
                for c in 0..<columns { columnBias[c] = c < width ? bias?[c0 + c] ?? 0 : 0 }
                // ReLU and ReLU6 clamp in registers unless a residual is still to come.
                let clamp = residual == nil ? activation.clamp : nil
                PointwiseRows.tile(k: k, a: panels + i * rows * k, b: prepared + j * columns * k, bias: columnBias,
                                   low: clamp?.low ?? -.infinity, high: clamp?.high ?? .infinity, into: t)
                if let residual {
                    for r in 0..<height {
                        let at = PointwiseRows.offsets(g, row: p0 + r).output + c0 * plane, row = t + r * columns
                        for c in 0..<width { row[c] += residual[at + c * plane] }
                    }
                }
                if clamp == nil { activation.apply(t, count: rows * columns) }
                // Row r's channels are `plane` apart in the output.
                for r in 0..<height {
                    let at = PointwiseRows.offsets(g, row: p0 + r).output + c0 * plane, row = t + r * columns
                    for c in 0..<width { output[at + c * plane] = row[c] }
                }
            }
        }
    }

    @inline(always)
    static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(always)
    static func store(_ v: V, _ p: UnsafeMutablePointer<Float>) { UnsafeMutableRawPointer(p).storeBytes(of: v, as: V.self) }

    /// t [7 x 32] = clamp(bias + A panel [k][7] x B panel [k][32]): the accumulators in registers
    /// for the whole of K. Never inlined, so that they stay there.
    @inline(never)
    static func tile(k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, bias: UnsafePointer<Float>, low: Float, high: Float,
                     into t: UnsafeMutablePointer<Float>) {
        let (lo, hi) = (load(bias), load(bias + 16))
        var (c00, c01, c10, c11, c20, c21, c30, c31) = (lo, hi, lo, hi, lo, hi, lo, hi)
        var (c40, c41, c50, c51, c60, c61) = (lo, hi, lo, hi, lo, hi)
        var ap = a, bp = b
        for _ in 0..<k {
            let b0 = load(bp), b1 = load(bp + 16)
            // The 6 x 32 kernel's step for the first six rows, then the seventh.
            MicroKernel.step(ap, b0, b1, &c00, &c01, &c10, &c11, &c20, &c21, &c30, &c31, &c40, &c41, &c50, &c51)
            let s = V(repeating: ap[6]); c60.addProduct(s, b0); c61.addProduct(s, b1)
            ap += rows
            bp += columns
        }
        let (l, h) = (V(repeating: low), V(repeating: high))
        store(c00.atLeast(l).atMost(h), t); store(c01.atLeast(l).atMost(h), t + 16)
        store(c10.atLeast(l).atMost(h), t + 32); store(c11.atLeast(l).atMost(h), t + 48)
        store(c20.atLeast(l).atMost(h), t + 64); store(c21.atLeast(l).atMost(h), t + 80)
        store(c30.atLeast(l).atMost(h), t + 96); store(c31.atLeast(l).atMost(h), t + 112)
        store(c40.atLeast(l).atMost(h), t + 128); store(c41.atLeast(l).atMost(h), t + 144)
        store(c50.atLeast(l).atMost(h), t + 160); store(c51.atLeast(l).atMost(h), t + 176)
        store(c60.atLeast(l).atMost(h), t + 192); store(c61.atLeast(l).atMost(h), t + 208)
    }
}

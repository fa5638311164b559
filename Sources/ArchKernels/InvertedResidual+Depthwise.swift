extension InvertedResidual {
    /// A depthwise convolution this kernel computes: 3x3, padding 1 at the top and left, stride 1 or 2.
    public static func computesDepthwise(_ g: ConvGeometry) -> Bool {
        g.isDepthwise && g.kernelH == 3 && g.kernelW == 3 && g.padTop == 1 && g.padLeft == 1
            && g.strideH == g.strideW && g.strideH <= 2 && g.dilationH == 1 && g.dilationW == 1 && g.inH > 1
    }

    /// The whole map of a 3x3 depthwise convolution on its own (`computesDepthwise`) as one band.
    static func depthwiseShape(_ g: ConvGeometry) -> Shape {
        Shape(inChannels: g.inChannels, hidden: g.inChannels, outChannels: g.inChannels, height: g.inH, width: g.inW, stride: g.strideH,
              outHeight: g.outH, outWidth: g.outW, bandRows: g.outH)
    }

    /// A 3x3 depthwise convolution on its own, one example: the whole map as one band of the fused
    /// kernel's depthwise stage, so both run the same code. Channels split across `threads`, each
    /// worker with its padded rows in `scratch` (`depthwiseShape(g).paddedCount` floats a worker).
    static func depthwise(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                          activation: Activation, output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, threads: Int) {
        depthwiseBand(depthwiseShape(g), filter: weight, bias: bias, activation: activation, source: input, channelStride: g.inH * g.inW,
                      firstRow: 0, oy0: 0, rows: g.outH, into: output, padded: scratch, threads: threads)
    }

    /// The 3x3 depthwise convolution (pad 1) of one band: output rows oy0..<oy0+rows of every hidden
    /// channel into `out` [e, rows, ow], from image rows held at `source` (row r of channel c at
    /// source + c * channelStride + (r - firstRow) * width), `filter` [e, 3, 3]. Channels split across
    /// `threads`, each worker with its own padded rows: `s.paddedCount` floats of `padded` a worker,
    /// or allocated per task where `padded` is nil. With `readableAround` (the rows are the fused
    /// block's expanded rows, with memory before and after them that may be read), stride 1 reads
    /// the rows in place (`channelInPlace`) instead of copying them into padded rows.
    static func depthwiseBand(_ s: Shape, filter: UnsafePointer<Float>, bias: UnsafePointer<Float>?, activation: Activation,
                              source: UnsafePointer<Float>, channelStride: Int, firstRow: Int, oy0: Int, rows: Int,
                              into out: UnsafeMutablePointer<Float>, padded: UnsafeMutablePointer<Float>?, threads: Int,
                              readableAround: Bool = false) {
        let chunk = max(1, s.hidden / max(1, 4 * threads))
        let first = max(0, oy0 * s.stride - 1), last = min(s.height, (oy0 + rows - 1) * s.stride + 2)
        let clamp = activation.clamp
        let inPlace = readableAround && s.stride == 1
        Parallel.forEach((s.hidden + chunk - 1) / chunk, threads: threads) { t, worker in
            let count = s.paddedCount
            let pad = padded.map { $0 + worker * count } ?? UnsafeMutablePointer<Float>.allocate(capacity: count)
            defer { if padded == nil { pad.deallocate() } }
            pad.update(repeating: 0, count: inPlace ? s.paddedWidth : count)
            for e in (t * chunk)..<min(s.hidden, (t + 1) * chunk) {
                let plane = source + e * channelStride - firstRow * s.width
                if inPlace {
                    channelInPlace(s, plane: plane, zero: pad, filter: filter + e * 9, bias: bias?[e] ?? 0, clamp: clamp, oy0: oy0,
                                   count: rows, into: out + e * rows * s.outWidth)
                    if clamp == nil { activation.apply(out + e * rows * s.outWidth, count: rows * s.outWidth) }
                    continue
                }
                for y in first..<last { padRow(s, plane + y * s.width, into: pad + (y - first) * s.paddedWidth) }
                channel(s, rows: pad, first: first, zero: pad + s.inputRows * s.paddedWidth, filter: filter + e * 9,
                        bias: bias?[e] ?? 0, clamp: clamp, oy0: oy0, count: rows, into: out + e * rows * s.outWidth)
                if clamp == nil { activation.apply(out + e * rows * s.outWidth, count: rows * s.outWidth) }
            }
        }
    }

    typealias V = SIMD16<Float>

    /// An image row into its padded row. Stride 1: a zero column, the row, zeros. Stride 2: the
    /// padded row's even columns, then from `paddedWidth / 2` its odd ones (the image's odd columns
    /// after one zero, then its even columns), so that each of a 3-wide window's taps reads 16
    /// consecutive floats for 16 outputs (`channel`). Writes only the image's cells: the zeros
    /// around them are the buffer's, written once.
    @inline(never)
    static func padRow(_ s: Shape, _ row: UnsafePointer<Float>, into padded: UnsafeMutablePointer<Float>) {
        guard s.stride == 2 else { (padded + 1).update(from: row, count: s.width); return }
        // Image column x is padded column x + 1. Written as a plain loop, which LLVM vectorises with
        // one vpermt2ps per 16 outputs of each half (SIMD32's evenHalf stayed an out-of-line call).
        let even = padded, odd = padded + s.paddedWidth / 2
        for i in 0..<(s.width / 2) { odd[i] = row[2 * i]; even[i + 1] = row[2 * i + 1] }
        if s.width % 2 == 1 { odd[s.width / 2] = row[s.width - 1] }
    }

    /// One channel's rows of the band: `rows` holds image rows first... as `padRow` lays them out,
    /// `zero` a row of zeros for rows outside the image. Output x of a row reads taps kx = 0, 1, 2
    /// at padded columns x + kx (stride 1) or 2x + kx (stride 2: even column x, odd column x, even
    /// column x + 1), 16 outputs at a time. Each vector takes its 9 taps in registers and is clamped
    /// there (ReLU, ReLU6, `Window`).
    @inline(never)
    static func channel(_ s: Shape, rows: UnsafePointer<Float>, first: Int, zero: UnsafePointer<Float>, filter f: UnsafePointer<Float>,
                        bias: Float, clamp: (low: Float, high: Float)?, oy0: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
        rowLoop(PaddedRows(s, rows: rows, first: first, zero: zero, filter: f, bias: bias, clamp: clamp, oy0: oy0), count: count, into: out)
    }

    /// The loop over a channel's output rows that both layouts of its input run (`PaddedRows`,
    /// `InPlaceRows`): a whole vector of 16 outputs wherever it stays inside the channel's rows (past
    /// the end of a row it writes the start of the next, which is written again after); the
    /// channel's last few outputs stored after the loop, out of line (`ChannelRows.lastOutputs`):
    /// a call in the loop made LLVM keep the filter on the stack.
    @inline(__always)
    static func rowLoop<Rows: ChannelRows>(_ rows: Rows, count: Int, into out: UnsafeMutablePointer<Float>) {
        let width = rows.width
        var tail: (row: Int, x: Int)?
        rowLoop: for r in 0..<count {
            let t = rows.taps(r), dst = out + r * width, left = (count - r) * width
            var x = 0
            while x < width {
                if left - x < 16 { tail = (r, x); break rowLoop }
                UnsafeMutableRawPointer(dst + x).storeBytes(of: rows.outputs(t, x), as: V.self)
                x += 16
            }
        }
        guard var (r, x) = tail else { return }
        while r < count {
            while x < width {
                rows.lastOutputs(row: r, x: x, count: min(16, width - x), into: out + r * width + x)
                x += 16
            }
            (r, x) = (r + 1, 0)
        }
    }

    /// A channel's input rows copied into padded rows (`padRow`), any stride.
    struct PaddedRows: ChannelRows {
        let s: Shape, rows: UnsafePointer<Float>, first: Int, zero: UnsafePointer<Float>, oy0: Int
        let filter: UnsafePointer<Float>, bias: Float, clamp: (low: Float, high: Float)?, window: Window
        var width: Int { s.outWidth }

        @inline(always)
        init(_ s: Shape, rows: UnsafePointer<Float>, first: Int, zero: UnsafePointer<Float>, filter: UnsafePointer<Float>, bias: Float,
             clamp: (low: Float, high: Float)?, oy0: Int) {
            (self.s, self.rows, self.first, self.zero, self.oy0) = (s, rows, first, zero, oy0)
            (self.filter, self.bias, self.clamp) = (filter, bias, clamp)
            window = Window(filter: filter, bias: bias, clamp: clamp)
        }

        /// Row r's three input rows; taps 1 and 2 from tap 0's column.
        @inline(always)
        func taps(_ r: Int) -> Taps {
            let pw = s.paddedWidth
            func row(_ ky: Int) -> UnsafePointer<Float> {
                let iy = (oy0 + r) * s.stride - 1 + ky
                return iy >= 0 && iy < s.height ? rows + (iy - first) * pw : zero
            }
            let (tap1, tap2) = s.stride == 1 ? (1, 2) : (pw / 2, 1)
            return Taps(r0: row(0), r1: row(1), r2: row(2), tap1: tap1, tap2: tap2)
        }

        @inline(always) func outputs(_ t: Taps, _ x: Int) -> V { window.outputs(t, x) }

        @inline(always)
        func lastOutputs(row r: Int, x: Int, count: Int, into dst: UnsafeMutablePointer<Float>) {
            InvertedResidual.lastOutputs(taps(r), x, filter: filter, bias: bias, clamp: clamp, count: count, into: dst)
        }
    }

    /// Where a row of outputs reads its three input rows, and taps 1 and 2 from tap 0's column.
    struct Taps {
        let r0: UnsafePointer<Float>, r1: UnsafePointer<Float>, r2: UnsafePointer<Float>, tap1: Int, tap2: Int
    }

    /// A channel's 3x3 filter, bias and clamp as vectors.
    struct Window {
        let w0: V, w1: V, w2: V, w3: V, w4: V, w5: V, w6: V, w7: V, w8: V, bias: V, low: V, high: V

        @inline(always)
        init(filter f: UnsafePointer<Float>, bias: Float, clamp: (low: Float, high: Float)?) {
            (w0, w1, w2) = (V(repeating: f[0]), V(repeating: f[1]), V(repeating: f[2]))
            (w3, w4, w5) = (V(repeating: f[3]), V(repeating: f[4]), V(repeating: f[5]))
            (w6, w7, w8) = (V(repeating: f[6]), V(repeating: f[7]), V(repeating: f[8]))
            self.bias = V(repeating: bias)
            (low, high) = (V(repeating: clamp?.low ?? -.infinity), V(repeating: clamp?.high ?? .infinity))
        }

        /// Outputs x..<x+16 of a row: 9 taps in registers, clamped there.
        @inline(always)
        func outputs(_ t: Taps, _ x: Int) -> V {
            var acc = bias
            acc.addProduct(w0, load(t.r0 + x)); acc.addProduct(w1, load(t.r0 + x + t.tap1)); acc.addProduct(w2, load(t.r0 + x + t.tap2))
            acc.addProduct(w3, load(t.r1 + x)); acc.addProduct(w4, load(t.r1 + x + t.tap1)); acc.addProduct(w5, load(t.r1 + x + t.tap2))
            acc.addProduct(w6, load(t.r2 + x)); acc.addProduct(w7, load(t.r2 + x + t.tap1)); acc.addProduct(w8, load(t.r2 + x + t.tap2))
            return acc.atLeast(low).atMost(high)
        }
    }

    /// A channel's last `count` (< 16) outputs: the whole vector into a buffer on the stack, then
    /// its first lanes copied. Out of line, so that only pointers and scalars cross into `channel`:
    /// with a partial store in its body (`store(firstLanes:)`'s 8/4/2/1-lane pieces, or this copy),
    /// or a vector passed to one, LLVM split all of `channel`'s vectors into 8- or 4-lane pieces and
    /// its clamp into mask conversions between them; a call inside its loop kept the filter on the
    /// stack. MobileNetV2 at batch 1, perf samples in `channel`: 2200-2650 -> 1220-1310 (+230-260
    /// here), of 9000-12000 (22% of the time before).
    @inline(never)
    static func lastOutputs(_ taps: Taps, _ x: Int, filter: UnsafePointer<Float>, bias: Float, clamp: (low: Float, high: Float)?,
                            count: Int, into dst: UnsafeMutablePointer<Float>) {
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { lanes in
            let v = Window(filter: filter, bias: bias, clamp: clamp).outputs(taps, x)
            UnsafeMutableRawPointer(lanes.baseAddress!).storeBytes(of: v, as: V.self)
            dst.update(from: lanes.baseAddress!, count: count)
        }
    }

    @inline(always) static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
}

/// Where a channel's output rows read their taps and how a vector of 16 outputs is computed there,
/// for `InvertedResidual.rowLoop`: from padded rows (`PaddedRows`) or in place (`InPlaceRows`).
protocol ChannelRows {
    /// Outputs per row.
    var width: Int { get }
    /// The three input rows of output row r.
    func taps(_ r: Int) -> InvertedResidual.Taps
    /// Outputs x..<x+16 of a row whose taps are `t`.
    func outputs(_ t: InvertedResidual.Taps, _ x: Int) -> SIMD16<Float>
    /// Row r's last `count` (< 16) outputs from x: calls an out-of-line routine (a partial store
    /// inlined into the loop splits its vectors).
    func lastOutputs(row r: Int, x: Int, count: Int, into dst: UnsafeMutablePointer<Float>)
}

/// Depthwise convolution (one filter per channel) over phase planes: each channel's zero-padded
/// plane is split into stride x stride phases (phase (ry, rx) holds padded rows ry, ry + stride, ...
/// and likewise columns; one phase for stride 1), each of row width W. Output (oy, ox) under tap
/// (ky, kx) reads phase ((ky d) mod s, (kx d) mod s) at row oy + (ky d) / s, column ox + (kx d) / s,
/// so with the output laid out at width W too every tap is one multiply-add over the whole output
/// (the extra columns are computed and dropped), in cache, with no per-row bookkeeping.
/// Channels are split across the workers; each has its own phase planes in the scratch.
enum Depthwise {
    struct Layout {
        let rows: Int, width: Int, phaseSize: Int, phases: Int, accCount: Int
        init(_ g: ConvGeometry) {
            let planes = PhasePlanes(g)
            (rows, width) = (planes.rows, planes.width)
            phaseSize = rows * width + width  // a spare row: the last taps read past the last row's end
            phases = g.strideH * g.strideW
            accCount = g.outH * width
        }
        var perWorker: Int { phases * phaseSize + accCount }
    }

    static func workers(_ g: ConvGeometry, threads: Int) -> Int {
        g.inChannels * g.outH * g.outW >= 1 << 14 ? max(1, min(g.inChannels, threads)) : 1
    }

    /// A worker's phase planes, or, for a 3x3 the inverted residual's kernel computes (without a
    /// residual: `forward`), its padded rows, whichever is larger.
    static func scratchCount(_ g: ConvGeometry, threads: Int) -> Int {
        let rows = InvertedResidual.computesDepthwise(g) ? InvertedResidual.depthwiseShape(g).paddedCount : 0
        return workers(g, threads: threads) * max(Layout(g).perWorker, rows)
    }

    static func forward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        residual: UnsafePointer<Float>?, activation: Activation, output: UnsafeMutablePointer<Float>,
                        scratch: UnsafeMutablePointer<Float>, threads: Int) {
        if residual == nil && InvertedResidual.computesDepthwise(g) {
            InvertedResidual.depthwise(g, input: input, weight: weight, bias: bias, activation: activation, output: output,
                                       scratch: scratch, threads: workers(g, threads: threads))
            return
        }
        let layout = Layout(g)
        let workers = workers(g, threads: threads)
        // Each worker's phase planes start zero; only the input's cells are ever written, so the
        // padding stays zero for every channel it takes.
        scratch.update(repeating: 0, count: workers * layout.perWorker)
        let chunk = max(1, g.inChannels / (4 * workers))
        Parallel.forEach((g.inChannels + chunk - 1) / chunk, threads: workers) { task, wk in
            let data = scratch + wk * layout.perWorker, acc = data + layout.phases * layout.phaseSize
            for c in (task * chunk)..<min(g.inChannels, (task + 1) * chunk) {
                let plane = c * g.outH * g.outW
                convolve(g, layout, data: data, acc: acc, plane: input + c * g.inH * g.inW, filter: weight + c * g.kernelH * g.kernelW,
                         bias: bias?[c] ?? 0, residual: residual.map { $0 + plane }, activation: activation, out: output + plane)
            }
        }
    }

    static func convolve(_ g: ConvGeometry, _ l: Layout, data: UnsafeMutablePointer<Float>, acc: UnsafeMutablePointer<Float>,
                         plane src: UnsafePointer<Float>, filter: UnsafePointer<Float>, bias: Float, residual: UnsafePointer<Float>?,
                         activation: Activation, out: UnsafeMutablePointer<Float>) {
        let (sh, sw) = (g.strideH, g.strideW)
        for y in 0..<g.inH {
            let py = y + g.padTop
            let (ry, i) = (py % sh, py / sh)
            guard i < l.rows else { break }
            let line = src + y * g.inW
            for rx in 0..<sw {
                let dst = data + (ry * sw + rx) * l.phaseSize + i * l.width
                // Padded columns rx, rx + sw, ... that hold input: x = j sw + rx - padLeft in [0, inW).
                var j = max(0, (g.padLeft - rx + sw - 1) / sw)
                var x = j * sw + rx - g.padLeft
                while x < g.inW && j < l.width { dst[j] = line[x]; j += 1; x += sw }
            }
        }
        let n = l.accCount
        acc.update(repeating: bias, count: n)
        for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
            let (dy, dx) = (ky * g.dilationH, kx * g.dilationW)
            let phase = data + ((dy % sh) * sw + dx % sw) * l.phaseSize
            let p = UnsafePointer(phase + (dy / sh) * l.width + dx / sw)
            let w = filter[ky * g.kernelW + kx]
            for i in 0..<n { acc[i] += w * p[i] }
        } }
        for oy in 0..<g.outH {
            let row = acc + oy * l.width, dst = out + oy * g.outW
            if let residual { let r = residual + oy * g.outW; for x in 0..<g.outW { row[x] += r[x] } }
            activation.apply(row, count: g.outW)
            dst.update(from: row, count: g.outW)
        }
    }
}

/// A convolution with few products per output (K = input channels x kernel taps at most 160: the
/// stems of ResNet, 7x7 over 3 channels, K 147, and of MobileNet, 3x3, K 27), read straight from
/// the input's zero-padded phase planes (`PhasePlanes`): output (oy, ox) under tap (c, ky, kx)
/// reads one plane at oy W + ox plus the tap's offset, so 32 consecutive positions are 32
/// consecutive floats, which the micro-kernel reads in place (`MicroKernel.runTaps`): no patch
/// matrix is packed. Where K is this small the GEMM spent more time packing patches (and in each
/// tile's call for 27 steps) than multiplying.
///
/// The outputs are computed at the planes' row width W, the columns past outW computed and dropped
/// (as in `Depthwise`), 32 positions by 6 output channels at a time, with the bias and a clamp
/// applied in registers: straight into the output where the 32 positions lie in one of its rows,
/// otherwise into a tile in L1 then copied into the output's rows (with the residual, and an
/// activation that is not a clamp). Not for 1x1 convolutions: the GEMM reads their input (or its
/// one phase plane) as it is, with no taps to gather (ResNet's stride-2 shortcuts, K 64 and 128,
/// ran no faster this way).
public enum DirectConv {
    /// The largest K: the micro-kernel's 32 columns of every tap stay in L1 (K x 128 bytes).
    static let maxK = 160

    static func applies(_ g: ConvGeometry) -> Bool {
        g.groups == 1 && g.kernelH * g.kernelW > 1 && g.inChannels * g.kernelH * g.kernelW <= maxK
    }

    /// Where the scratch holds what: the phase planes, a spare run that the last tiles read past
    /// them into, and the bias padded to whole panels of 6 channels.
    public struct Layout {
        public let planes: PhasePlanes, k: Int
        public let planeFloats: Int, positions: Int, channels: Int

        public init(_ g: ConvGeometry) {
            planes = PhasePlanes(g)
            k = g.inChannels * g.kernelH * g.kernelW
            // Reads reach past the planes by at most a row's width (a tap's column offset) and a tile.
            planeFloats = PhasePlanes.count(g) + planes.width + Gemm.nr
            positions = (g.outH * planes.width + Gemm.nr - 1) / Gemm.nr * Gemm.nr
            channels = (g.outChannels + Gemm.mr - 1) / Gemm.mr * Gemm.mr
        }

        var tiles: Int { positions / Gemm.nr }
        var count: Int { planeFloats + channels }
    }

    static func scratchCount(_ g: ConvGeometry) -> Int { Layout(g).count }

    /// The weights [out, K] packed in panels of 6 output channels, as the GEMM packs A.
    static func preparedCount(_ g: ConvGeometry) -> Int { Gemm.packedACount(m: g.outChannels, k: Layout(g).k) }

    static func prepare(_ g: ConvGeometry, weight: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let k = Layout(g).k
        Gemm.packA(weight, lda: k, m: g.outChannels, k: k, into: out)
    }

    static func forward(_ g: ConvGeometry, input: UnsafePointer<Float>, prepared: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        residual: UnsafePointer<Float>?, activation: Activation, output: UnsafeMutablePointer<Float>,
                        scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let l = Layout(g), planesEnd = PhasePlanes.count(g)
        l.planes.fill(g, input: input, into: scratch, threads: threads)
        (scratch + planesEnd).update(repeating: 0, count: l.planeFloats - planesEnd)
        let paddedBias = scratch + l.planeFloats
        for o in 0..<l.channels { paddedBias[o] = o < g.outChannels ? bias?[o] ?? 0 : 0 }
        // A clamp in registers, unless a residual is to be added before it.
        let inRegisters = residual == nil ? activation.clamp : nil
        let clamp = inRegisters ?? (-.infinity, .infinity), after = inRegisters == nil ? activation : .none
        withUnsafeTemporaryAllocation(of: Int.self, capacity: l.k) { taps in
            // Where each column of K (channel, ky, kx) reads, from a position's offset in the planes.
            let kernel = g.kernelH * g.kernelW
            for r in 0..<l.k {
                let t = l.planes.tap(channel: r / kernel, ky: (r / g.kernelW) % g.kernelH, kx: r % g.kernelW, g)
                taps[r] = t.plane + t.dy * l.planes.width + t.dx
            }
            let workers = g.macs >= 1 << 16 ? max(1, min(threads, l.tiles)) : 1
            let chunks = workers == 1 ? 1 : min(l.tiles, 8 * workers)
            Parallel.forEach(chunks, threads: workers) { chunk, _ in
                withUnsafeTemporaryAllocation(of: Float.self, capacity: Gemm.mr * Gemm.nr) { tile in
                    for t in (l.tiles * chunk / chunks)..<(l.tiles * (chunk + 1) / chunks) {
                        positions(g, l, tile: t, taps: UnsafePointer(taps.baseAddress!), planes: UnsafePointer(scratch), prepared: prepared,
                                  bias: paddedBias, clamp: clamp, residual: residual, activation: after, output: output,
                                  buffer: tile.baseAddress!)
                    }
                }
            }
        }
    }

    /// Tile `t`'s 32 positions for every output channel, 6 at a time: in place where the positions
    /// lie in one output row (and no residual is added), through `buffer` otherwise.
    @inline(always)
    static func positions(_ g: ConvGeometry, _ l: Layout, tile t: Int, taps: UnsafePointer<Int>, planes: UnsafePointer<Float>,
                          prepared: UnsafePointer<Float>, bias: UnsafePointer<Float>, clamp: (Float, Float), residual: UnsafePointer<Float>?,
                          activation: Activation, output: UnsafeMutablePointer<Float>, buffer: UnsafeMutablePointer<Float>) {
        let p = t * Gemm.nr, (oy, x) = (p / l.planes.width, p % l.planes.width), plane = g.outH * g.outW
        let inRow = residual == nil && oy < g.outH && x + Gemm.nr <= g.outW
        for o in stride(from: 0, to: g.outChannels, by: Gemm.mr) {
            if inRow && o + Gemm.mr <= g.outChannels {
                let c = output + o * plane + oy * g.outW + x
                MicroKernel.runTaps(k: l.k, a: prepared + o * l.k, taps: taps, b: planes + p, c: c, ldc: plane, bias: bias + o,
                                    low: clamp.0, high: clamp.1)
                if activation != .none { for r in 0..<Gemm.mr { activation.apply(c + r * plane, count: Gemm.nr) } }
            } else {
                MicroKernel.runTaps(k: l.k, a: prepared + o * l.k, taps: taps, b: planes + p, c: buffer, ldc: Gemm.nr, bias: bias + o,
                                    low: clamp.0, high: clamp.1)
                store(g, l, tile: buffer, position: p, channel: o, residual: residual, activation: activation, output: output)
            }
        }
    }

    /// A tile's 32 positions of up to 6 channels into the output's rows: each run of positions in
    /// one row of the planes, less the columns past outW (+ the residual, then the activation).
    @inline(always)
    static func store(_ g: ConvGeometry, _ l: Layout, tile: UnsafePointer<Float>, position p: Int, channel o: Int,
                      residual: UnsafePointer<Float>?, activation: Activation, output: UnsafeMutablePointer<Float>) {
        let width = l.planes.width, plane = g.outH * g.outW
        var q = p
        while q < p + Gemm.nr {
            let (oy, x) = (q / width, q % width)
            guard oy < g.outH else { return }
            let run = min(p + Gemm.nr - q, width - x), valid = max(0, min(run, g.outW - x))
            if valid > 0 {
                for r in 0..<min(Gemm.mr, g.outChannels - o) {
                    let at = (o + r) * plane + oy * g.outW + x, src = tile + r * Gemm.nr + (q - p)
                    // (The residual may be the output itself: each element is read before it is written.)
                    if let residual { for j in 0..<valid { output[at + j] = src[j] + residual[at + j] } }
                    else { Pack.copy(output + at, src, valid) }
                    if activation != .none { activation.apply(output + at, count: valid) }
                }
            }
            q += run
        }
    }
}

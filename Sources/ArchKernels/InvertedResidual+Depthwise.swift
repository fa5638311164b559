extension InvertedResidual {
    /// The 3x3 depthwise convolution (pad 1) of one band: output rows oy0..<oy0+rows of every hidden
    /// channel into `out` [e, rows, ow], from image rows held at `source` (row r of channel c at
    /// source + c * channelStride + (r - firstRow) * width). Channels split across `threads`, each
    /// with its own padded rows (`padded`, or allocated here when the band is split).
    static func depthwiseBand(_ s: Shape, _ w: Weights, source: UnsafePointer<Float>, channelStride: Int, firstRow: Int, oy0: Int, rows: Int,
                              into out: UnsafeMutablePointer<Float>, padded: UnsafeMutablePointer<Float>?, threads: Int) {
        let chunk = max(1, s.hidden / max(1, 4 * threads))
        let first = max(0, oy0 * s.stride - 1), last = min(s.height, (oy0 + rows - 1) * s.stride + 2)
        let clamp = w.depthwiseActivation.clamp
        Parallel.forEach((s.hidden + chunk - 1) / chunk, threads: threads) { t, _ in
            let count = (s.inputRows + 1) * s.paddedWidth
            let pad = padded ?? UnsafeMutablePointer<Float>.allocate(capacity: count)
            defer { if padded == nil { pad.deallocate() } }
            pad.update(repeating: 0, count: count)
            for e in (t * chunk)..<min(s.hidden, (t + 1) * chunk) {
                let plane = source + e * channelStride - firstRow * s.width
                for y in first..<last { (pad + (y - first) * s.paddedWidth + 1).update(from: plane + y * s.width, count: s.width) }
                channel(s, rows: pad, first: first, zero: pad + s.inputRows * s.paddedWidth, filter: w.depthwise + e * 9,
                        bias: w.depthwiseBias?[e] ?? 0, clamp: clamp, oy0: oy0, count: rows, into: out + e * rows * s.outWidth)
                if clamp == nil { w.depthwiseActivation.apply(out + e * rows * s.outWidth, count: rows * s.outWidth) }
            }
        }
    }

    typealias V = SIMD16<Float>

    /// One channel's rows of the band: `rows` holds image rows first... zero-padded (a zero column
    /// before each, zeros after), `zero` a row of zeros for rows outside the image. Each vector of 16
    /// outputs takes its 9 taps in registers, is clamped there (ReLU, ReLU6) and stored once.
    @inline(never)
    static func channel(_ s: Shape, rows: UnsafePointer<Float>, first: Int, zero: UnsafePointer<Float>, filter f: UnsafePointer<Float>,
                        bias: Float, clamp: (low: Float, high: Float)?, oy0: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
        let ow = s.outWidth, pw = s.paddedWidth, stride = s.stride
        let (w0, w1, w2) = (V(repeating: f[0]), V(repeating: f[1]), V(repeating: f[2]))
        let (w3, w4, w5) = (V(repeating: f[3]), V(repeating: f[4]), V(repeating: f[5]))
        let (w6, w7, w8) = (V(repeating: f[6]), V(repeating: f[7]), V(repeating: f[8]))
        let b = V(repeating: bias)
        let (low, high) = (V(repeating: clamp?.low ?? -.infinity), V(repeating: clamp?.high ?? .infinity))
        for r in 0..<count {
            let oy = oy0 + r
            func row(_ ky: Int) -> UnsafePointer<Float> {
                let iy = oy * stride - 1 + ky
                return iy >= 0 && iy < s.height ? rows + (iy - first) * pw : zero
            }
            let (r0, r1, r2) = (row(0), row(1), row(2))
            let dst = out + r * ow
            var x = 0
            while x < ow {
                var acc = b
                if stride == 1 {
                    acc.addProduct(w0, load(r0 + x)); acc.addProduct(w1, load(r0 + x + 1)); acc.addProduct(w2, load(r0 + x + 2))
                    acc.addProduct(w3, load(r1 + x)); acc.addProduct(w4, load(r1 + x + 1)); acc.addProduct(w5, load(r1 + x + 2))
                    acc.addProduct(w6, load(r2 + x)); acc.addProduct(w7, load(r2 + x + 1)); acc.addProduct(w8, load(r2 + x + 2))
                } else {
                    // Padded columns 2x ... 2x + 32: even lanes the left taps, odd lanes the centre ones.
                    let (p0, n0) = (load32(r0 + 2 * x), load32(r0 + 2 * x + 2))
                    let (p1, n1) = (load32(r1 + 2 * x), load32(r1 + 2 * x + 2))
                    let (p2, n2) = (load32(r2 + 2 * x), load32(r2 + 2 * x + 2))
                    acc.addProduct(w0, p0.evenHalf); acc.addProduct(w1, p0.oddHalf); acc.addProduct(w2, n0.evenHalf)
                    acc.addProduct(w3, p1.evenHalf); acc.addProduct(w4, p1.oddHalf); acc.addProduct(w5, n1.evenHalf)
                    acc.addProduct(w6, p2.evenHalf); acc.addProduct(w7, p2.oddHalf); acc.addProduct(w8, n2.evenHalf)
                }
                acc = acc.atLeast(low).atMost(high)
                acc.store(firstLanes: ow - x, to: dst + x)
                x += 16
            }
        }
    }

    @inline(always) static func load(_ p: UnsafePointer<Float>) -> V { UnsafeRawPointer(p).loadUnaligned(as: V.self) }
    @inline(always) static func load32(_ p: UnsafePointer<Float>) -> SIMD32<Float> { UnsafeRawPointer(p).loadUnaligned(as: SIMD32<Float>.self) }
}

/// Swin's (shifted) window attention, as torchvision computes it: the grid [b, h, w, c] padded to
/// whole windows and rolled by -shift is gathered into windows of tokens; each (window, head)
/// attends within its window with the relative position bias and the mask that keeps rolled-around
/// regions apart; the windows are scattered back, rolled by +shift and cropped.
public enum WindowAttention {
    public struct Grid: Sendable, Equatable {
        public var batch: Int, height: Int, width: Int, channels: Int
        public var window: Int, shift: Int, heads: Int
        public init(batch: Int, height: Int, width: Int, channels: Int, window: Int, shift: Int, heads: Int) {
            self.batch = batch; self.height = height; self.width = width; self.channels = channels
            self.window = window; self.shift = shift; self.heads = heads
        }
        var paddedH: Int { (height + window - 1) / window * window }
        var paddedW: Int { (width + window - 1) / window * window }
        /// No shift along an axis the window covers whole.
        var shiftY: Int { window >= paddedH ? 0 : shift }
        var shiftX: Int { window >= paddedW ? 0 : shift }
        var windowsY: Int { paddedH / window }
        var windowsX: Int { paddedW / window }
        public var windows: Int { batch * windowsY * windowsX }
        public var tokens: Int { window * window }
        var headWidth: Int { channels / heads }
    }

    /// The grid [b, h, w, c] into windows of tokens [windows, t, c] (padded with zeros, rolled by -shift).
    public static func partition(_ g: Grid, input x: UnsafePointer<Float>, output: UnsafeMutablePointer<Float>) {
        forEachToken(g) { win, ty, tx, si, sj, bi in
            let dst = output + (win * g.tokens + ty * g.window + tx) * g.channels
            if si < g.height && sj < g.width { dst.update(from: x + ((bi * g.height + si) * g.width + sj) * g.channels, count: g.channels) }
            else { dst.update(repeating: 0, count: g.channels) }
        }
    }

    /// Windows of tokens [windows, t, c] back onto the grid [b, h, w, c] (rolled by +shift, cropped).
    public static func merge(_ g: Grid, input: UnsafePointer<Float>, residual: UnsafePointer<Float>? = nil, output y: UnsafeMutablePointer<Float>) {
        forEachToken(g) { win, ty, tx, si, sj, bi in
            guard si < g.height && sj < g.width else { return }
            let at = ((bi * g.height + si) * g.width + sj) * g.channels, from = input + (win * g.tokens + ty * g.window + tx) * g.channels
            // (The residual may be the output itself: each element is read before it is written.)
            if let residual { for c in 0..<g.channels { y[at + c] = from[c] + residual[at + c] } }
            else { (y + at).update(from: from, count: g.channels) }
        }
    }

    /// Every token of every window with the grid position it comes from in the rolled, padded grid.
    @inline(always)
    static func forEachToken(_ g: Grid, _ body: (_ window: Int, _ ty: Int, _ tx: Int, _ si: Int, _ sj: Int, _ batch: Int) -> Void) {
        let (ph, pw, ws) = (g.paddedH, g.paddedW, g.window)
        for bi in 0..<g.batch { for wy in 0..<g.windowsY { for wx in 0..<g.windowsX {
            let win = (bi * g.windowsY + wy) * g.windowsX + wx
            for ty in 0..<ws { for tx in 0..<ws {
                body(win, ty, tx, (wy * ws + ty + g.shiftY) % ph, (wx * ws + tx + g.shiftX) % pw, bi)
            } }
        } } }
    }

    public static func workers(_ g: Grid, threads: Int) -> Int { max(1, min(threads, g.windows * g.heads)) }
    /// Keys padded to whole tiles of 64: the length of a row of scores, of Kᵀ and of the bias.
    static func paddedTokens(_ g: Grid) -> Int { paddedTokens(window: g.window) }
    static func paddedTokens(window: Int) -> Int { (window * window + 63) / 64 * 64 }
    /// A worker's scratch: the scores [t, padded], the regions [padded], and Kᵀ [dh, padded] for the tiles.
    static func perWorker(_ g: Grid) -> Int {
        let padded = paddedTokens(g)
        return (g.tokens + 1) * padded + (tiled(g) ? g.headWidth * padded : 0)
    }
    public static func scratchCount(_ g: Grid, threads: Int) -> Int { workers(g, threads: threads) * perWorker(g) }

    /// Attention within each window: qkv [windows, t, 3c] (q, k, v side by side), out [windows, t, c];
    /// `bias` [heads, t, padded] (the relative position bias, gathered from its table once: `gatherBias`) or nil.
    public static func attend(_ g: Grid, qkv: UnsafePointer<Float>, bias: UnsafePointer<Float>?, out: UnsafeMutablePointer<Float>,
                              scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let (t, c, dh, padded) = (g.tokens, g.channels, g.headWidth, paddedTokens(g))
        let scale = 1 / Float(dh).squareRoot()
        let workers = workers(g, threads: threads)
        let shifted = g.shiftY + g.shiftX > 0
        let perWorker = perWorker(g)
        // Kᵀ's columns past the keys stay zero: only the keys' columns are written.
        if tiled(g) { for wk in 0..<workers { (scratch + wk * perWorker + (t + 1) * padded).update(repeating: 0, count: dh * padded) } }
        Parallel.forEach(g.windows * g.heads, threads: workers) { task, wk in
            let scores = scratch + wk * perWorker
            let regions = scores + t * padded, kt = regions + padded
            let win = task / g.heads, hd = task % g.heads
            let q = qkv + win * t * 3 * c + hd * dh, o = out + win * t * c + hd * dh
            if tiled(g) {
                tiledScores(g, q: q, kt: kt, scores: scores)
            } else {
                Gemm.sgemm(m: t, n: t, k: dh, a: q, lda: 3 * c, b: q + c, ldb: 3 * c, c: scores, ldc: padded, threads: 1, transposeB: true)
            }
            if shifted { regionIDs(g, window: win, into: regions) }
            for i in 0..<t {
                probabilities(row: scores + i * padded, keys: t, padded: padded, scale: scale, bias: bias.map { $0 + (hd * t + i) * padded },
                              regions: shifted ? UnsafePointer(regions) : nil, query: i)
            }
            if tiled(g) {
                tiledValues(g, probabilities: scores, v: q + 2 * c, out: o)
            } else {
                Gemm.sgemm(m: t, n: dh, k: t, a: scores, lda: padded, b: q + 2 * c, ldb: 3 * c, c: o, ldc: c, threads: 1)
            }
        }
    }

    /// One query's row of scores [padded] (the keys' Q·K, past them anything) into its attention
    /// probabilities: scaled, plus the bias [padded], minus 100 where the key's region differs from
    /// the query's (the shift mask), -infinity past the keys, then softmax; 16 keys at a time.
    @inline(always)
    static func probabilities(row: UnsafeMutablePointer<Float>, keys t: Int, padded: Int, scale: Float, bias: UnsafePointer<Float>?,
                              regions: UnsafePointer<Float>?, query i: Int) {
        let raw = UnsafeMutableRawPointer(row), vectors = padded / 16
        let ri = V(repeating: regions?[i] ?? 0), lane = V(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
        var mv = V(repeating: -.infinity)
        for v in 0..<vectors {
            var x = raw.loadUnaligned(fromByteOffset: 64 * v, as: V.self) * scale
            let valid = t - 16 * v
            if let bias { x += UnsafeRawPointer(bias + 16 * v).loadUnaligned(as: V.self) }
            if let regions { x.replace(with: x - 100, where: UnsafeRawPointer(regions + 16 * v).loadUnaligned(as: V.self) .!= ri) }
            if valid < 16 { x.replace(with: -.infinity, where: lane .>= V(repeating: Float(valid))) }
            raw.storeBytes(of: x, toByteOffset: 64 * v, as: V.self)
            mv = mv.atLeast(x)
        }
        let m = V(repeating: mv.maximumLane())
        var sum = V()
        for v in 0..<vectors {
            let e = Elementwise.exp16(raw.loadUnaligned(fromByteOffset: 64 * v, as: V.self) - m)
            raw.storeBytes(of: e, toByteOffset: 64 * v, as: V.self)
            sum += e
        }
        let inverse = 1 / sum.sum()
        for v in 0..<vectors { raw.storeBytes(of: raw.loadUnaligned(fromByteOffset: 64 * v, as: V.self) * inverse, toByteOffset: 64 * v, as: V.self) }
    }

    /// The region of each position of a window in the rolled grid (torchvision's shift mask: positions
    /// of different regions must not attend to each other), as small whole numbers.
    static func regionIDs(_ g: Grid, window win: Int, into regions: UnsafeMutablePointer<Float>) {
        let ws = g.window
        let wy = (win / g.windowsX) % g.windowsY, wx = win % g.windowsX
        func region(_ v: Int, _ size: Int, _ shift: Int) -> Int { v < size - ws ? 0 : (v < size - shift ? 1 : 2) }
        for i in 0..<g.tokens {
            regions[i] = Float(region(wy * ws + i / ws, g.paddedH, g.shiftY) * 3 + region(wx * ws + i % ws, g.paddedW, g.shiftX))
        }
    }

    /// The row of the relative position bias table for positions i and j of a window (torchvision's
    /// relative_position_index): (dy + w - 1)(2w - 1) + (dx + w - 1).
    @inline(always)
    public static func relativeIndex(_ i: Int, _ j: Int, window ws: Int) -> Int {
        (i / ws - j / ws + ws - 1) * (2 * ws - 1) + (i % ws - j % ws + ws - 1)
    }

    /// Floats of `gatherBias`'s result.
    public static func biasCount(window: Int, heads: Int) -> Int { heads * window * window * paddedTokens(window: window) }

    /// The relative position bias of every head for every pair of positions in a window,
    /// [heads, t, padded] (zero past the keys, so a row of scores takes it 16 keys at a time),
    /// from the table [(2w - 1)^2, heads].
    public static func gatherBias(table: UnsafePointer<Float>, window ws: Int, heads: Int, into bias: UnsafeMutablePointer<Float>) {
        let t = ws * ws, padded = paddedTokens(window: ws)
        bias.update(repeating: 0, count: biasCount(window: ws, heads: heads))
        for i in 0..<t { for j in 0..<t {
            let index = relativeIndex(i, j, window: ws)
            for hd in 0..<heads { bias[(hd * t + i) * padded + j] = table[index * heads + hd] }
        } }
    }
}

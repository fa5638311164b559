import Dispatch

/// 3x3 stride-1 convolution by Winograd's minimal filtering F(2x2, 3x3) (Lavin & Gray 2015): each
/// 2x2 block of outputs from a 4x4 input tile with 16 multiplications instead of 36. The input
/// tiles and the filters are transformed into 16 "positions"; at each position the transformed
/// filters [out x in] multiply the transformed tiles [in x tiles] as one GEMM (the filters packed
/// once); the output transform adds the bias and the activation as it writes.
///   U = G g Gᵀ,  V = Bᵀ d B,  Y = Aᵀ (U ⊙ V summed over channels) A
public enum Winograd {
    /// Whether the convolution is one this kernel computes faster than the direct GEMM: a 3x3 kernel,
    /// stride 1, no dilation, no groups, and enough tiles for the GEMMs to fill their panels.
    public static func applies(_ g: ConvGeometry) -> Bool {
        g.kernelH == 3 && g.kernelW == 3 && g.strideH == 1 && g.strideW == 1 && g.dilationH == 1 && g.dilationW == 1
            && g.groups == 1 && g.padTop <= 2 && g.padLeft <= 2 && tiles(g) >= 48 && g.inChannels >= 8
    }

    static func tilesH(_ g: ConvGeometry) -> Int { (g.outH + 1) / 2 }
    static func tilesW(_ g: ConvGeometry) -> Int { (g.outW + 1) / 2 }
    static func tiles(_ g: ConvGeometry) -> Int { tilesH(g) * tilesW(g) }

    /// Tiles per block: each worker takes blocks of tiles through all three stages while they are in cache.
    static let blockTiles = 64

    public static func workers(_ g: ConvGeometry, threads: Int) -> (workers: Int, perBlock: Int, blocks: Int) {
        let t = tiles(g), threads = max(1, threads)
        // Blocks of up to 64 tiles, but at least two per worker.
        let per = min(blockTiles, max(16, (t + 2 * threads - 1) / (2 * threads)))
        let blocks = (t + per - 1) / per
        return (min(threads, blocks), per, blocks)
    }

    /// Floats of scratch `forward` needs: per worker, one block's transformed input and products.
    static func scratchCount(_ g: ConvGeometry, threads: Int) -> Int {
        workers(g, threads: threads).workers * 16 * blockTiles * (g.inChannels + g.outChannels)
    }

    /// Floats of the transformed filters.
    static func preparedCount(_ g: ConvGeometry) -> Int { 16 * Gemm.packedACount(m: g.outChannels, k: g.inChannels) }

    /// The filters [out, in, 3, 3] transformed (U = G g Gᵀ) and packed for the GEMM, one matrix
    /// [out x in] per position.
    static func prepare(_ g: ConvGeometry, weight: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let (k, c) = (g.outChannels, g.inChannels)
        let u = UnsafeMutablePointer<Float>.allocate(capacity: 16 * k * c)
        defer { u.deallocate() }
        for o in 0..<k { for i in 0..<c {
            let w = weight + (o * c + i) * 9
            // G g: 4 rows of 3 (g's rows as lanes), then each row times Gᵀ.
            let (g0, g1, g2) = (SIMD4(w[0], w[1], w[2], 0), SIMD4(w[3], w[4], w[5], 0), SIMD4(w[6], w[7], w[8], 0))
            func store(_ r: Int, _ t: SIMD4<Float>) {
                let row = SIMD4(t[0], (t[0] + t[1] + t[2]) / 2, (t[0] - t[1] + t[2]) / 2, t[2])
                for col in 0..<4 { u[((r * 4 + col) * k + o) * c + i] = row[col] }
            }
            store(0, g0); store(1, (g0 + g1 + g2) / 2); store(2, (g0 - g1 + g2) / 2); store(3, g2)
        } }
        let per = Gemm.packedACount(m: k, k: c)
        for xi in 0..<16 { Gemm.packA(u + xi * k * c, lda: c, m: k, k: c, into: out + xi * per) }
    }

    /// One example: output = activation(conv(input) + bias + residual). The tiles are split into
    /// blocks; each worker takes its blocks through the input transform, the 16 GEMMs
    /// (single-threaded, B packed from the block) and the output transform.
    static func forward(_ g: ConvGeometry, input x: UnsafePointer<Float>, prepared: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                        residual: UnsafePointer<Float>?, activation: Activation, output y: UnsafeMutablePointer<Float>,
                        scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let (k, c, t) = (g.outChannels, g.inChannels, tiles(g))
        let (workers, per, blocks) = workers(g, threads: threads)
        let perWorker = 16 * blockTiles * (c + k), perMatrix = Gemm.packedACount(m: k, k: c)
        Parallel.forEach(blocks, threads: workers) { block, w in
            let v = scratch + w * perWorker
            let m = v + 16 * blockTiles * c
            do {
                let tiles = (block * per)..<min(t, (block + 1) * per)
                let nb = tiles.count
                for ch in 0..<c {
                    transformInput(g, x + ch * g.inH * g.inW, tiles: tiles, into: v + ch * nb, stride: c * nb)
                }
                for xi in 0..<16 {
                    Gemm.sgemm(packed: PackedA(prepared + xi * perMatrix, m: k, k: c), n: nb, b: v + xi * c * nb, ldb: nb,
                               c: m + xi * k * nb, ldc: nb, threads: 1)
                }
                let plane = g.outH * g.outW
                for o in 0..<k {
                    transformOutput(g, m + o * nb, tiles: tiles, stride: k * nb, bias: bias?[o] ?? 0, residual: residual.map { $0 + o * plane },
                                    activation: activation, into: y + o * plane)
                }
            }
        }
    }

    /// V = Bᵀ d B for tiles `tiles` of one channel's plane (zero outside the input); position ξ of
    /// the block's j-th tile goes to v[ξ * stride + j]. Tiles of one tile row are done together: the
    /// row stage (Bᵀ d) runs over whole input rows, the column stage over the tiles.
    static func transformInput(_ g: ConvGeometry, _ plane: UnsafePointer<Float>, tiles: Range<Int>, into v: UnsafeMutablePointer<Float>, stride: Int) {
        let tw = tilesW(g)
        let width = 2 * tw + 2
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 8 * width) { buf in
            let d = buf.baseAddress!, r = d + 4 * width
            var tile = tiles.lowerBound
            while tile < tiles.upperBound {
                let ty = tile / tw, tx0 = tile % tw
                let n = min(tw - tx0, tiles.upperBound - tile)
                let len = 2 * n + 2, xs = 2 * tx0 - g.padLeft
                // The four input rows under this run of tiles, zero outside the input.
                for i in 0..<4 {
                    let y = 2 * ty - g.padTop + i, row = d + i * width
                    if y < 0 || y >= g.inH { row.update(repeating: 0, count: len); continue }
                    let src = plane + y * g.inW
                    let lo = min(len, max(0, -xs)), hi = max(lo, min(len, g.inW - xs))
                    if lo > 0 { row.update(repeating: 0, count: lo) }
                    Pack.copy(row + lo, src + xs + lo, hi - lo)
                    if len > hi { (row + hi).update(repeating: 0, count: len - hi) }
                }
                // Bᵀ d over whole rows.
                let (d0, d1, d2, d3) = (d, d + width, d + 2 * width, d + 3 * width)
                let (r0, r1, r2, r3) = (r, r + width, r + 2 * width, r + 3 * width)  // (Bᵀ d) rows
                for x in 0..<len {
                    r0[x] = d0[x] - d2[x]; r1[x] = d1[x] + d2[x]; r2[x] = d2[x] - d1[x]; r3[x] = d1[x] - d3[x]
                }
                // (Bᵀ d) B per tile: columns 2t ... 2t + 3 of each row combination.
                let j0 = tile - tiles.lowerBound
                for ri in 0..<4 {
                    let row = r + ri * width, out = v + ri * 4 * stride + j0
                    for t in 0..<n {
                        let c = row + 2 * t
                        out[t] = c[0] - c[2]
                        out[stride + t] = c[1] + c[2]
                        out[2 * stride + t] = c[2] - c[1]
                        out[3 * stride + t] = c[1] - c[3]
                    }
                }
                tile += n
            }
        }
    }

    /// Y = Aᵀ m A for tiles `tiles` of one output channel (position ξ of the block's j-th tile at
    /// m[ξ * stride + j]), plus the bias and the activation; a run of tiles in one tile row at a time,
    /// vectorised across the run. The bottom and right edges are cropped when the output size is odd.
    static func transformOutput(_ g: ConvGeometry, _ m: UnsafeMutablePointer<Float>, tiles: Range<Int>, stride: Int, bias: Float,
                                residual: UnsafePointer<Float>?, activation: Activation, into out: UnsafeMutablePointer<Float>) {
        let tw = tilesW(g)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 4 * tw) { buf in
            let y = buf.baseAddress!
            var tile = tiles.lowerBound
            while tile < tiles.upperBound {
                let ty = tile / tw, tx0 = tile % tw
                let n = min(tw - tx0, tiles.upperBound - tile)
                let p = m + (tile - tiles.lowerBound)
                func at(_ r: Int, _ c: Int) -> UnsafeMutablePointer<Float> { p + (r * 4 + c) * stride }
                let (y00, y01, y10, y11) = (y, y + tw, y + 2 * tw, y + 3 * tw)
                for c in 0..<4 {
                    // Aᵀ m: the two row combinations of column c, for every tile of the run, over m's first two rows.
                    let (a, b, cc, d) = (at(0, c), at(1, c), at(2, c), at(3, c))
                    let (s0, s1) = (a, b)
                    for t in 0..<n { let (x0, x1, x2, x3) = (a[t], b[t], cc[t], d[t]); s0[t] = x0 + x1 + x2; s1[t] = x1 - x2 - x3 }
                }
                // (Aᵀ m) A: the two column combinations.
                let (s00, s01, s02, s03) = (at(0, 0), at(0, 1), at(0, 2), at(0, 3))
                let (s10, s11, s12, s13) = (at(1, 0), at(1, 1), at(1, 2), at(1, 3))
                for t in 0..<n {
                    y00[t] = s00[t] + s01[t] + s02[t] + bias; y01[t] = s01[t] - s02[t] - s03[t] + bias
                    y10[t] = s10[t] + s11[t] + s12[t] + bias; y11[t] = s11[t] - s12[t] - s13[t] + bias
                }
                if let residual {
                    // The residual's 2x2 block of each tile, added before the activation.
                    for dy in 0..<2 where 2 * ty + dy < g.outH {
                        let r = residual + (2 * ty + dy) * g.outW + 2 * tx0
                        let (left, right) = dy == 0 ? (y00, y01) : (y10, y11)
                        for t in 0..<n {
                            left[t] += r[2 * t]
                            if 2 * (tx0 + t) + 1 < g.outW { right[t] += r[2 * t + 1] }
                        }
                    }
                }
                activation.apply(y, count: 4 * tw)
                for dy in 0..<2 where 2 * ty + dy < g.outH {
                    let row = out + (2 * ty + dy) * g.outW + 2 * tx0
                    let (left, right) = dy == 0 ? (y00, y01) : (y10, y11)
                    for t in 0..<n {
                        row[2 * t] = left[t]
                        if 2 * (tx0 + t) + 1 < g.outW { row[2 * t + 1] = right[t] }
                    }
                }
                tile += n
            }
        }
    }
}

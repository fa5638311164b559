/// Packing: copies of operand blocks in the order the micro-kernel reads them, zero-padded to
/// whole panels, so its loads are contiguous and its edges need no special case.
enum Pack {
    /// B[k x n] (row-major, ldb) into panels of 32 columns: panel j holds b[p][j*32 ..< j*32+32] for p in 0..<k.
    static func b(_ b: UnsafePointer<Float>, ldb: Int, k: Int, n: Int, into out: UnsafeMutablePointer<Float>) {
        let nr = Gemm.nr
        var j = 0
        while j < n {
            let w = min(nr, n - j)
            let panel = out + j * k
            if w == nr {
                for p in 0..<k {
                    (panel + p * nr).update(from: b + p * ldb + j, count: nr)
                }
            } else {
                for p in 0..<k {
                    let dst = panel + p * nr
                    dst.update(from: b + p * ldb + j, count: w)
                    (dst + w).update(repeating: 0, count: nr - w)
                }
            }
            j += nr
        }
    }

    /// The same panels from Bᵀ stored as [n x k] (a linear layer's weight [out, in]): no transposed copy.
    static func bTransposed(_ bt: UnsafePointer<Float>, ldb: Int, k: Int, n: Int, into out: UnsafeMutablePointer<Float>) {
        let nr = Gemm.nr
        var j = 0
        while j < n {
            let w = min(nr, n - j)
            let panel = out + j * k
            for jj in 0..<nr {
                if jj < w {
                    let src = bt + (j + jj) * ldb
                    for p in 0..<k { panel[p * nr + jj] = src[p] }
                } else {
                    for p in 0..<k { panel[p * nr + jj] = 0 }
                }
            }
            j += nr
        }
    }

    /// A[m x k] (row-major, lda) into panels of 6 rows: panel i holds a[i*6 + r][p] at p*6 + r.
    static func a(_ a: UnsafePointer<Float>, lda: Int, m: Int, k: Int, into out: UnsafeMutablePointer<Float>) {
        let mr = Gemm.mr
        var i = 0
        while i < m {
            let h = min(mr, m - i)
            let panel = out + i * k
            for r in 0..<mr {
                if r < h {
                    let src = a + (i + r) * lda
                    for p in 0..<k { panel[p * mr + r] = src[p] }
                } else {
                    for p in 0..<k { panel[p * mr + r] = 0 }
                }
            }
            i += mr
        }
    }
}

extension Pack {
    /// Implicit im2col: rows `rows` (channel, ky, kx) and columns `cols` (oy, ox) of the patch
    /// matrix of `image` [c, h, w], written straight into 32-column panels (zero padding and
    /// zero-filled panel tails included). Runs of columns within one output row are copied as
    /// contiguous input for stride 1.
    static func bImage(_ g: ConvGeometry, _ image: UnsafePointer<Float>, rows: Range<Int>, cols: Range<Int>,
                       into out: UnsafeMutablePointer<Float>) {
        let nr = Gemm.nr, kcur = rows.count
        let taps = g.kernelH * g.kernelW
        for r in rows {
            let p = r - rows.lowerBound
            let ch = r / taps, ky = (r / g.kernelW) % g.kernelH, kx = r % g.kernelW
            let plane = image + ch * g.inH * g.inW
            var j = cols.lowerBound
            var oy = j / g.outW, ox = j % g.outW
            var panel = 0, jj = 0
            while j < cols.upperBound {
                let run = min(g.outW - ox, cols.upperBound - j, nr - jj)
                let dst = out + panel * nr * kcur + p * nr + jj
                let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                if iy < 0 || iy >= g.inH {
                    dst.update(repeating: 0, count: run)
                } else {
                    let src = plane + iy * g.inW
                    let ix0 = ox * g.strideW - g.padLeft + kx * g.dilationW
                    if g.strideW == 1 {
                        // Input columns ix0 ..< ix0 + run: zeros outside [0, inW).
                        let lo = min(run, max(0, -ix0)), hi = max(lo, min(run, g.inW - ix0))
                        if lo > 0 { dst.update(repeating: 0, count: lo) }
                        if hi > lo { dst.advanced(by: lo).update(from: src + ix0 + lo, count: hi - lo) }
                        if run > hi { dst.advanced(by: hi).update(repeating: 0, count: run - hi) }
                    } else {
                        for t in 0..<run {
                            let ix = ix0 + t * g.strideW
                            dst[t] = ix >= 0 && ix < g.inW ? src[ix] : 0
                        }
                    }
                }
                j += run
                ox += run
                if ox == g.outW { ox = 0; oy += 1 }
                jj += run
                if jj == nr { jj = 0; panel += 1 }
            }
            if jj > 0 { (out + panel * nr * kcur + p * nr + jj).update(repeating: 0, count: nr - jj) }
        }
    }
}

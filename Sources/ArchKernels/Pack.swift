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
        panels(bt, ld: ldb, rows: n, k: k, width: Gemm.nr, into: out)
    }

    /// A[m x k] (row-major, lda) into panels of 6 rows: panel i holds a[i*6 + r][p] at p*6 + r.
    static func a(_ a: UnsafePointer<Float>, lda: Int, m: Int, k: Int, into out: UnsafeMutablePointer<Float>) {
        panels(a, ld: lda, rows: m, k: k, width: Gemm.mr, into: out)
    }

    /// Rows of a row-major [rows x k] matrix into panels of `width` rows each laid out column by
    /// column (panel i holds src[i*width + r][p] at p*width + r), the last panel zero-padded: A's
    /// panels, and B's from Bᵀ. Written in order, column by column, reading the panel's rows side by
    /// side (row by row, each store went `width` floats past the last: 2.4x slower for A's panels).
    static func panels(_ src: UnsafePointer<Float>, ld: Int, rows: Int, k: Int, width: Int, into out: UnsafeMutablePointer<Float>) {
        var i = 0
        while i < rows {
            let h = min(width, rows - i)
            let panel = out + i * k
            if width == 6 && h == 6 {
                sixRows(src + i * ld, ld: ld, k: k, into: panel)
            } else {
                for p in 0..<k {
                    let d = panel + p * width
                    for r in 0..<h { d[r] = src[(i + r) * ld + p] }
                    for r in h..<width { d[r] = 0 }
                }
            }
            i += width
        }
    }

    /// One whole panel of A: six rows, interleaved.
    @inline(always)
    static func sixRows(_ src: UnsafePointer<Float>, ld: Int, k: Int, into panel: UnsafeMutablePointer<Float>) {
        let (r0, r1, r2, r3, r4, r5) = (src, src + ld, src + 2 * ld, src + 3 * ld, src + 4 * ld, src + 5 * ld)
        for p in 0..<k {
            let d = panel + p * 6
            d[0] = r0[p]; d[1] = r1[p]; d[2] = r2[p]; d[3] = r3[p]; d[4] = r4[p]; d[5] = r5[p]
        }
    }
}

extension Pack {
    /// Implicit im2col: rows `rows` (channel, ky, kx) and columns `cols` (oy, ox) of the patch
    /// matrix of `image` [c, h, w], written straight into 32-column panels (zero padding and
    /// zero-filled panel tails included), panel by panel so the writes are sequential. A panel's
    /// columns fall into a few runs within one output row each; for stride 1 a run is a
    /// contiguous piece of an input row. With `phases`, `image` is the input's phase planes
    /// (`PhasePlanes`), where every run of a strided convolution is contiguous and in bounds.
    static func bImage(_ g: ConvGeometry, _ image: UnsafePointer<Float>, phases: PhasePlanes?, rows: Range<Int>, cols: Range<Int>,
                       into out: UnsafeMutablePointer<Float>) {
        let nr = Gemm.nr, kcur = rows.count
        let taps = g.kernelH * g.kernelW
        // Per row of the block: the channel plane's offset and the tap's displacement.
        let plane = UnsafeMutablePointer<Int>.allocate(capacity: kcur * 3)
        defer { plane.deallocate() }
        for (p, r) in rows.enumerated() {
            let (c, ky, kx) = (r / taps, (r / g.kernelW) % g.kernelH, r % g.kernelW)
            if let phases {
                (plane[3 * p], plane[3 * p + 1], plane[3 * p + 2]) = phases.tap(channel: c, ky: ky, kx: kx, g)
            } else {
                plane[3 * p] = c * g.inH * g.inW
                plane[3 * p + 1] = ky * g.dilationH - g.padTop
                plane[3 * p + 2] = kx * g.dilationW - g.padLeft
            }
        }
        // The image the runs read: the input, or phase planes read at stride 1.
        let (inH, inW) = phases.map { ($0.rows, $0.width) } ?? (g.inH, g.inW)
        let (strideH, sw) = phases == nil ? (g.strideH, g.strideW) : (1, 1)
        // A panel's runs: (oy, ox, length, offset in the panel).
        var runs = [(oy: Int, ox: Int, count: Int, at: Int)]()
        runs.reserveCapacity(nr)
        var panel = 0
        var j0 = cols.lowerBound
        while j0 < cols.upperBound {
            let width = min(nr, cols.upperBound - j0)
            runs.removeAll(keepingCapacity: true)
            var j = j0
            while j < j0 + width {
                let oy = j / g.outW, ox = j % g.outW
                let n = min(g.outW - ox, j0 + width - j)
                runs.append((oy, ox, n, j - j0))
                j += n
            }
            let base = out + panel * nr * kcur
            for p in 0..<kcur {
                let dst0 = base + p * nr
                let src0 = image + plane[3 * p], dy = plane[3 * p + 1], dx = plane[3 * p + 2]
                for run in runs {
                    let dst = dst0 + run.at
                    let iy = run.oy * strideH + dy
                    if iy < 0 || iy >= inH { dst.update(repeating: 0, count: run.count); continue }
                    let src = src0 + iy * inW
                    let ix0 = run.ox * sw + dx
                    // The taps t with 0 <= ix0 + t * stride < inW; zeros on either side.
                    let lo = min(run.count, ix0 >= 0 ? 0 : (-ix0 + sw - 1) / sw)
                    let hi = max(lo, min(run.count, ix0 >= inW ? 0 : (inW - ix0 + sw - 1) / sw))
                    if lo > 0 { dst.update(repeating: 0, count: lo) }
                    if sw == 1 {
                        copy(dst + lo, src + ix0 + lo, hi - lo)
                    } else {
                        var ix = ix0 + lo * sw
                        for t in lo..<hi { dst[t] = src[ix]; ix += sw }
                    }
                    if run.count > hi { (dst + hi).update(repeating: 0, count: run.count - hi) }
                }
                if width < nr { (dst0 + width).update(repeating: 0, count: nr - width) }
            }
            panel += 1
            j0 += width
        }
    }

    /// A short copy inline, 16 floats at a time (a call to memmove per run cost more than the copy).
    @inline(always)
    static func copy(_ dst: UnsafeMutablePointer<Float>, _ src: UnsafePointer<Float>, _ n: Int) {
        var i = 0
        while i + 16 <= n {
            UnsafeMutableRawPointer(dst + i).storeBytes(of: UnsafeRawPointer(src + i).loadUnaligned(as: SIMD16<Float>.self), as: SIMD16<Float>.self)
            i += 16
        }
        while i < n { dst[i] = src[i]; i += 1 }
    }
}

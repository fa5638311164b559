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

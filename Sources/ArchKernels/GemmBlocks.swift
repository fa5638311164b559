import Dispatch

/// Where the GEMM reads A: a row-major matrix, or panels packed once.
enum AOperand: @unchecked Sendable {
    case matrix(UnsafePointer<Float>, lda: Int)
    case prepacked(UnsafePointer<Float>, rowsPadded: Int)
}

/// Where the GEMM reads B: a row-major matrix, its transpose, panels packed once, or the patches
/// of an image under a convolution (implicit im2col: packed straight into panels).
enum BOperand: @unchecked Sendable {
    case matrix(UnsafePointer<Float>, ldb: Int)
    case transposed(UnsafePointer<Float>, ldb: Int)
    case prepacked(UnsafePointer<Float>, columnsPadded: Int)
    case image(ConvGeometry, UnsafePointer<Float>)
}

extension Gemm {
    /// Splits the work into one part per worker. Wide problems split the columns into whole
    /// panels; narrow ones (few panels, as in a network's last stages) split the rows instead, each
    /// worker packing the same B, so both cores stay busy and no worker gets a ragged share.
    static func parallelBlocks(m: Int, n: Int, k: Int, a: AOperand, b: BOperand, c: UnsafeMutablePointer<Float>, ldc: Int,
                               accumulate: Bool, bias: UnsafePointer<Float>?, epilogue: Epilogue, threads: Int) {
        let panels = (n + nr - 1) / nr
        let wanted = max(1, min(threads > 0 ? threads : defaultThreads, m * n * k >= 1 << 15 ? Int.max : 1))
        let splitRows = wanted > 1 && panels < 4 * wanted && m >= 4 * mr * wanted
        let workers = splitRows ? wanted : min(wanted, panels)
        let cAddr = Int(bitPattern: c), biasAddr = bias.map { Int(bitPattern: $0) } ?? 0
        DispatchQueue.concurrentPerform(iterations: workers) { w in
            let rows: Range<Int>, cols: Range<Int>
            if splitRows {
                let rowPanels = (m + mr - 1) / mr
                rows = min(m, rowPanels * w / workers * mr)..<min(m, rowPanels * (w + 1) / workers * mr)
                cols = 0..<n
            } else {
                let perWorker = (panels + workers - 1) / workers
                rows = 0..<m
                cols = min(n, w * perWorker * nr)..<min(n, (w + 1) * perWorker * nr)
            }
            guard !rows.isEmpty, !cols.isEmpty else { return }
            block(rows: rows, cols: cols, k: k, a: a, b: b, c: UnsafeMutablePointer(bitPattern: cAddr)!, ldc: ldc, accumulate: accumulate,
                  bias: UnsafePointer(bitPattern: biasAddr), epilogue: epilogue)
        }
    }

    /// One worker's part: loops over NC, KC and MC blocks, packing what is not prepacked, then
    /// the micro-kernel on every 6 x 32 tile.
    static func block(rows: Range<Int>, cols: Range<Int>, k: Int, a: AOperand, b: BOperand, c: UnsafeMutablePointer<Float>, ldc: Int,
                      accumulate: Bool, bias: UnsafePointer<Float>?, epilogue: Epilogue) {
        PackingBuffers.shared.with { packedB, packedA, edge in
            blockLoops(rows: rows, cols: cols, k: k, a: a, b: b, c: c, ldc: ldc, accumulate: accumulate, bias: bias, epilogue: epilogue,
                       packedB: packedB, packedA: packedA, edge: edge)
        }
    }

    static func blockLoops(rows: Range<Int>, cols: Range<Int>, k: Int, a: AOperand, b: BOperand, c: UnsafeMutablePointer<Float>, ldc: Int,
                           accumulate: Bool, bias: UnsafePointer<Float>?, epilogue: Epilogue,
                           packedB: UnsafeMutablePointer<Float>, packedA: UnsafeMutablePointer<Float>, edge: UnsafeMutablePointer<Float>) {
        var jc = cols.lowerBound
        while jc < cols.upperBound {
            let ncur = min(nc, cols.upperBound - jc)
            var pc = 0
            while pc < k {
                let kcur = min(kc, k - pc)
                let add = accumulate || pc > 0
                let last = pc + kcur == k
                let bBlock: UnsafePointer<Float>
                switch b {
                case .prepacked(let p, let columns): bBlock = p + columns * pc + jc * kcur
                case .matrix(let p, let ldb):
                    Pack.b(p + pc * ldb + jc, ldb: ldb, k: kcur, n: ncur, into: packedB)
                    bBlock = UnsafePointer(packedB)
                case .transposed(let p, let ldb):
                    Pack.bTransposed(p + jc * ldb + pc, ldb: ldb, k: kcur, n: ncur, into: packedB)
                    bBlock = UnsafePointer(packedB)
                case .image(let g, let image):
                    Pack.bImage(g, image, rows: pc..<(pc + kcur), cols: jc..<(jc + ncur), into: packedB)
                    bBlock = UnsafePointer(packedB)
                }
                var ic = rows.lowerBound
                while ic < rows.upperBound {
                    let mcur = min(mc, rows.upperBound - ic)
                    let aBlock: UnsafePointer<Float>
                    switch a {
                    case .prepacked(let p, let rowsPadded): aBlock = p + rowsPadded * pc + ic * kcur
                    case .matrix(let p, let lda):
                        Pack.a(p + ic * lda + pc, lda: lda, m: mcur, k: kcur, into: packedA)
                        aBlock = UnsafePointer(packedA)
                    }
                    var jr = 0
                    while jr < ncur {
                        let nw = min(nr, ncur - jr)
                        var ir = 0
                        while ir < mcur {
                            let mh = min(mr, mcur - ir)
                            let cp = c + (ic + ir) * ldc + jc + jr
                            let ap = aBlock + ir * kcur, bp = bBlock + jr * kcur
                            if mh == mr && nw == nr {
                                // A full tile takes the epilogue in registers on the last block of K.
                                let tileBias = epilogue.bias == .perRow ? bias.map { $0 + ic + ir } : bias.map { $0 + jc + jr }
                                MicroKernel.run(k: kcur, a: ap, b: bp, c: cp, ldc: ldc, accumulate: add,
                                                epilogue: last ? epilogue : .none, bias: last ? tileBias : nil)
                            } else {
                                // Edge tile: compute a full tile aside, copy the valid part, then the epilogue.
                                for i in 0..<mh { for j in 0..<nw { edge[i * nr + j] = add ? cp[i * ldc + j] : 0 } }
                                MicroKernel.run(k: kcur, a: ap, b: bp, c: edge, ldc: nr, accumulate: true)
                                for i in 0..<mh { for j in 0..<nw { cp[i * ldc + j] = edge[i * nr + j] } }
                                if last {
                                    applyEpilogue(c: c, ldc: ldc, rows: (ic + ir)..<(ic + ir + mh), cols: (jc + jr)..<(jc + jr + nw),
                                                  bias: bias, epilogue: epilogue)
                                }
                            }
                            ir += mr
                        }
                        jr += nr
                    }
                    ic += mc
                }
                pc += kcur
            }
            jc += ncur
        }
    }

    /// Bias and activation on a tile that is still in cache.
    @inline(__always)
    static func applyEpilogue(c: UnsafeMutablePointer<Float>, ldc: Int, rows: Range<Int>, cols: Range<Int>,
                              bias: UnsafePointer<Float>?, epilogue: Epilogue) {
        if epilogue.bias == .none && epilogue.activation == .none { return }
        let width = cols.count
        for i in rows {
            let row = c + i * ldc + cols.lowerBound
            switch epilogue.bias {
            case .none: break
            case .perRow: let rb = bias![i]; for j in 0..<width { row[j] += rb }
            case .perColumn: let cb = bias! + cols.lowerBound; for j in 0..<width { row[j] += cb[j] }
            }
            switch epilogue.activation {
            case .none: break
            case .relu: for j in 0..<width { row[j] = Swift.max(row[j], 0) }
            case .relu6: for j in 0..<width { row[j] = Swift.min(Swift.max(row[j], 0), 6) }
            case .gelu: Elementwise.geluInPlace(row, count: width)
            }
        }
    }
}

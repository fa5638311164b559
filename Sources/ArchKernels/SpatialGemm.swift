/// A convolution as a GEMM with the output positions as rows: Cᵀ [oh ow x out] = patches
/// [oh ow x k] times the weights packed as B [k x out], then Cᵀ written out transposed with the
/// bias, residual and activation. For small maps (7x7, 14x14) with many channels: positions as
/// the columns of 32-wide panels leave them part empty (49 positions fill 64 columns, 77%),
/// as rows of 6 they nearly fill them (49 of 54), and the channels fill whole panels.
/// The patches are packed from the input's zero-padded phase planes (`PhasePlanes`), once,
/// shared by the workers, which split the output channels (and so the weights) between them.
enum SpatialGemm {
    static func applies(_ g: ConvGeometry) -> Bool { g.groups == 1 }

    static func preparedCount(_ g: ConvGeometry) -> Int {
        Gemm.packedBCount(n: g.outChannels, k: g.inChannels * g.kernelH * g.kernelW)
    }

    /// The weights [out, k] as B's panels: the transpose of a linear layer's [out, in], packed the same way.
    static func prepare(_ g: ConvGeometry, weight: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let k = g.inChannels * g.kernelH * g.kernelW
        Gemm.packB(transposed: weight, ldb: k, n: g.outChannels, k: k, into: out)
    }

    /// Whether the patches can be read from the input as it is (stride 1, no padding).
    static func readsInputAsIs(_ g: ConvGeometry) -> Bool {
        g.strideH == 1 && g.strideW == 1 && g.padTop == 0 && g.padLeft == 0
    }

    /// Each example's phase planes (unless the input is read as it is), then Cᵀ of the batch.
    static func scratchCount(_ g: ConvGeometry, batch: Int) -> Int {
        batch * ((readsInputAsIs(g) ? 0 : PhasePlanes.count(g)) + g.outputCount)
    }

    /// The batch at once: the GEMM's rows are every example's positions, example after example.
    static func forward(_ g: ConvGeometry, batch: Int, input: UnsafePointer<Float>, prepared: UnsafePointer<Float>,
                        bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, activation: Activation,
                        output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let layout = PhasePlanes(g), positions = g.outH * g.outW, k = g.inChannels * g.kernelH * g.kernelW
        var planes = input, transposed = scratch, perExample = g.inputCount
        if !readsInputAsIs(g) {
            perExample = PhasePlanes.count(g)
            for n in 0..<batch { layout.fill(g, input: input + n * g.inputCount, into: scratch + n * perExample, threads: threads) }
            planes = UnsafePointer(scratch)
            transposed += batch * perExample
        }
        Gemm.sgemm(patches: g, batch: batch, planes: planes, exampleStride: perExample, layout: layout,
                   packed: PackedB(prepared, n: g.outChannels, k: k), c: transposed, ldc: g.outChannels, threads: threads)
        for n in 0..<batch {
            writeTransposed(UnsafePointer(transposed + n * positions * g.outChannels), positions: positions, channels: g.outChannels,
                            bias: bias, residual: residual.map { $0 + n * g.outputCount }, activation: activation,
                            output: output + n * g.outputCount, threads: threads)
        }
    }

    /// output[o][s] = activation(Cᵀ[s][o] + bias[o] + residual[o][s]), 16 channels at a time
    /// (each a run of Cᵀ's row), the blocks of channels split across the workers.
    static func writeTransposed(_ ct: UnsafePointer<Float>, positions: Int, channels: Int, bias: UnsafePointer<Float>?,
                                residual: UnsafePointer<Float>?, activation: Activation, output: UnsafeMutablePointer<Float>,
                                threads: Int) {
        let blocks = (channels + 15) / 16
        let workers = positions * channels >= 1 << 14 ? max(1, min(threads, blocks)) : 1
        Parallel.forEach(blocks, threads: workers) { block, _ in
            let o0 = block * 16, width = min(16, channels - o0)
            // (The residual may be the output itself: each element is read before it is written.)
            if let residual {
                for s in 0..<positions {
                    let row = ct + s * channels + o0
                    for j in 0..<width { let at = (o0 + j) * positions + s; output[at] = row[j] + residual[at] }
                }
            } else {
                for s in 0..<positions {
                    let row = ct + s * channels + o0
                    for j in 0..<width { output[(o0 + j) * positions + s] = row[j] }
                }
            }
            for o in o0..<(o0 + width) {
                let out = output + o * positions
                if let bias { Elementwise.add(bias[o], to: out, count: positions) }
                activation.apply(out, count: positions)
            }
        }
    }
}

extension Pack {
    /// Rows `rows` (output positions, example after example) and columns `ks` (channel, ky, kx) of
    /// a convolution's patch matrix, read from the examples' phase planes `planes` (every tap in
    /// bounds; `exampleStride` floats apart), into panels of 6 rows as `Pack.a` writes them; rows
    /// past the last are zero.
    static func aPatches(_ g: ConvGeometry, _ planes: UnsafePointer<Float>, exampleStride: Int, _ layout: PhasePlanes, rows: Range<Int>,
                         ks: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let kcur = ks.count, taps = g.kernelH * g.kernelW
        let positions = g.outH * g.outW, mr = Gemm.mr
        // Per column, where its tap starts in the planes; per row of a panel, where its position does.
        withUnsafeTemporaryAllocation(of: Int.self, capacity: kcur + mr) { offsets in
            let tap = offsets.baseAddress!, at = tap + kcur
            for (p, r) in ks.enumerated() {
                let t = layout.tap(channel: r / taps, ky: (r / g.kernelW) % g.kernelH, kx: r % g.kernelW, g)
                tap[p] = t.plane + t.dy * layout.width + t.dx
            }
            var i = rows.lowerBound
            while i < rows.upperBound {
                let h = min(mr, rows.upperBound - i), panel = out + (i - rows.lowerBound) * kcur
                for r in 0..<h {
                    let (n, s) = ((i + r) / positions, (i + r) % positions)
                    at[r] = n * exampleStride + s / g.outW * layout.width + s % g.outW
                }
                if h == mr && at[5] - at[0] == 5 {
                    // Six positions side by side in one row: each column's six values are
                    // consecutive in the planes, copied as 4 + 2 lanes.
                    let a0 = at[0]
                    for p in 0..<kcur {
                        let src = UnsafeRawPointer(planes + tap[p] + a0), d = UnsafeMutableRawPointer(panel + p * 6)
                        d.storeBytes(of: src.loadUnaligned(as: SIMD4<Float>.self), as: SIMD4<Float>.self)
                        d.storeBytes(of: src.loadUnaligned(fromByteOffset: 16, as: SIMD2<Float>.self), toByteOffset: 16, as: SIMD2<Float>.self)
                    }
                } else if h == mr {
                    let (a0, a1, a2, a3, a4, a5) = (at[0], at[1], at[2], at[3], at[4], at[5])
                    for p in 0..<kcur {
                        let src = planes + tap[p], d = panel + p * 6
                        d[0] = src[a0]; d[1] = src[a1]; d[2] = src[a2]; d[3] = src[a3]; d[4] = src[a4]; d[5] = src[a5]
                    }
                } else {
                    for p in 0..<kcur {
                        let src = planes + tap[p], d = panel + p * 6
                        for r in 0..<h { d[r] = src[at[r]] }
                        for r in h..<mr { d[r] = 0 }
                    }
                }
                i += Gemm.mr
            }
        }
    }
}

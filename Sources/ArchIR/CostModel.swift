import ArchKernels

/// A small model of this machine for the schedule: the arithmetic rate of the GEMM's micro-kernel
/// per core, the memory bandwidth, and the size of the work below which splitting it across cores
/// costs more than it saves. The rates are this kernel library's, measured on AVX-512 machines
/// (`benchmarks/gemm.sh`); the model only has to rank the alternatives, not predict times.
public struct CostModel: Sendable {
    /// Multiply-accumulates per second per core of the packed GEMM on large problems.
    public var gemmRate = 40e9
    /// Bytes per second from memory, all cores together.
    public var bandwidth = 20e9
    /// Bytes per second of weights read from memory, where the network's weights are too many to
    /// stay in the last-level cache from one forward pass to the next (`coldWeights`), so each
    /// layer's come from memory. Set from `--tune`'s timings with cold weights (2 threads, batch 1):
    /// ResNet's 3x3 convolutions on 14x14 maps by Winograd F(4x4, 3x3), whose filters are 4 times the
    /// kernel's size, 1.05 ms against the positions-as-rows GEMM's 0.77 (timed with the weights in
    /// cache, Winograd had looked as fast). Used for Winograd F(4,3)'s filters, 4 times the kernel,
    /// the one algorithm whose weights outweigh its arithmetic on small maps; the other algorithms'
    /// weights, the kernel's size, stay in their traffic at `bandwidth`, as calibrated before.
    public var weightBandwidth = 6e9
    /// Whether each layer's weights come from memory (set by the schedule: `weightsAreCold`).
    public var coldWeights = false
    /// Bytes of the last-level cache of the machines measured (32 MB, shared by the cores).
    public static let lastLevelCache = 32 << 20
    /// Bytes of one core's L2 on the machines measured (1 MB).
    public static let coreCache = 1 << 20

    /// Whether a network's weights (`floats` of them) are too many to stay in the last-level cache.
    public static func weightsAreCold(floats: Int) -> Bool { floats > lastLevelCache / MemoryLayout<Float>.size }
    /// Multiply-accumulates below which a GEMM runs on one thread.
    public var parallelThreshold = 1 << 15

    public init() {}

    /// The workers the GEMM's split gives (`Gemm.split`, with the operands as the kernel passes them).
    public func gemmThreads(m: Int, n: Int, k: Int, threads: Int, bPrepacked: Bool = false, aPatches: Bool = false) -> Int {
        let work = m.multipliedReportingOverflow(by: n).partialValue.multipliedReportingOverflow(by: k).partialValue
        let split = Gemm.split(m: m, n: n, k: k, threads: threads, bPrepacked: bPrepacked, aPatches: aPatches)
        return work < parallelThreshold ? 1 : max(1, min(threads, split.workers))
    }

    /// Seconds for a GEMM: its arithmetic at the micro-kernel's rate (less for short K, where
    /// packing and the epilogue weigh more), or its memory traffic, whichever is larger. The
    /// arithmetic is the micro-kernel's: M rounded up to its panels of 6 rows, N to 32 columns (to
    /// 16 where the last panel has 16 or fewer: the kernel's left half).
    public func gemmSeconds(m: Int, n: Int, k: Int, threads: Int) -> Double {
        let rows = (m + Gemm.mr - 1) / Gemm.mr * Gemm.mr
        let columns = n % Gemm.nr == 0 || n % Gemm.nr > Gemm.nr / 2 ? (n + Gemm.nr - 1) / Gemm.nr * Gemm.nr : n / Gemm.nr * Gemm.nr + Gemm.nr / 2
        let macs = Double(rows) * Double(columns) * Double(k)
        let traffic = 4 * (Double(m) * Double(k) + Double(k) * Double(n) + 2 * Double(m) * Double(n))
        return max(macs / (gemmRate * kEfficiency(k) * Double(threads)), traffic / bandwidth)
    }

    /// The share of the micro-kernel's rate a tile reaches over K steps: loading and storing the
    /// tile (and its epilogue) weigh more on short K.
    func kEfficiency(_ k: Int) -> Double { min(1, Double(k) / 256 + 0.25) }

    /// The positions-as-rows algorithms' transposed write of `outputs` values (and the residual's
    /// read) where it outgrows a core's L2: to memory in pieces of a few floats, a cache line each
    /// (counted as 7 floats a line, twice). gemm-bench, 2 threads, batch 8, ResNet-50's 1x1s with
    /// their residual: 256 -> 512 on 28x28 (12.8 MB out) by the rows of 7 6.7-7.0 ms and by the
    /// rows of 6 6.7, against the channel-major GEMM's 4.3-4.7; the stride-2 shortcut 56x56 ->
    /// 28x28 9.2 and 7.7 against 6.0; level on 14x14 (1.6 MB out); the rows ahead on 7x7 (0.8 MB:
    /// 2.0-2.2 against 2.5-2.6).
    func transposedWriteOut(_ outputs: Double) -> Double {
        4 * outputs > Double(Self.coreCache) ? 2 * 64 * outputs / 7 / bandwidth : 0
    }

    /// The algorithm for a convolution and its estimated time, with the alternatives that apply.
    public func convolution(_ g: ConvGeometry, batch: Int, threads: Int) -> (algorithm: ConvAlgorithm, threads: Int, estimate: Estimate) {
        var options: [(ConvAlgorithm, Double)] = []
        for a in ConvAlgorithm.allCases where a.applies(to: g) {
            options.append((a, seconds(a, g, batch: batch, threads: threads)))
        }
        let best = options.min { $0.1 < $1.1 } ?? (.gemm, 0)
        return (best.0, convolutionThreads(best.0, g, batch: batch, threads: threads), Estimate(chosen: best.0.rawValue, seconds: best.1,
                                       alternatives: options.filter { $0.0 != best.0 }.map { ($0.0.rawValue, $0.1) }))
    }

    /// The workers a convolution algorithm uses: all for the kernels that split their own work, the
    /// GEMM's split otherwise.
    public func convolutionThreads(_ a: ConvAlgorithm, _ g: ConvGeometry, batch: Int, threads: Int) -> Int {
        if a.splitsItsOwnWork { return threads }
        if a == .pointwiseRows { return PointwiseRows.workers(g, batch: batch, threads: threads) }
        let spatial = a == .spatialGemm  // the patches as A, the weights prepacked as B
        return gemm(a, g, batch: batch).map { gemmThreads(m: $0.m, n: $0.n, k: $0.k, threads: threads, bPrepacked: spatial, aPatches: spatial) }
            ?? threads
    }

    /// The GEMM a convolution algorithm runs per group (M, N, K), if it runs one: per example, or
    /// for the whole batch with the positions as rows.
    func gemm(_ a: ConvAlgorithm, _ g: ConvGeometry, batch: Int) -> (m: Int, n: Int, k: Int)? {
        let cout = g.outChannels / g.groups, n = g.outH * g.outW, k = g.inChannels / g.groups * g.kernelH * g.kernelW
        switch a {
        case .gemm, .pointwise: return (cout, n, k)
        case .spatialGemm: return (batch * n, cout, k)
        case .pointwiseRows: return nil
        case .winograd, .winograd4, .depthwise, .direct: return nil
        }
    }

    /// The GEMMs of a GEMM-based algorithm, one per group.
    func groupGemmSeconds(_ a: ConvAlgorithm, _ g: ConvGeometry, batch: Int, threads: Int) -> Double {
        guard let (m, n, k) = gemm(a, g, batch: batch) else { return 0 }
        return Double(g.groups) * gemmSeconds(m: m, n: n, k: k, threads: threads)
    }

    /// Seconds for the batch.
    func seconds(_ a: ConvAlgorithm, _ g: ConvGeometry, batch: Int, threads: Int) -> Double {
        a == .spatialGemm || a == .pointwiseRows || a == .winograd4 ? batchSeconds(a, g, batch: batch, threads: threads)
            : Double(batch) * batchSeconds(a, g, batch: 1, threads: threads)
    }

    func batchSeconds(_ a: ConvAlgorithm, _ g: ConvGeometry, batch: Int, threads: Int) -> Double {
        let io = 4 * Double(g.inputCount + 2 * g.outputCount)
        switch a {
        // Implicit im2col packs every patch, each worker its own, in cache (for the positions as
        // rows too, split by rows: `Gemm.split`); the positions as rows then write the output
        // transposed, and in place. Calibrated with `--tune` (2 threads, batch 1 and 8): ResNet's 3x3
        // stride-2 convolutions by the positions as rows 0.77-0.83 of the channel-major GEMM's time
        // (28x28, 14x14 and 7x7 outputs); its 1x1 stride-1 convolutions as rows, packing the input
        // transposed, no faster than the plain GEMM (which packs nothing) on 7x7 maps, slower on
        // 14x14 and 28x28.
        case .pointwise: return groupGemmSeconds(a, g, batch: batch, threads: threads)
        case .gemm: return groupGemmSeconds(a, g, batch: batch, threads: threads) * 1.25
        case .spatialGemm:
            // Each patch gathered once (4 bytes at memory's rate, where the shared buffer they went
            // through cost 8), and the output written twice, the second time transposed.
            let packing = g.isPointwise ? 1.25 : 1.1
            let patches = Double(batch) * Double(g.outH * g.outW) * Double(g.inChannels * g.kernelH * g.kernelW)
            let outputs = Double(batch) * Double(g.outputCount)
            return groupGemmSeconds(a, g, batch: batch, threads: threads) * packing + (4 * patches + 8 * outputs) / bandwidth
                + transposedWriteOut(outputs)
        case .pointwiseRows:
            // The batch's positions in panels of 7, the channels in panels of 32, K whole, each tile
            // written out transposed (about 24 steps of K's time); or the weights, the packed
            // positions and the output through memory, whichever is larger; and the transposed
            // write-out past L2.
            let rows = Double((batch * g.outH * g.outW + 6) / 7 * 7), columns = Double((g.outChannels + 31) / 32 * 32)
            let workers = Double(PointwiseRows.workers(g, batch: batch, threads: threads)), k = Double(g.inChannels)
            let macs = rows * columns * (k + 24)
            let outputs = Double(batch) * Double(g.outputCount)
            let traffic = 4 * (columns * k + rows * k + 2 * outputs)
            return max(macs / (gemmRate * kEfficiency(g.inChannels) * workers), traffic / bandwidth) + transposedWriteOut(outputs)
        case .winograd:
            // 16 GEMMs of [out x in] x [in x tiles of a block] (4/9 of the direct multiplies), with the
            // transforms about half the time where the blocks are full; blocks of fewer than 48 tiles
            // (small maps) leave the GEMMs' panels part empty. Calibrated on ResNet-18's layers
            // (`archc ir --after schedule --tune` prints the measured times).
            let tiles = Double((g.outH + 1) / 2 * ((g.outW + 1) / 2))
            let macs = 16 * Double(g.outChannels) * Double(g.inChannels) * tiles
            let perBlock = Double(Winograd.workers(g, threads: threads).perBlock)
            return macs / (gemmRate * 0.5 * min(1, perBlock / 48) * Double(threads))
        case .winograd4:
            // Per task (a block of tiles and a part of the output channels): 36 GEMMs [part x in] x [in x 32]
            // on panels already in cache, and the two transforms (about 12 multiply-adds' time per value),
            // for each example; plus the transformed filters (36/9 of the weights) read once a batch (from
            // memory where `coldWeights`: for one example on a 14x14 map, more than the arithmetic). The
            // GEMMs run at about 1.6 times the rate of the big packed GEMMs here (no packing, the panel in
            // L1): calibrated on ResNet-18's layers (`--tune`, 2 threads: a third of the GEMM's time on
            // 56x56 and 28x28 maps, half on 14x14, where the one block of 16 tiles fills half of its
            // GEMMs' 32 columns).
            let t = Winograd4.tasks(g, threads: threads), c = Double(g.inChannels)
            func task(_ rows: Int) -> Double { 36 * 32 * (Double(rows) * c + 12 * (Double(rows) + c)) }
            let work = (Double(t.whole) * task(t.rows) + Double(t.split) * t.partRows.reduce(0) { $0 + task($1) }) / Double(t.workers)
            return Double(batch) * work / (gemmRate * 1.6) + 4 * 36 * Double(g.outChannels) * c / (coldWeights ? weightBandwidth : bandwidth)
        case .direct:
            // The GEMM's multiplies at the planes' width (the dropped columns counted) and without
            // its packing; or the planes and the output through memory.
            let l = DirectConv.Layout(g)
            let macs = Double(l.channels) * Double(l.positions) * Double(l.k)
            let floats: Double = Double(l.planeFloats) + 2 * Double(g.outputCount)
            let rate: Double = gemmRate * kEfficiency(l.k) * Double(threads)
            return max(macs / rate, 4 * floats / bandwidth)
        case .depthwise:
            // Streams its planes: memory-bound.
            return max(Double(g.macs) / (gemmRate * 0.25 * Double(threads)), io / bandwidth)
        }
    }
}

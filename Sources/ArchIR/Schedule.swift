import ArchKernels

/// Decides how each step runs, apart from what it computes: the algorithm of a convolution, how
/// many threads a kernel splits its work across, and the scratch memory that needs (a value of its
/// own, planned in the arena like any other). Choices come from `CostModel`; `archc ir --after
/// schedule` prints them with the estimates.
public enum Schedule {
    public static let name = "schedule"

    /// With `tuning`, each convolution's algorithm is the one measured fastest here; otherwise the
    /// cost model's.
    public static func run(_ program: Program, model base: CostModel = CostModel(), tuning: Tuning? = nil) -> Program {
        var p = program
        let threads = p.threads
        var model = base
        model.coldWeights = CostModel.weightsAreCold(floats: p.constants.reduce(0) { $0 &+ $1.count })
        // The 1x1 convolutions the tile pass will fuse into an inverted residual run as its pointwise GEMMs.
        let fused = Set(TileFusion.chains(p, scheduled: false).flatMap { [$0.expand?.step, $0.project.step].compactMap { $0 } })
        for i in p.steps.indices {
            var s = p.steps[i]
            switch s.kind {
            case .conv(var c):
                var choice = model.convolution(c.geometry, batch: c.batch, threads: threads)
                if fused.contains(i) {
                    choice.algorithm = .pointwise
                    choice.threads = model.convolutionThreads(.pointwise, c.geometry, batch: c.batch, threads: threads)
                    choice.estimate = Estimate(chosen: "pointwise (fused by the tile pass)",
                                               seconds: model.seconds(.pointwise, c.geometry, batch: c.batch, threads: threads))
                } else if let tuning {
                    choice.algorithm = tuning.convolution(c.geometry, batch: c.batch, threads: threads, coldWeights: model.coldWeights)
                    if let times = tuning.measured[tuning.key(c.geometry, batch: c.batch, threads: threads, coldWeights: model.coldWeights)] {
                        let best = times.first { $0.0 == choice.algorithm }?.1 ?? 0
                        choice.estimate = Estimate(chosen: choice.algorithm.rawValue + " (measured)", seconds: best,
                                                   alternatives: times.filter { $0.0 != choice.algorithm }.map { ($0.0.rawValue, $0.1) })
                    } else {
                        choice.estimate = Estimate(chosen: choice.algorithm.rawValue + " (tuned before)", seconds: 0)
                    }
                    choice.threads = model.convolutionThreads(choice.algorithm, c.geometry, batch: c.batch, threads: threads)
                }
                (c.algorithm, c.threads) = (choice.algorithm, choice.threads)
                let need = Conv.scratchCount(c.geometry, c.algorithm, batch: c.batch, threads: c.threads)
                c.scratch = need > 0 ? p.addValue([need], scratch: true) : nil
                s.kind = .conv(c)
                s.estimate = choice.estimate
            case .linear(var c):
                c.threads = model.gemmThreads(m: c.rows, n: c.outFeatures, k: c.inFeatures, threads: threads, bPrepacked: true)
                s.kind = .linear(c)
                s.estimate = Estimate(chosen: "gemm", seconds: model.gemmSeconds(m: c.rows, n: c.outFeatures, k: c.inFeatures, threads: c.threads))
            case .tokenMix(var c):
                c.threads = model.gemmThreads(m: c.tokens, n: c.width, k: c.tokens, threads: threads)
                s.kind = .tokenMix(c)
            case .attention(var c):
                c.threads = AttentionKernel.workers(c.shape, threads: threads)
                c.scratch = p.addValue([AttentionKernel.scratchCount(c.shape, threads: c.threads)], scratch: true)
                s.kind = .attention(c)
            case .windowAttention(var c):
                c.threads = WindowAttention.workers(c.grid, threads: threads)
                c.scratch = p.addValue([WindowAttention.scratchCount(c.grid, threads: c.threads)], scratch: true)
                s.kind = .windowAttention(c)
            case .convTranspose(var c):
                c.threads = threads
                c.scratch = p.addValue([ConvTransposeCall.scratchCount(c.geometry)], scratch: true)
                s.kind = .convTranspose(c)
            case .moe(var c):
                c.threads = threads
                c.scratch = p.addValue([MoECall.scratchCount(rows: c.rows, width: c.width, experts: c.experts, hidden: c.hidden)], scratch: true)
                s.kind = .moe(c)
            case .recurrent(var c):
                c.threads = threads
                c.scratch = p.addValue([RecurrentCall.scratchCount(cell: c.cell, batch: c.batch, steps: c.steps, hidden: c.hidden,
                                                                   directions: c.directions)], scratch: true)
                s.kind = .recurrent(c)
            case .pool(var c):
                c.threads = threads
                s.kind = .pool(c)
            case .norm(var c):
                c.threads = threads
                s.kind = .norm(c)
            case .rotary(var c):
                c.threads = threads
                s.kind = .rotary(c)
            case .gate, .embedding, .patchify, .adaptivePool, .upsample, .groupNorm, .channelAffine, .activation, .softmax, .binary, .view,
                 .permute, .concat, .positions, .prependToken, .take, .patchMergeGather, .windowPartition, .windowMerge, .invertedResidual, .reduce, .slice, .unfold:
                break
            }
            p.steps[i] = s
        }
        p.passes.append(name)
        return p
    }
}

/// A schedule's estimate for a step, and the alternatives it was chosen over.
public struct Estimate: Sendable {
    public var chosen: String
    public var seconds: Double
    public var alternatives: [(String, Double)] = []
}

import ArchKernels

/// Everything computed from the weights or the sizes alone, as named constants of the program with
/// their recipes (`Prepare` carries them out when the program is loaded): batchnorms folded into
/// convolutions or turned into a scale and a shift, weights packed for the GEMM or transformed for
/// the algorithm the schedule chose. Constants only others are made from are marked as not kept.
public enum PrepareConstants {
    public static let name = "prepare"

    public static func run(_ program: Program) -> Program {
        var p = program
        var known: [Recipe: Int] = [:]
        for (i, c) in p.constants.enumerated() { known[c.recipe] = i }
        for i in p.steps.indices { prepare(&p, step: i, &known) }
        var used = Set<Int>()
        for s in p.steps { used.formUnion(s.kind.constants) }
        for c in p.constants.indices { p.constants[c].isRuntime = used.contains(c) }
        p.passes.append(name)
        return p
    }

    static func prepare(_ p: inout Program, step i: Int, _ known: inout [Recipe: Int]) {
        var s = p.steps[i]
        switch s.kind {
        case .conv(var c):
            if let bn = s.batchnorm {
                let scale = batchnormScale(&p, &known, bn)
                c.bias = derive(&p, &known, name(p, c.bias ?? bn.mean, "folded"), count: c.geometry.outChannels,
                                .batchnormShift(beta: bn.beta, mean: bn.mean, scale: scale, bias: c.bias))
                c.weight = derive(&p, &known, name(p, c.weight, "folded"), count: p.constants[c.weight].count,
                                  .scaleRows(c.weight, by: scale, width: p.constants[c.weight].count / c.geometry.outChannels))
                s.batchnorm = nil
            }
            c.weight = derive(&p, &known, name(p, c.weight, c.algorithm.rawValue), count: Conv.preparedCount(c.geometry, c.algorithm),
                              .convWeights(c.weight, geometry: c.geometry, algorithm: c.algorithm))
            s.kind = .conv(c)
        case .channelAffine(var c):
            guard let bn = s.batchnorm else { break }
            c.scale = batchnormScale(&p, &known, bn)
            c.shift = derive(&p, &known, name(p, bn.mean, "shift"), count: c.channels, .batchnormShift(beta: bn.beta, mean: bn.mean, scale: c.scale, bias: nil))
            s.batchnorm = nil
            s.kind = .channelAffine(c)
        case .linear(var c):
            c.weight = packB(&p, &known, c.weight, n: c.outFeatures, k: c.inFeatures)
            s.kind = .linear(c)
        case .tokenMix(var c):
            c.weight = derive(&p, &known, name(p, c.weight, "packed"), count: Gemm.packedACount(m: c.tokens, k: c.tokens),
                              .matrixA(c.weight, rows: c.tokens, k: c.tokens))
            s.kind = .tokenMix(c)
        case .convTranspose(var c):
            c.weight = derive(&p, &known, name(p, c.weight, "packed"), count: Prepare.transposedConvCount(c.geometry),
                              .transposedConvWeights(c.weight, geometry: c.geometry))
            s.kind = .convTranspose(c)
        case .moe(var c):
            let firstWidth = c.expert == .swiglu ? 2 * c.hidden : c.hidden
            c.router = packB(&p, &known, c.router, n: c.experts, k: c.width)
            c.first = c.first.map { packB(&p, &known, $0, n: firstWidth, k: c.width) }
            c.second = c.second.map { packB(&p, &known, $0, n: c.width, k: c.hidden) }
            s.kind = .moe(c)
        case .recurrent(var c):
            let gates = p.constants[c.hiddenWeights[0]].count / (c.hidden * c.hidden)
            for (i, w) in c.inputWeights.enumerated() {
                let width = i < c.directions ? c.inputWidth : c.hidden * c.directions
                c.inputWeights[i] = packB(&p, &known, w, n: gates * c.hidden, k: width)
            }
            c.hiddenWeights = c.hiddenWeights.map { packB(&p, &known, $0, n: gates * c.hidden, k: c.hidden) }
            s.kind = .recurrent(c)
        case .gate, .embedding, .patchify, .pool, .adaptivePool, .upsample, .norm, .groupNorm, .activation, .softmax, .binary, .view,
             .permute, .concat, .positions, .prependToken, .take, .patchMergeGather, .attention, .rotary, .windowPartition, .windowAttention,
             .windowMerge, .invertedResidual, .reduce, .slice, .unfold:
            break
        }
        p.steps[i] = s
    }

    /// gamma / sqrt(var + eps) of a batchnorm.
    static func batchnormScale(_ p: inout Program, _ known: inout [Recipe: Int], _ bn: Program.Batchnorm) -> Int {
        derive(&p, &known, name(p, bn.variance, "scale"), count: p.constants[bn.variance].count,
               .batchnormScale(gamma: bn.gamma, variance: bn.variance, eps: bn.eps))
    }

    static func packB(_ p: inout Program, _ known: inout [Recipe: Int], _ w: Int, n: Int, k: Int) -> Int {
        derive(&p, &known, name(p, w, "packed"), count: Gemm.packedBCount(n: n, k: k), .linearWeights(w, outFeatures: n, inFeatures: k))
    }

    static func name(_ p: Program, _ c: Int, _ what: String) -> String { p.constants[c].name + " (\(what))" }

    /// A constant made by `recipe` (the same recipe twice is one constant).
    static func derive(_ p: inout Program, _ known: inout [Recipe: Int], _ name: String, count: Int, _ recipe: Recipe) -> Int {
        if let i = known[recipe] { return i }
        p.constants.append(ConstantSpec(name: name, count: count, recipe: recipe))
        known[recipe] = p.constants.count - 1
        return p.constants.count - 1
    }
}

import ArchSemantics
import ArchIR

/// The weights of convolutions that absorbed a batchnorm (the `fuse` pass), folded once:
/// w' = w * gamma / sqrt(var + eps) per output channel, b' = (b - mean) * gamma / sqrt(var + eps) + beta.
struct FoldedWeights {
    var convs: [Int: (weight: [Float], bias: [Float])] = [:]

    init(program: Program, weights: WeightStore) {
        let graph = program.graph
        for (i, step) in program.steps.enumerated() {
            guard case .batchnorm(let bnNode)? = step.fused.first else { continue }
            let conv = graph.nodes[step.node], bn = graph.nodes[bnNode]
            func p(_ node: Graph.Node, _ s: String) -> [Float]? {
                node.params.first { graph.params[$0].name.hasSuffix("." + s) || graph.params[$0].name == s }.flatMap { weights.values[$0] }
            }
            guard var weight = p(conv, "weight"), let mean = p(bn, "running_mean"), let variance = p(bn, "running_var") else { continue }
            let out = mean.count, per = weight.count / out
            var bias = p(conv, "bias") ?? [Float](repeating: 0, count: out)
            let gamma = p(bn, "weight"), beta = p(bn, "bias")
            var eps: Float = 1e-5
            if case .float(let e)? = bn.args["eps"] { eps = Float(e) }
            for o in 0..<out {
                let scale = (gamma?[o] ?? 1) / (variance[o] + eps).squareRoot()
                for j in 0..<per { weight[o * per + j] *= scale }
                bias[o] = (bias[o] - mean[o]) * scale + (beta?[o] ?? 0)
            }
            convs[i] = (weight, bias)
        }
    }
}

import ArchSemantics
import ArchKernels

/// Fusions planned once per graph: a batchnorm straight after a convolution is folded into the
/// convolution's weights and bias, and a ReLU/ReLU6 after either becomes the GEMM's epilogue, so
/// the activation is written once. The fused-away nodes pass their input through.
struct FusionPlan {
    /// conv node -> (folded weight, folded bias, activation)
    var convs: [Int: (weight: [Float], bias: [Float], activation: Epilogue.Activation)] = [:]
    /// Nodes whose work was done by the node before them.
    var passThrough: Set<Int> = []

    init(graph: Graph, weights: WeightStore) {
        var readers = [Int](repeating: 0, count: graph.values.count)
        for n in graph.nodes { for v in n.inputs { readers[v] += 1 } }
        if let o = graph.output { readers[o] += 1 }
        for (i, conv) in graph.nodes.enumerated() where conv.op == "conv" {
            guard readers[conv.output] == 1, i + 1 < graph.nodes.count else { continue }
            let wid = conv.params.first { graph.params[$0].name.hasSuffix("weight") }
            guard let wid, let w = weights.values[wid] else { continue }
            let out = graph.params[wid].shape[0], per = w.count / out
            var weight = w
            var bias = conv.params.first { graph.params[$0].name.hasSuffix("bias") }.flatMap { weights.values[$0] } ?? [Float](repeating: 0, count: out)
            var next = i + 1
            let bn = graph.nodes[next]
            var folded = false
            if bn.op == "batchnorm", bn.inputs == [conv.output] {
                func p(_ s: String) -> [Float]? { bn.params.first { graph.params[$0].name.hasSuffix("." + s) }.flatMap { weights.values[$0] } }
                guard let mean = p("running_mean"), let variance = p("running_var") else { continue }
                let gamma = p("weight"), beta = p("bias")
                var eps: Float = 1e-5
                if case .float(let e)? = bn.args["eps"] { eps = Float(e) }
                for o in 0..<out {
                    let scale = (gamma?[o] ?? 1) / (variance[o] + eps).squareRoot()
                    for j in 0..<per { weight[o * per + j] *= scale }
                    bias[o] = (bias[o] - mean[o]) * scale + (beta?[o] ?? 0)
                }
                passThrough.insert(next)
                folded = true
                next += 1
            }
            var activation = Epilogue.Activation.none
            let last = folded ? graph.nodes[next - 1].output : conv.output
            if next < graph.nodes.count, readers[last] == 1, graph.nodes[next].inputs == [last],
               ["relu", "relu6"].contains(graph.nodes[next].op) {
                activation = graph.nodes[next].op == "relu" ? .relu : .relu6
                passThrough.insert(next)
            }
            if folded || activation != .none { convs[i] = (weight, bias, activation) }
        }
    }
}

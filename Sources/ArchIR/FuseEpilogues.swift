import ArchSemantics

/// Folds what follows a producer into it, so activations are written once:
/// - a batchnorm right after a convolution is folded into the convolution's weights and bias;
/// - an elementwise activation right after a convolution, linear layer, add or batchnorm becomes
///   that step's epilogue (ReLU and ReLU6 run inside the GEMM's write-back).
/// Only values with a single reader are fused away, and never the program's output.
public enum FuseEpilogues {
    public static let name = "fuse"
    static let activations: Set<String> = ["relu", "relu6", "gelu", "silu", "sigmoid", "tanh", "hardswish"]
    static let producers: Set<String> = ["conv", "linear", "add", "batchnorm"]

    public static func run(_ program: Program) -> Program {
        var p = program
        var readers = [Int](repeating: 0, count: p.values.count)
        for s in p.steps { for v in s.inputs { readers[v] += 1 } }
        readers[p.output] += 1
        var steps: [Program.Step] = []
        var i = 0
        while i < p.steps.count {
            var step = p.steps[i]
            i += 1
            func absorbable(_ next: Program.Step) -> Bool {
                next.inputs == [step.output] && readers[step.output] == 1 && step.output != p.output
            }
            if step.op == "conv", step.fused.isEmpty, i < p.steps.count, p.steps[i].op == "batchnorm", absorbable(p.steps[i]) {
                step.fused.append(.batchnorm(node: p.steps[i].node))
                step.output = p.steps[i].output
                i += 1
            }
            if producers.contains(step.op), i < p.steps.count, activations.contains(p.steps[i].op), absorbable(p.steps[i]),
               !step.fused.contains(where: { if case .activation = $0 { return true } else { return false } }) {
                let act = p.steps[i]
                let approx: String? = { if case .word(let w)? = p.graph.nodes[act.node].args["approx"] { return w } else { return nil } }()
                step.fused.append(.activation(act.op == "gelu" && approx == "tanh" ? "gelu_tanh" : act.op))
                step.output = act.output
                i += 1
            }
            steps.append(step)
        }
        p.steps = steps
        p.passes.append(name)
        return p
    }
}

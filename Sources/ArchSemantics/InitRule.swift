/// How `archc init` draws one tensor, as PyTorch initialises the layer that holds it: linear and conv
/// weights and biases uniform in +-1/sqrt(fan_in) (kaiming_uniform with a = sqrt(5)), norms ones and
/// zeros, running statistics zeros and ones, embeddings, positions and tokens normal(0, 0.02), learned
/// operands of arithmetic as their `init` says. One definition, read by `archc init` and by the
/// initialisation `emit torch` writes.
public enum InitRule: Equatable, Sendable {
    case zeros, ones
    case value(Double)
    case normal(std: Double)
    /// Uniform in +-1/sqrt(fanIn).
    case uniform(fanIn: Int)
    /// Uniform in +-bound (a learned operand's `init uniform A`).
    case uniformBound(Double)
    /// An integer buffer (Swin's relative position index): filled by its own formula.
    case index

    public static func rule(for id: Int, in graph: Graph) -> InitRule {
        let p = graph.params[id]
        if p.isInteger { return .index }
        let leaf = p.name.split(separator: ".").last.map(String.init) ?? p.name
        let node = graph.nodes[p.node], op = node.op
        if [.add, .sub, .mul, .div, .rsub].contains(op) { return learnedOperand(node) }
        switch (op, leaf) {
        case (_, "running_var"), (.batchnorm, "weight"), (.layernorm, "weight"), (.rmsnorm, "weight"), (.groupnorm, "weight"):
            return .ones
        case (_, "running_mean"), (.batchnorm, "bias"), (.layernorm, "bias"), (.groupnorm, "bias"):
            return .zeros
        case (.embed, _), (.pos, _), (.cls, _):
            return .normal(std: 0.02)
        default:
            if leaf.hasSuffix("norm.weight") || leaf == "weight" && p.shape.count == 1 && op != .linear { return .ones }
            return .uniform(fanIn: max(1, fanIn(p, in: graph)))
        }
    }

    /// A learned operand (`mul param [96, 1, 1] init value 1e-6`) as its `init` says; without one,
    /// the op's neutral element (ones to multiply or divide by, zeros to add or subtract).
    static func learnedOperand(_ node: Graph.Node) -> InitRule {
        guard case .list(let spec)? = node.args["init"], case .word(let kind)? = spec.first else {
            return node.op == .mul || node.op == .div ? .ones : .zeros
        }
        let x: Double = { if case .float(let v)? = spec.dropFirst().first { return v } else { return 0 } }()
        switch kind {
        case "ones": return .ones
        case "value": return .value(x)
        case "normal": return .normal(std: x)
        case "uniform": return .uniformBound(x)
        default: return .zeros
        }
    }

    /// fan_in: the weight's elements per output row; a bias shares its weight's fan_in. A transposed
    /// convolution's [in, out, k...] and a Conv1D-stored [in, out] matrix (`weights conv1d`) count
    /// their first dimension.
    public static func fanIn(_ p: Graph.Param, in graph: Graph) -> Int {
        let node = graph.nodes[p.node], transposed = node.op == .convt
        func of(_ shape: [Int]) -> Int {
            if transposed { return shape[1] * shape.dropFirst(2).reduce(1, *) }
            return shape.count == 2 ? WeightLayout(node.args).inFeatures(of: shape) : shape.dropFirst().reduce(1, *)
        }
        if p.shape.count >= 2 { return of(p.shape) }
        // A bias: find the weight beside it (same prefix) in the same layer.
        let prefix = p.name.hasSuffix("bias") ? String(p.name.dropLast(4)) : p.name
        for id in graph.nodes[p.node].params {
            let q = graph.params[id]
            if q.shape.count >= 2, q.name.hasPrefix(prefix) || q.name.replacingOccurrences(of: "_bias", with: "_weight") == p.name.replacingOccurrences(of: "_bias", with: "_weight") {
                return of(q.shape)
            }
        }
        return p.shape.first ?? 1
    }
}

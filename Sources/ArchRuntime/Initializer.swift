import Foundation
import ArchSemantics
import ArchIO
import ArchKernels

/// Random weights as PyTorch initialises each layer, deterministic for a seed: linear and conv
/// weights and biases uniform in +-1/sqrt(fan_in) (kaiming_uniform with a = sqrt(5)), norms ones and
/// zeros, running statistics zeros and ones, embeddings, positions and tokens normal(0, 0.02), learned
/// operands of arithmetic as their `init` says.
public enum Initializer {
    public static func tensors(for graph: Graph, seed: UInt64) -> [(name: String, tensor: Tensor)] {
        var rng = SplitMix64(seed: seed)
        var out: [(String, Tensor)] = []
        for i in graph.stateDictOrder() {
            let p = graph.params[i]
            let count = p.shape.reduce(1, *)
            if p.isInteger {
                var ints = [Int64](repeating: 0, count: count)
                if p.name.hasSuffix("relative_position_index"), case .int(let w)? = graph.nodes[p.node].args["window"] {
                    ints = relativePositionIndex(window: w)
                }
                out.append((p.name, Tensor(shape: p.shape, ints: ints)))
                continue
            }
            let leaf = p.name.split(separator: ".").last.map(String.init) ?? p.name
            let op = graph.nodes[p.node].op
            var data = [Float](repeating: 0, count: count)
            if [.add, .sub, .mul, .div, .rsub].contains(op) {
                out.append((p.name, Tensor(shape: p.shape, floats: learnedOperand(count, graph.nodes[p.node], &rng))))
                continue
            }
            switch (op, leaf) {
            case (_, "running_var"), (.batchnorm, "weight"), (.layernorm, "weight"), (.rmsnorm, "weight"), (.groupnorm, "weight"):
                data = [Float](repeating: 1, count: count)
            case (_, "running_mean"), (.batchnorm, "bias"), (.layernorm, "bias"), (.groupnorm, "bias"):
                break
            case (.embed, _), (.pos, _), (.cls, _):
                for j in 0..<count { data[j] = Float(0.02 * rng.normal()) }
            default:
                if leaf.hasSuffix("norm.weight") || leaf == "weight" && p.shape.count == 1 && op != .linear {
                    data = [Float](repeating: 1, count: count)
                } else {
                    // fan_in: the weight's elements per output row; a bias shares its weight's fan_in.
                    let fanIn = fanInFor(p, in: graph)
                    let bound = 1 / Double(max(1, fanIn)).squareRoot()
                    for j in 0..<count { data[j] = Float((rng.uniform() * 2 - 1) * bound) }
                }
            }
            out.append((p.name, Tensor(shape: p.shape, floats: data)))
        }
        return out
    }

    /// A learned operand (`mul param [96, 1, 1] init value 1e-6`) as its `init` says; without one,
    /// the op's neutral element (ones to multiply or divide by, zeros to add or subtract).
    static func learnedOperand(_ count: Int, _ node: Graph.Node, _ rng: inout SplitMix64) -> [Float] {
        guard case .list(let spec)? = node.args["init"], case .word(let kind)? = spec.first else {
            return [Float](repeating: node.op == .mul || node.op == .div ? 1 : 0, count: count)
        }
        let x: Double = { if case .float(let v)? = spec.dropFirst().first { return v } else { return 0 } }()
        switch kind {
        case "ones": return [Float](repeating: 1, count: count)
        case "value": return [Float](repeating: Float(x), count: count)
        case "normal": return (0..<count).map { _ in Float(x * rng.normal()) }
        case "uniform": return (0..<count).map { _ in Float((rng.uniform() * 2 - 1) * x) }
        default: return [Float](repeating: 0, count: count)
        }
    }

    /// Swin's index into the relative position bias table for every pair of positions in a window,
    /// as torchvision's buffer holds it (the kernel's own formula).
    public static func relativePositionIndex(window w: Int) -> [Int64] {
        let t = w * w
        return (0..<(t * t)).map { Int64(WindowAttention.relativeIndex($0 / t, $0 % t, window: w)) }
    }

    static func fanInFor(_ p: Graph.Param, in graph: Graph) -> Int {
        if p.shape.count >= 2 {
            if graph.nodes[p.node].op == .convt { return p.shape[1] * p.shape.dropFirst(2).reduce(1, *) }
            return p.shape.dropFirst().reduce(1, *)
        }
        // A bias: find the weight beside it (same prefix) in the same layer.
        let prefix = p.name.hasSuffix("bias") ? String(p.name.dropLast(4)) : p.name
        for id in graph.nodes[p.node].params {
            let q = graph.params[id]
            if q.shape.count >= 2, q.name.hasPrefix(prefix) || q.name.replacingOccurrences(of: "_bias", with: "_weight") == p.name.replacingOccurrences(of: "_bias", with: "_weight") {
                return graph.nodes[p.node].op == .convt ? q.shape[1] * q.shape.dropFirst(2).reduce(1, *) : q.shape.dropFirst().reduce(1, *)
            }
        }
        return p.shape.first ?? 1
    }
}

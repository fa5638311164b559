import Foundation
import ArchSemantics
import ArchIO
import ArchKernels

/// Random weights as PyTorch initialises each layer (the rules of `InitRule`), deterministic for a seed.
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
            var data = [Float](repeating: 0, count: count)
            switch InitRule.rule(for: i, in: graph) {
            case .zeros, .index: break
            case .ones: data = [Float](repeating: 1, count: count)
            case .value(let x): data = [Float](repeating: Float(x), count: count)
            case .normal(let std): for j in 0..<count { data[j] = Float(std * rng.normal()) }
            case .uniformBound(let a): for j in 0..<count { data[j] = Float((rng.uniform() * 2 - 1) * a) }
            case .uniform(let fanIn):
                let bound = 1 / Double(fanIn).squareRoot()
                for j in 0..<count { data[j] = Float((rng.uniform() * 2 - 1) * bound) }
            }
            out.append((p.name, Tensor(shape: p.shape, floats: data)))
        }
        return out
    }

    /// Swin's index into the relative position bias table for every pair of positions in a window,
    /// as torchvision's buffer holds it (the kernel's own formula).
    public static func relativePositionIndex(window w: Int) -> [Int64] {
        let t = w * w
        return (0..<(t * t)).map { Int64(WindowAttention.relativeIndex($0 / t, $0 % t, window: w)) }
    }
}

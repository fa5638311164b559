import ArchSemantics
import ArchIO

/// The weights of a graph, by parameter id, bound from a state_dict by name with every shape checked.
public struct WeightStore: Sendable {
    public var values: [Int: [Float]]

    /// Binds tensors (from a safetensors file) to the graph's parameters and buffers.
    /// Missing tensors and shape mismatches are errors naming the tensor, both shapes and the spec
    /// line; tensors the network does not use are returned as warnings. Integer buffers
    /// (num_batches_tracked) are optional: inference has no use for them.
    public static func bind(_ graph: Graph, tensors: [(name: String, tensor: Tensor)], file: String) -> (store: WeightStore?, errors: [RuntimeError], warnings: [String]) {
        var byName: [String: Tensor] = [:]
        for (n, t) in tensors { byName[n] = t }
        var values: [Int: [Float]] = [:]
        var errors: [RuntimeError] = []
        var used = Set<String>()
        var warnings: [String] = []
        for (id, p) in graph.params.enumerated() {
            guard let t = byName[p.name] else {
                if p.isInteger { continue }
                errors.append(RuntimeError("\(file): missing tensor '\(p.name)' of shape \(p.shape)",
                                           notes: ["declared by the layer at \(graph.nodes[p.node].loc.description)"]))
                continue
            }
            used.insert(p.name)
            if p.isInteger {
                // Swin's index buffer: archc computes it; a checkpoint that disagrees would run differently in PyTorch.
                if p.name.hasSuffix("relative_position_index"), case .int(let w)? = graph.nodes[p.node].args["window"],
                   case .int(let got) = t.storage, got != Initializer.relativePositionIndex(window: w) {
                    warnings.append("\(file): tensor '\(p.name)' is not the standard relative position index for window \(w); archc uses the standard one")
                }
                continue
            }
            guard t.shape == p.shape else {
                errors.append(RuntimeError("\(file): tensor '\(p.name)' has shape \(t.shape) but the spec needs \(p.shape)",
                                           notes: ["declared by the layer at \(graph.nodes[p.node].loc.description)"]))
                continue
            }
            // Integers for a floating-point tensor are another tensor by mistake, not a conversion to make.
            guard !t.isInteger else {
                errors.append(RuntimeError("\(file): tensor '\(p.name)' holds integers, but the spec's '\(p.name)' is floating point",
                                           notes: ["save it as float32 (tensor.float() in PyTorch)", "declared by the layer at \(graph.nodes[p.node].loc.description)"]))
                continue
            }
            values[id] = t.floats
        }
        let extra = tensors.map(\.name).filter { !used.contains($0) }
        if !extra.isEmpty {
            warnings.append("\(file): \(extra.count) tensor\(extra.count == 1 ? "" : "s") not used by the network: " + extra.prefix(10).joined(separator: ", ") + (extra.count > 10 ? ", ..." : ""))
        }
        return (errors.isEmpty ? WeightStore(values: values) : nil, errors, warnings)
    }
}

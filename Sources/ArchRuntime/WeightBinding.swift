import ArchSemantics
import ArchIO
import ArchEngine
import ArchIR

/// The weights of a graph, per parameter, bound from a state_dict by name with every shape checked
/// (`ParameterBinding`, with the graph's parameters as the program's table).
public struct WeightStore: Sendable {
    /// Per graph parameter, its floats (nil for integer buffers).
    public var values: [[Float]?]

    /// Missing tensors and shape mismatches are errors naming the tensor, both shapes and the spec
    /// line; tensors the network does not use are returned as warnings. Integer buffers
    /// (num_batches_tracked) are optional: inference has no use for them.
    public static func bind(_ graph: Graph, tensors: [(name: String, tensor: Tensor)], file: String)
        -> (store: WeightStore?, errors: [EngineError], warnings: [String]) {
        let r = ParameterBinding.bind(Program.parameterSpecs(graph), tensors: tensors, file: file)
        var warnings = r.warnings
        for (id, p) in graph.params.enumerated() where p.name.hasSuffix("relative_position_index") {
            // Swin's index buffer: archc computes it; a checkpoint that disagrees would run differently in PyTorch.
            guard case .int(let w)? = graph.nodes[p.node].args["window"],
                  let t = tensors.first(where: { $0.name == p.name })?.tensor, case .int(let got) = t.storage,
                  got != Initializer.relativePositionIndex(window: w) else { continue }
            warnings.append("\(file): tensor '\(graph.params[id].name)' is not the standard relative position index for window \(w); archc uses the standard one")
        }
        return (r.errors.isEmpty ? WeightStore(values: r.values) : nil, r.errors, warnings)
    }
}

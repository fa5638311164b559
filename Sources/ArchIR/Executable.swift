import ArchSemantics
import ArchEngine
import ArchKernels

extension Program {
    /// The tensors a weights file must hold for the graph: every parameter and buffer, with the
    /// spec line that declared it.
    public static func parameterSpecs(_ graph: Graph) -> [ParameterSpec] {
        graph.params.map { p in
            let node = graph.nodes[p.node]
            return ParameterSpec(name: p.name, shape: p.shape, isInteger: p.isInteger, declaredAt: node.loc.description, order: storedOrder(p, node))
        }
    }

    /// How a layer with a `weights` option (linear, mlp, attention over tokens) reads a weight matrix of
    /// its own; nil for every other tensor.
    static func storedOrder(_ p: Graph.Param, _ node: Graph.Node) -> WeightOrder? {
        guard p.shape.count == 2, p.name.hasSuffix("weight"), node.args["window"] == nil,
              [OpKind.linear, .mlp, .attention].contains(node.op) else { return nil }
        return Lowering.order(node)
    }

    /// Everything a session needs besides the steps: parameters, constants, where each value lives,
    /// the inputs and the output.
    public var executable: Executable {
        let offsets = PlanBuffers.offsets(self)
        func port(_ name: String, _ v: Int) -> Executable.Port {
            Executable.Port(name: name, value: v, shape: values[v].shape, isTokens: v < graph.values.count && graph.values[v].kind == .int)
        }
        return Executable(name: name, parameters: Program.parameterSpecs(graph), constants: constants, offsets: offsets, arenaCount: arenaCount,
                          inputs: inputs.map { port($0.name, $0.value) }, output: port("output", output), threads: threads)
    }
}

import ArchSemantics

/// PyTorch for the tensor ops: arithmetic with labels, numbers and learned tensors.
extension TorchEmitter.Emitter {
    /// `x + other`, `other - x` (rsub), ...; the branches of `parallel add|mul` joined.
    mutating func arithmetic(_ n: Graph.Node) -> String {
        let x = "v\(n.inputs[0])"
        let symbol = ["add": "+", "sub": "-", "mul": "*", "div": "/", "rsub": "-"][n.op.rawValue] ?? "+"
        if n.inputs.count > 1 && n.args["other"] == nil { return n.inputs.map { "v\($0)" }.joined(separator: " \(symbol) ") }
        let operand: String
        if n.inputs.count > 1 {
            operand = "v\(n.inputs[1])"
        } else if let id = n.ownParams.first {
            register(graph.params[id])
            operand = "self.get_parameter(\"\(graph.params[id].name)\")"
        } else {
            operand = py(n.args["other"])
        }
        return n.op == .rsub ? "\(operand) - \(x)" : "\(x) \(symbol) \(operand)"
    }
}

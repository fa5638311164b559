import ArchSemantics

/// Initialisation: every tensor of the emitted module is drawn as `archc init` draws it (`InitRule`).
/// Where the PyTorch layer holding it draws otherwise (nn.Embedding's normal(0, 1), the recurrent
/// layers' +-1/sqrt(hidden)) or a bare tensor is made as zeros, reset_parameters draws it again.
extension TorchEmitter.Emitter {
    func resetLines() -> [String] {
        graph.stateDictOrder().compactMap { id -> String? in
            let rule = InitRule.rule(for: id, in: graph)
            guard rule != constructorRule(id) else { return nil }
            let t = access(param: id)
            switch rule {
            case .index: return nil
            case .zeros: return "nn.init.zeros_(\(t))"
            case .ones: return "nn.init.ones_(\(t))"
            case .value(let v): return "nn.init.constant_(\(t), \(v))"
            case .normal(let std): return "nn.init.normal_(\(t), std=\(std))"
            case .uniformBound(let a): return "nn.init.uniform_(\(t), -\(a), \(a))"
            case .uniform(let fanIn): return "nn.init.uniform_(\(t), -1 / math.sqrt(\(fanIn)), 1 / math.sqrt(\(fanIn)))"
            }
        }
    }

    /// What the emitted constructor draws for a tensor: PyTorch's default for the layer holding it,
    /// or for a bare tensor what `register` makes.
    func constructorRule(_ id: Int) -> InitRule {
        let p = graph.params[id], node = graph.nodes[p.node]
        let leaf = p.name.split(separator: ".").last.map(String.init) ?? p.name
        if p.isInteger { return .index }
        if node.ownParams.count == 1 && !isModuleTensor(node) {
            switch InitRule.rule(for: id, in: graph) {
            case .ones: return .ones
            case .value(let v): return .value(v)
            default: return .zeros
            }
        }
        switch node.op {
        case .embed: return .normal(std: 1)
        case .pos: return word(node, "kind") == "table" ? .normal(std: 1) : .zeros
        case .rnn, .lstm, .gru: return .uniform(fanIn: int(node, "hidden") ?? 1)
        default: break
        }
        if leaf == "running_var" { return .ones }
        if p.isBuffer || leaf == "relative_position_bias_table" { return .zeros }
        if p.shape.count >= 2 { return .uniform(fanIn: InitRule.fanIn(p, in: graph)) }
        if leaf.hasSuffix("weight") { return .ones }
        // A bias beside a matrix (nn.Linear's, nn.Conv2d's) shares its bound; a norm's is zeros.
        let stem = String(p.name.dropLast(leaf.count)) + leaf.replacingOccurrences(of: "bias", with: "weight")
        let matrix = node.params.contains { graph.params[$0].name == stem && graph.params[$0].shape.count >= 2 }
        return matrix ? .uniform(fanIn: InitRule.fanIn(p, in: graph)) : .zeros
    }

    /// Whether a node's single tensor lives in a PyTorch layer (a linear without bias) rather than
    /// being registered bare (a position table, a class token, a learned operand).
    func isModuleTensor(_ n: Graph.Node) -> Bool {
        switch n.op {
        case .pos: return word(n, "kind") == "table"
        case .cls, .add, .sub, .mul, .div, .rsub: return false
        case .linear: return n.params.count == n.ownParams.count
        default: return true
        }
    }
}

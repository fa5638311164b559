import ArchSyntax

/// Warnings about lines that are legal but most likely not what was meant.
extension Elaborator {
    /// A conv or linear with a bias straight before a batchnorm: the norm subtracts the mean anyway.
    func warnRedundantBias(op: OpSpec) {
        guard op.kind == .batchnorm, graph.nodes.count >= 2 else { return }
        let prev = graph.nodes[graph.nodes.count - 2], bn = graph.nodes[graph.nodes.count - 1]
        guard prev.op == .conv || prev.op == .linear, bn.inputs.first == prev.output, case .bool(true)? = prev.args["bias"] else { return }
        warning("the bias of this \(prev.op) is redundant: the batchnorm after it removes the mean", at: prev.loc,
                notes: [.init("add 'bias off' to save \(graph.values[prev.output].shape[1]) parameters")])
    }

    /// Ops whose output is laid out as [batch, channels, *spatial].
    static let spatialOps: Set<OpKind> = [.conv, .convt, .maxpool, .avgpool, .adaptive_avgpool, .adaptive_maxpool, .upsample]
    /// Ops that keep their input's layout (the walk back to a spatial op goes through them).
    static let layoutKeeping: Set<OpKind> = [.batchnorm, .groupnorm, .relu, .relu6, .gelu, .silu, .sigmoid, .tanh, .hardswish,
                                             .identity, .dropout, .add, .mul]

    /// The layer a value's layout comes from, if that is a spatial op (through norms, activations and adds).
    func spatialProducer(of value: Int) -> Graph.Node? {
        var v = value
        for _ in 0..<graph.nodes.count {
            guard let n = graph.node(producing: v) else { return nil }
            if Self.spatialOps.contains(n.op) { return n }
            guard Self.layoutKeeping.contains(n.op), let first = n.inputs.first else { return nil }
            v = first
        }
        return nil
    }

    /// A linear layer on an image tensor ([batch, channels, h, w] from a conv or pool) mixes its last,
    /// spatial dimension: a forgotten `flatten` that gives a 4-d output and no error.
    func warnLinearOnSpatial(input: Int, at loc: SourceLoc) {
        let shape = graph.values[input].shape
        guard shape.count > 3, let source = spatialProducer(of: input) else { return }
        warning("this linear layer acts on the last dimension of \(describe(shape)), a spatial one", at: loc,
                notes: [.init("\(describe(shape)) comes from \(Elaborator.describeLayer(source))", at: source.loc),
                        .init("add 'flatten' before it to use every channel and position as features, or 'globalpool' to average the positions")])
    }
}

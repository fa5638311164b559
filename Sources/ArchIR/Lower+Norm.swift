import ArchSemantics
import ArchKernels

/// Normalisation and elementwise layers.
extension Lowering {
    /// A batchnorm at inference is a per-channel affine; prepare makes its scale and shift from the
    /// statistics (or folds it into the convolution before it, when fuse has put it there).
    mutating func lowerBatchnorm(_ n: Graph.Node) throws {
        let s = shape(n.inputs[0])
        var step = Program.Step(.channelAffine(ChannelAffineCall(batch: s[0], channels: s[1], plane: s.dropFirst(2).reduce(1, *),
                                                                 input: n.inputs[0], output: n.output)), node: node)
        step.batchnorm = Program.Batchnorm(mean: try required("running_mean"), variance: try required("running_var"),
                                           gamma: param("weight"), beta: param("bias"), eps: n.float("eps")!, node: node)
        program.steps.append(step)
    }

    mutating func lowerRowNorm(_ n: Graph.Node) {
        let d = shape(n.inputs[0]).last!
        emit(.norm(NormCall(shape: Elementwise.Rows(rows: count(n.inputs[0]) / d, width: d, lds: d, ldd: d), rms: n.op == .rmsnorm,
                            eps: n.float("eps")!, weight: param("weight"), bias: param("bias"), input: n.inputs[0], output: n.output)))
    }

    mutating func lowerGroupNorm(_ n: Graph.Node) {
        let s = shape(n.inputs[0])
        emit(.groupNorm(GroupNormCall(batch: s[0], channels: s[1], groups: n.int("groups")!, plane: s.dropFirst(2).reduce(1, *),
                                      eps: n.float("eps")!, weight: param("weight"), bias: param("bias"), input: n.inputs[0], output: n.output)))
    }

    mutating func lowerSoftmax(_ n: Graph.Node) {
        let s = shape(n.inputs[0]), axis = n.axis("dim", rank: s.count, default: -1)
        emit(.softmax(SoftmaxCall(outer: s[..<axis].reduce(1, *), width: s[axis], inner: s[(axis + 1)...].reduce(1, *),
                                  input: n.inputs[0], output: n.output)))
    }
}

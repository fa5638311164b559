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

    /// Over the last dimension, rows of the tensor; over another (`dim 1`: LayerNorm2d), between two
    /// permutations that move that dimension last and back.
    mutating func lowerRowNorm(_ n: Graph.Node) {
        let s = shape(n.inputs[0]), axis = n.axis("dim", rank: s.count, default: -1)
        let last = axis == s.count - 1
        var toLast = Array(0..<s.count), back = Array(0..<s.count)
        toLast.append(toLast.remove(at: axis))
        back.insert(back.removeLast(), at: axis)
        let moved = toLast.map { s[$0] }
        let x = last ? n.inputs[0] : value(moved), y = last ? n.output : value(moved)
        if !last { emit(.permute(PermuteCall(shape: s, perm: toLast, input: n.inputs[0], output: x))) }
        let d = s[axis]
        emit(.norm(NormCall(shape: Elementwise.Rows(rows: count(n.inputs[0]) / d, width: d, lds: d, ldd: d), rms: n.op == .rmsnorm,
                            eps: n.float("eps")!, weight: param("weight"), bias: param("bias"), input: x, output: y)))
        if !last { emit(.permute(PermuteCall(shape: moved, perm: back, input: y, output: n.output))) }
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

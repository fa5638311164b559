/// The closed set of ops, as a graph node names them. Every later stage (lowering, the emitters)
/// switches over it exhaustively, so a new op makes the compiler list each place it must reach.
public enum OpKind: String, CaseIterable, Sendable, CustomStringConvertible {
    // Dense layers and token mixing.
    case linear, embed, mlp, swiglu, moe
    // Convolution, pooling, resampling.
    case conv, convt, maxpool, avgpool, adaptive_avgpool, adaptive_maxpool, globalpool, upsample, patch
    // Normalisation.
    case batchnorm, layernorm, rmsnorm, groupnorm
    // Activations and elementwise ops on one tensor.
    case relu, relu6, gelu, silu, sigmoid, tanh, hardswish, identity, softmax, dropout
    // Layout and sequence ops.
    case flatten, reshape, transpose, permute, pos, cls, take
    // Selecting, reducing and regrouping positions.
    case sum, mean, max, slice, index, view, unfold, fold
    // Attention and token mixing.
    case attention, sgu, patchmerge
    // Recurrent layers.
    case rnn, lstm, gru
    // Combining tensors: arithmetic with broadcasting, concatenation.
    case add, sub, mul, div, rsub, concat
    // Structure: bodies of layers. They never become nodes of the graph.
    case seq, residual, parallel

    public var description: String { rawValue }
}

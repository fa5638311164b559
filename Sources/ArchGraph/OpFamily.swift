import ArchSemantics

/// The colour groups of the diagram: every op belongs to one, so a reader sees at a glance where
/// the convolutions, the attention and the norms are. The legend lists the ones a diagram uses.
public enum OpFamily: String, CaseIterable, Sendable {
    case input, conv, pool, dense, attention, norm, activation, layout, recurrent, merge, block, output

    public init(_ op: OpKind) {
        switch op {
        case .conv, .convt, .patch: self = .conv
        case .maxpool, .avgpool, .adaptive_avgpool, .adaptive_maxpool, .globalpool, .upsample, .sum, .mean, .max: self = .pool
        case .linear, .embed, .mlp, .swiglu, .moe: self = .dense
        case .attention, .sgu, .patchmerge: self = .attention
        case .batchnorm, .layernorm, .rmsnorm, .groupnorm: self = .norm
        case .relu, .relu6, .gelu, .silu, .sigmoid, .tanh, .hardswish, .identity, .softmax, .dropout: self = .activation
        case .flatten, .reshape, .transpose, .permute, .pos, .cls, .take, .slice, .index, .view, .unfold, .fold: self = .layout
        case .rnn, .lstm, .gru: self = .recurrent
        case .add, .sub, .mul, .div, .rsub, .concat: self = .merge
        case .seq, .residual, .parallel: self = .block
        }
    }

    /// The legend's words.
    public var label: String {
        switch self {
        case .input: "input, output"
        case .conv: "convolution"
        case .pool: "pooling, reductions, resampling"
        case .dense: "linear, embedding, MLP"
        case .attention: "attention, token mixing"
        case .norm: "normalisation"
        case .activation: "activation, dropout"
        case .layout: "reshape, tokens, position"
        case .recurrent: "recurrent"
        case .merge: "arithmetic, concatenate"
        case .block: "block (collapsed)"
        case .output: "output"
        }
    }

    /// Fill, stroke and text colours (a light fill, a darker outline of the same hue).
    public var colours: (fill: String, stroke: String, text: String) {
        switch self {
        case .input: ("#1e293b", "#0f172a", "#ffffff")
        case .conv: ("#dbeafe", "#2563eb", "#0f172a")
        case .pool: ("#cffafe", "#0891b2", "#0f172a")
        case .dense: ("#ede9fe", "#7c3aed", "#0f172a")
        case .attention: ("#ffedd5", "#ea580c", "#0f172a")
        case .norm: ("#dcfce7", "#16a34a", "#0f172a")
        case .activation: ("#fef9c3", "#ca8a04", "#0f172a")
        case .layout: ("#f1f5f9", "#64748b", "#0f172a")
        case .recurrent: ("#fce7f3", "#db2777", "#0f172a")
        case .merge: ("#ffffff", "#334155", "#0f172a")
        case .block: ("#e0e7ff", "#4338ca", "#0f172a")
        case .output: ("#1e293b", "#0f172a", "#ffffff")
        }
    }
}

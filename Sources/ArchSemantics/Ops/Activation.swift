/// Elementwise activations, softmax and dropout: no parameters, one other op per element.
extension OpSpec {
    static func activation(_ name: OpKind, _ summary: String, positional: [ArgSpec] = [], options: [ArgSpec] = [],
                           storage: Storage = .inPlace) -> OpSpec {
        OpSpec(name, summary, positional: positional, options: options, shape: "unchanged", storage: storage) { ctx in
            try ctx.requireFloat()
            try ctx.addOther(ctx.input.shape)
        }
    }

    static let activations: [OpSpec] = [
        activation(.relu, "max(x, 0)"),
        activation(.relu6, "min(max(x, 0), 6) (MobileNetV2)"),
        activation(.gelu, "Gaussian error linear unit; 'tanh' for the tanh approximation",
                   positional: [ArgSpec("approx", .choice(["exact", "tanh"]), .word("exact"))]),
        activation(.silu, "x * sigmoid(x) (swish)"),
        activation(.sigmoid, "1 / (1 + exp(-x))"),
        activation(.tanh, "hyperbolic tangent"),
        activation(.hardswish, "x * relu6(x + 3) / 6 (MobileNetV3)"),
        activation(.identity, "passes its input through", storage: .view),
        OpSpec(.softmax, "softmax along a dimension",
               options: [ArgSpec("dim", .int(min: Int.min), .int(-1), "the dimension (negative counts from the end)")],
               shape: "unchanged", storage: .inPlace) { ctx in
            let d = ctx.int("dim")
            guard d >= -ctx.input.rank && d < ctx.input.rank else {
                throw OpError("dim \(d) is out of range for a rank-\(ctx.input.rank) tensor", argument: "dim")
            }
            try ctx.addOther(ctx.input.shape)
        },
        OpSpec(.dropout, "dropout; the identity at inference",
               positional: [ArgSpec("p", .float(min: 0, max: 1), .float(0.5), "drop probability, below 1")],
               shape: "unchanged", storage: .view) { ctx in
            if ctx.float("p") >= 1 {
                throw OpError("dropout probability \(ctx.float("p")) drops everything", notes: [.init("use a probability below 1, such as 0.1")], argument: "p", showsInput: false)
            }
        },
    ]
}

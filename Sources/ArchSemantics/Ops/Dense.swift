/// Dense layers: linear, embedding, MLP, SwiGLU, mixture of experts.
extension OpSpec {
    static let bias = ArgSpec("bias", .bool, .bool(true), "add a learned bias")

    /// Leading dimensions of the input (all but the feature dimension).
    static func leading(_ s: Shape) -> [Dim] { Array(s.dropLast()) }

    static let dense: [OpSpec] = [
        OpSpec(.linear, "fully connected layer on the last dimension (nn.Linear)",
               positional: [ArgSpec("out", .int(min: 1), nil, "output features")],
               options: [bias, ArgSpec("tied", .ref, nil, "share the weight of an earlier layer (GPT's output head)")],
               shape: "[..., in] -> [..., out]", params: "weight [out, in], bias [out]", macs: "(elements of the input / in) x in x out") { ctx in
            try ctx.requireFloat()
            try ctx.requireRank(2...8, "[batch, ..., features]")
            let inF = try ctx.known(ctx.input.shape.last!, "input width")
            let out = ctx.int("out")
            if ctx.has("tied") {
                guard let t = ctx.tiedCandidates.first(where: { $0.shape == [out, inF] }) else {
                    let have = ctx.tiedCandidates.map { "\($0.name) \($0.shape)" }.joined(separator: ", ")
                    throw OpError("cannot tie this weight [\(out), \(inF)] to '\(ctx.word("tied") ?? "")'",
                                  notes: [.init(have.isEmpty ? "that layer has no parameters" : "that layer has: \(have)")],
                                  argument: "tied", showsInput: false)
                }
                ctx.params.append(ParamDecl(localName: "weight", shape: [out, inF], isBuffer: false, isInteger: false, tiedTo: t.id))
            } else {
                try ctx.param("weight", [out, inF])
            }
            if ctx.bool("bias") { try ctx.param("bias", [out]) }
            ctx.output.shape[ctx.input.rank - 1] = Dim(out)
            try ctx.addMACs(leading(ctx.input.shape) + [Dim(inF), Dim(out)])
        },
        OpSpec(.embed, "token embedding table (nn.Embedding)",
               positional: [ArgSpec("vocab", .int(min: 1), nil, "number of token ids"), ArgSpec("dim", .int(min: 1), nil, "vector width")],
               options: [ArgSpec("from", .ref, nil, "look up another input's token ids and add the vectors to the running tensor (BERT's token types)")],
               shape: "[...] token ids -> [..., dim]; with from: unchanged", params: "weight [vocab, dim]") { ctx in
            if let ids = ctx.refs["from"] {
                guard ids.kind == .int else {
                    throw OpError("'\(ctx.word("from") ?? "")' holds floating-point values, not token ids", argument: "from")
                }
                let looked = ids.shape + [Dim(ctx.int("dim"))]
                guard looked == ctx.input.shape else {
                    throw OpError("the embeddings of '\(ctx.word("from") ?? "")' have shape \(describe(looked)), which cannot be added to \(describe(ctx.input.shape))", argument: "from")
                }
                try ctx.param("weight", [ctx.int("vocab"), ctx.int("dim")])
                try ctx.addOther(ctx.input.shape)
                return
            }
            guard ctx.input.kind == .int else {
                throw OpError("embed expects token ids, but its input holds floating-point values \(describe(ctx.input.shape))",
                              notes: [.init("declare the input with 'tokens', as in 'input ids [seq] tokens'")])
            }
            try ctx.param("weight", [ctx.int("vocab"), ctx.int("dim")])
            ctx.output = TensorType(ctx.input.shape + [Dim(ctx.int("dim"))], .float)
        },
        OpSpec(.mlp, "two-layer perceptron: fc1, activation, fc2 (timm Mlp)",
               positional: [ArgSpec("hidden", .int(min: 1), nil, "hidden width")],
               options: [ArgSpec("out", .int(min: 1), nil, "output width (default: input width)"),
                         ArgSpec("act", .choice(["gelu", "gelu_tanh", "relu", "silu"]), .word("gelu")), bias],
               shape: "[..., d] -> [..., out]", params: "fc1.weight [hidden, d], fc1.bias, fc2.weight [out, hidden], fc2.bias", macs: "tokens x (d x hidden + hidden x out)") { ctx in
            try ctx.requireFloat()
            let d = try ctx.known(ctx.input.shape.last!, "input width")
            let h = ctx.int("hidden"), o = ctx.optionalInt("out") ?? d
            try ctx.param("fc1.weight", [h, d])
            if ctx.bool("bias") { try ctx.param("fc1.bias", [h]) }
            try ctx.param("fc2.weight", [o, h])
            if ctx.bool("bias") { try ctx.param("fc2.bias", [o]) }
            let lead = leading(ctx.input.shape)
            try ctx.addMACs(lead + [Dim(d), Dim(h)])
            try ctx.addMACs(lead + [Dim(h), Dim(o)])
            try ctx.addOther(lead + [Dim(h)])
            ctx.output.shape[ctx.input.rank - 1] = Dim(o)
        },
        OpSpec(.swiglu, "gated feed-forward: w2(silu(w1 x) * w3 x) (LLaMA, Mixtral)",
               positional: [ArgSpec("hidden", .int(min: 1), nil, "hidden width")],
               options: [ArgSpec("out", .int(min: 1), nil, "output width (default: input width)"),
                         ArgSpec("bias", .bool, .bool(false)),
                         ArgSpec("names", .names, nil, "the gate (w1), up (w3) and down (w2) projections' names, in that order and in the parameters' order (LLaMA: names gate_proj up_proj down_proj)")],
               shape: "[..., d] -> [..., out]", params: "w1.weight [hidden, d], w2.weight [out, hidden], w3.weight [hidden, d]; with names G U D: G.weight [hidden, d], U.weight [hidden, d], D.weight [out, hidden]", macs: "tokens x (2 x d x hidden + hidden x out)") { ctx in
            try ctx.requireFloat()
            let d = try ctx.known(ctx.input.shape.last!, "input width")
            try swiglu(&ctx, prefix: "", names: try SwiGLUNames(ctx.args["names"]?.words), d: d, h: ctx.int("hidden"),
                       o: ctx.optionalInt("out") ?? d, bias: ctx.bool("bias"))
            try ctx.addMACs(leading(ctx.input.shape) + [Dim(swigluMACs(d, ctx.int("hidden"), ctx.optionalInt("out") ?? d))])
            ctx.output.shape[ctx.input.rank - 1] = Dim(ctx.optionalInt("out") ?? d)
        },
        OpSpec(.moe, "mixture of experts with a linear router and top-k gating (Mixtral's sparse MoE block)",
               positional: [ArgSpec("experts", .int(min: 1), nil, "number of experts")],
               options: [ArgSpec("top", .int(min: 1), .int(2), "experts used per token"),
                         ArgSpec("hidden", .int(min: 1), nil, "expert hidden width (required)"),
                         ArgSpec("expert", .choice(["swiglu", "mlp"]), .word("swiglu"), "expert kind")],
               shape: "[..., d] -> [..., d]",
               params: "gate.weight [experts, d]; experts.i.w1/w2/w3 (swiglu) or experts.i.fc1/fc2 (mlp)", macs: "tokens x (d x experts + top x one expert's MACs per token): the active experts only") { ctx in
            try ctx.requireFloat()
            let d = try ctx.known(ctx.input.shape.last!, "input width")
            let e = ctx.int("experts"), k = ctx.int("top")
            guard let h = ctx.optionalInt("hidden") else {
                throw OpError("moe needs 'hidden N', the width of each expert", notes: [.init("for example: moe \(e) top \(k) hidden \(d.multipliedReportingOverflow(by: 4).overflow ? d : d * 4)")], showsInput: false)
            }
            guard k <= e else { throw OpError("top \(k) is more than the \(e) experts", argument: "top", showsInput: false) }
            try ctx.reserveTensors(e.multipliedReportingOverflow(by: 4).overflow ? Int.max : e * 4, "\(e) experts")
            try ctx.param("gate.weight", [e, d])
            let perToken: Int
            for i in 0..<e {
                if ctx.word("expert") == "mlp" {
                    try ctx.param("experts.\(i).fc1.weight", [h, d]); try ctx.param("experts.\(i).fc1.bias", [h])
                    try ctx.param("experts.\(i).fc2.weight", [d, h]); try ctx.param("experts.\(i).fc2.bias", [d])
                } else {
                    try swiglu(&ctx, prefix: "experts.\(i).", names: SwiGLUNames(), d: d, h: h, o: d, bias: false)
                }
            }
            perToken = ctx.word("expert") == "mlp" ? try checkedMul(2, try checkedMul(d, h)) : try swigluMACs(d, h, d)
            let lead = leading(ctx.input.shape)
            try ctx.addMACs(lead + [Dim(d), Dim(e)])
            try ctx.addMACs(lead + [Dim(k), Dim(perToken)])
            if k == e { ctx.warn("top \(k) of \(e) experts routes every token to every expert; this is a dense layer", argument: "top") }
        },
    ]

    /// The parameters in the names' order: w1, w2, w3 (Mixtral's), or gate, up, down as named (LLaMA's).
    static func swiglu(_ ctx: inout OpContext, prefix: String, names: SwiGLUNames, d: Int, h: Int, o: Int, bias: Bool) throws {
        for (name, shape) in names.declared(d: d, hidden: h, out: o) {
            try ctx.param(prefix + name + ".weight", shape)
            if bias { try ctx.param(prefix + name + ".bias", [shape[0]]) }
        }
    }

    static func swigluMACs(_ d: Int, _ h: Int, _ o: Int) throws -> Int {
        try checkedAdd(try checkedMul(2, try checkedMul(d, h)), try checkedMul(h, o))
    }
}

/// The names of a SwiGLU's projections: the gate (w1: silu of it gates), up (w3) and down (w2).
public struct SwiGLUNames: Sendable, Equatable {
    public var gate = "w1", up = "w3", down = "w2"
    /// Whether they were named (`names gate_proj up_proj down_proj`): then declared gate, up, down.
    public var named = false

    public init() {}

    /// From `names G U D`, or the defaults.
    public init(_ names: [String]?) throws {
        guard let names else { return }
        guard names.count == 3 else {
            throw OpError("swiglu has 3 projections (gate, up, down), but 'names' lists \(names.count)",
                          notes: [.init("for example: names gate_proj up_proj down_proj (LLaMA's; the defaults are w1 w3 w2)")],
                          argument: "names", showsInput: false)
        }
        guard Set(names).count == 3 else {
            throw OpError("'names' lists a name twice; each projection needs its own name", argument: "names", showsInput: false)
        }
        (gate, up, down, named) = (names[0], names[1], names[2], true)
    }

    /// Names and shapes in the state_dict's order: Mixtral declares w1, w2, w3; LLaMA gate, up, down.
    public func declared(d: Int, hidden h: Int, out o: Int) -> [(String, [Int])] {
        named ? [(gate, [h, d]), (up, [h, d]), (down, [o, h])] : [(gate, [h, d]), (down, [o, h]), (up, [h, d])]
    }
}

/// The rules of `attention`: over tokens (self-attention, cross-attention to `memory` or from
/// `queries`, grouped-query heads, rotary positions, a key padding mask) and over Swin's windows.
extension OpSpec {
    /// Attention over tokens [b, n, d]: its sources, widths and heads checked, its projections declared
    /// as the layout and names say, its MACs counted.
    static func tokenAttention(_ ctx: inout OpContext, heads: Int) throws {
        try ctx.requireRank(3...3, "tokens [batch, sequence, width]")
        if ctx.has("memory") && ctx.has("queries") {
            throw OpError("attention takes keys and values from 'memory' or queries from 'queries', not both",
                          notes: [.init("'memory M': queries from the input, keys and values from M; 'queries Q': queries from Q, keys and values from the input")],
                          argument: "queries")
        }
        if ctx.int("shift") > 0 { throw OpError("shift needs window attention ('window N')", argument: "shift") }
        if ctx.bool("relpos") { throw OpError("relpos needs 'window N'", argument: "relpos") }
        for option in ["memory", "queries"] {
            guard let t = ctx.refs[option] else { continue }
            guard t.rank == 3, t.kind == .float else {
                throw OpError("\(option) must be tokens [batch, sequence, width] of floating-point features, got \(t.description)", argument: option)
            }
        }
        let source = ctx.refs["queries"] ?? ctx.input, keys = ctx.refs["memory"] ?? ctx.input
        let d = try ctx.known(source.shape[2], ctx.has("queries") ? "query width" : "token width")
        let dkv = try ctx.known(keys.shape[2], ctx.has("memory") ? "memory width" : "token width")
        let di = ctx.optionalInt("dim") ?? d, o = ctx.optionalInt("out") ?? d
        let dh = try headsDivide(heads, di, ctx.has("dim") ? "dim" : "width")
        let kvHeads = try keyValueHeads(ctx, heads: heads)
        let dk = try checkedMul(kvHeads, dh)
        let p = try AttentionProjections(layout: ctx.word("qkv") ?? "packed", names: ctx.args["names"]?.words,
                                         cross: ctx.has("memory") ? "memory" : ctx.has("queries") ? "queries" : nil)
        if p.layout == "fused" && d != dkv {
            throw OpError("qkv fused needs one input width, but the queries have \(d) and the keys \(dkv)",
                          notes: [.init("nn.MultiheadAttention's in_proj_weight projects both; use 'qkv separate' for two widths")], argument: "qkv")
        }
        try checkRotary(ctx, headWidth: dh, width: di, heads: heads)
        let bias = ctx.bool("bias")
        let outBias = ctx.has("outbias") ? ctx.bool("outbias") : bias
        try attentionParams(&ctx, p, dq: d, dkv: dkv, widths: (di, dk), o: o, bias: bias, outBias: outBias)
        if ctx.word("qknorm") != "off" { headNorms(&ctx, width: dh, layer: ctx.word("qknorm") == "layer", bias: bias, outBias: outBias) }
        let b = ctx.input.shape[0], n = source.shape[1], m = keys.shape[1]
        if let mask = ctx.refs["mask"] { try checkMask(mask, name: ctx.word("mask") ?? "", batch: b, keys: m) }
        try ctx.addMACs([b, n, Dim(d), Dim(di)])
        try ctx.addMACs([b, m, Dim(dkv), Dim(try checkedMul(2, dk))])
        try ctx.addMACs([b, n, m, Dim(try checkedMul(2, di))])
        try ctx.addMACs([b, n, Dim(di), Dim(o)])
        try ctx.addOther([b, Dim(heads), n, m])
        if ctx.word("rope") != "off" {
            try ctx.addOther([b, n, Dim(di)])
            try ctx.addOther([b, m, Dim(dk)])
        }
        ctx.output = TensorType([source.shape[0], n, Dim(o)], .float)
    }

    /// `kvheads`, which must divide `heads` (each key/value head serves heads / kvheads query heads).
    static func keyValueHeads(_ ctx: OpContext, heads: Int) throws -> Int {
        guard let kv = ctx.optionalInt("kvheads") else { return heads }
        guard heads % kv == 0 else {
            let divisors = (1...heads).filter { heads % $0 == 0 }.map(String.init)
            throw OpError("kvheads \(kv) does not divide heads \(heads)",
                          notes: [.init("each key/value head serves heads / kvheads query heads; kvheads may be \(divisors.joined(separator: ", "))")],
                          argument: "kvheads", showsInput: false)
        }
        return kv
    }

    /// Rotary embeddings turn pairs of a head's features: the head width must be even.
    static func checkRotary(_ ctx: OpContext, headWidth dh: Int, width: Int, heads: Int) throws {
        if ctx.word("rope") == "off" {
            if ctx.has("rope_base") { throw OpError("rope_base needs 'rope half' or 'rope interleaved'", argument: "rope_base", showsInput: false) }
            return
        }
        guard dh % 2 == 0 else {
            throw OpError("rope turns pairs of a head's features, but the head width \(width) / \(heads) = \(dh) is odd",
                          notes: [.init("choose dim and heads so that each head has an even width")], argument: "rope", showsInput: false)
        }
    }

    /// A key padding mask is [batch, keys]: 1 to attend to a key, 0 for padding.
    static func checkMask(_ mask: TensorType, name: String, batch: Dim, keys: Dim) throws {
        guard mask.shape == [batch, keys] else {
            throw OpError("the mask '\(name)' has shape \(describe(mask.shape)), but a key padding mask is [batch, keys] = \(describe([batch, keys]))",
                          notes: [.init("declare it as the keys are: 'input \(name) [seq]' gives [batch, seq]; 1 marks a key to attend to, 0 a padded one")],
                          argument: "mask")
        }
    }

    /// timm's order: the projections, q_norm, k_norm, the output projection: the norms go before it.
    static func headNorms(_ ctx: inout OpContext, width dh: Int, layer: Bool, bias: Bool, outBias: Bool) {
        let projIndex = ctx.params.count - (outBias ? 2 : 1)
        var norms: [ParamDecl] = []
        for n in ["q_norm", "k_norm"] {
            norms.append(ParamDecl(localName: n + ".weight", shape: [dh], isBuffer: false, isInteger: false))
            if layer && bias { norms.append(ParamDecl(localName: n + ".bias", shape: [dh], isBuffer: false, isInteger: false)) }
        }
        ctx.params.insert(contentsOf: norms, at: projIndex)
    }

    /// Swin's window attention: q, k, v packed at the input's width, no masks or norms of its own.
    static func windowAttention(_ ctx: inout OpContext, heads: Int) throws {
        for option in ["dim", "out", "memory", "queries", "mask", "kvheads", "names", "rope_base"] where ctx.has(option) {
            throw unsupportedInWindows(option)
        }
        for (option, given) in [("causal", ctx.bool("causal")), ("qknorm", ctx.word("qknorm") != "off"), ("rope", ctx.word("rope") != "off"),
                                ("qkv", (ctx.word("qkv") ?? "packed") != "packed")] where given {
            throw unsupportedInWindows(option)
        }
        try ctx.requireRank(4...4, "a grid [batch, height, width, channels] for window attention")
        let d = try ctx.known(ctx.input.shape.last!, "token width")
        _ = try headsDivide(heads, d, "width")
        if ctx.bool("relpos") {
            // Swin's table of biases for every relative offset, and the index into it for every pair of positions.
            let w = ctx.int("window")
            let span = try checkedSub(try checkedMul(2, w), 1)
            let positions = try checkedMul(w, w)
            try ctx.param("relative_position_bias_table", [try checkedMul(span, span), heads])
            try ctx.buffer("relative_position_index", [try checkedMul(positions, positions)], integer: true)
        }
        let bias = ctx.bool("bias")
        try attentionParams(&ctx, AttentionProjections(layout: "packed", names: nil), dq: d, dkv: d, widths: (d, d), o: d, bias: bias,
                            outBias: ctx.has("outbias") ? ctx.bool("outbias") : bias)
        let w = ctx.int("window")
        if ctx.int("shift") >= w { throw OpError("shift \(ctx.int("shift")) must be smaller than the window \(w)", argument: "shift", showsInput: false) }
        let b = ctx.input.shape[0]
        let gh = try ctx.input.shape[1].dividedCeil(by: w), gw = try ctx.input.shape[2].dividedCeil(by: w)
        let t = Dim(try checkedMul(w, w))
        let windows = [b, gh, gw]
        try ctx.addMACs(windows + [t, Dim(d), Dim(try checkedMul(3, d))])
        try ctx.addMACs(windows + [t, t, Dim(try checkedMul(2, d))])
        try ctx.addMACs(windows + [t, Dim(d), Dim(d)])
        try ctx.addOther(windows + [Dim(heads), t, t])
    }

    static func unsupportedInWindows(_ option: String) -> OpError {
        OpError("window attention does not take '\(option)'",
                notes: [.init("window attention is Swin's: q, k and v packed at the input's width, with only 'shift' and 'relpos'")],
                argument: option, showsInput: false)
    }
}

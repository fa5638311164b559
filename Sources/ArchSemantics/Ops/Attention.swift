/// Attention and token mixing: multi-head (windowed, causal, cross), gMLP's gating unit, Swin's patch merging.
extension OpSpec {
    static func headsDivide(_ heads: Int, _ d: Int, _ what: String) throws -> Int {
        guard d % heads == 0 else {
            throw OpError("heads \(heads) does not divide \(what) \(d)",
                          notes: [.init("nearby \(what)s that heads \(heads) divides: \(nearbyMultiples(of: heads, around: d))")], argument: "heads")
        }
        return d / heads
    }

    /// Projections of one attention, as `p` lays them out: q from width dq to `widths.q`, k and v from
    /// dkv to `widths.kv` each (fewer key/value heads than query heads: grouped-query attention); the
    /// output from `widths.q` to o.
    static func attentionParams(_ ctx: inout OpContext, prefix: String = "", _ p: AttentionProjections, dq: Int, dkv: Int,
                                widths: (q: Int, kv: Int), o: Int, bias: Bool, outBias: Bool) throws {
        for g in p.groups {
            var rows = 0
            for part in g.parts { rows = try checkedAdd(rows, part == .q ? widths.q : widths.kv) }
            try ctx.param(prefix + p.weight(g), [rows, g.parts[0] == .q ? dq : dkv])
            if bias { try ctx.param(prefix + p.bias(g), [rows]) }
        }
        try ctx.param(prefix + p.output + ".weight", [o, widths.q])
        if outBias { try ctx.param(prefix + p.output + ".bias", [o]) }
    }

    static let attentionOps: [OpSpec] = [
        OpSpec(.attention, "multi-head scaled dot-product attention with its projections",
               options: [ArgSpec("heads", .int(min: 1), nil, "number of heads (required)"),
                         ArgSpec("kvheads", .int(min: 1), nil, "key and value heads, dividing heads (grouped-query attention; 1: multi-query); default: heads"),
                         ArgSpec("dim", .int(min: 1), nil, "inner width of q, k, v (default: input width)"),
                         ArgSpec("out", .int(min: 1), nil, "output width (default: input width)"),
                         ArgSpec("bias", .bool, .bool(true), "bias on the q, k, v projections"),
                         ArgSpec("outbias", .bool, nil, "bias on the output projection (default: as bias)"),
                         ArgSpec("causal", .flag, .bool(false), "mask future positions (GPT)"),
                         ArgSpec("qknorm", .choice(["off", "layer", "rms"]), .word("off"), "normalise q and k per head (ViT-22B)"),
                         ArgSpec("rope", .choice(["off", "half", "interleaved"]), .word("off"),
                                 "rotary position embedding of q and k per head, after their projections and norms: half = the head's two halves rotated together (transformers' rotate_half: LLaMA), interleaved = pairs (0, 1), (2, 3), ... (GPT-J, RoFormer)"),
                         ArgSpec("rope_base", .float(min: 1, max: 1e12), nil, "the rotary base theta (default 10000; LLaMA 3: 500000)"),
                         ArgSpec("qkv", .choice(AttentionProjections.layouts), .word("packed"),
                                 "parameter layout: packed = qkv + proj (timm), fused = in_proj + out_proj (nn.MultiheadAttention), separate = q_proj, k_proj, v_proj, out_proj, q_kv = q, kv, proj (PVT, Twins), qk_v = qk, v, proj (TNT)"),
                         ArgSpec("names", .names, nil,
                                 "the projections' names, one per tensor of the layout and the output last (separate: names q_proj k_proj v_proj o_proj); dotted names are submodules"),
                         ArgSpec("window", .int(min: 1), nil, "attend within windows of window x window positions (Swin; input [b, h, w, d]; q, k, v packed at the input width; besides heads, only bias, outbias, shift and relpos)"),
                         ArgSpec("shift", .int(min: 0), .int(0), "cyclic shift of the windows (Swin's shifted windows)"),
                         ArgSpec("relpos", .flag, .bool(false), "learned relative position bias per head (Swin)"),
                         ArgSpec("memory", .ref, nil, "attend to an earlier tensor (cross-attention): keys and values come from it"),
                         ArgSpec("queries", .ref, nil, "take the queries from an earlier tensor; keys and values come from the layer's input (PVT's spatial reduction)"),
                         ArgSpec("mask", .ref, nil, "key padding mask: an input [batch, keys] of 1 (attend) and 0 (padding), as transformers' attention_mask; masked keys get -inf before the softmax")],
               shape: "[b, n, d] -> [b, n, out]; with queries Q [b, n, dq]: input [b, m, d] -> [b, n, out]; with window: [b, h, w, d] -> [b, h, w, out]",
               params: "packed: qkv.weight [dim + 2 kv, d], qkv.bias, proj.weight [out, dim], proj.bias, where kv = kvheads x dim / heads (the other layouts split qkv; names renames); qknorm: q_norm.weight, k_norm.weight [dim / heads]; relpos: relative_position_bias_table [(2 window - 1)^2, heads]",
               macs: "n x d x dim (q) + m x d_kv x 2 kv (k, v) + n x m x dim (QK^T) + n x m x dim (AV) + n x dim x out; m = n without memory; windowed: per window of window^2 positions") { ctx in
            try ctx.requireFloat()
            guard let heads = ctx.optionalInt("heads") else {
                throw OpError("attention needs 'heads N'", notes: [.init("for example: attention heads 12")])
            }
            if ctx.has("window") { try windowAttention(&ctx, heads: heads) } else { try tokenAttention(&ctx, heads: heads) }
        },
        OpSpec(.sgu, "gMLP's spatial gating unit: split channels into u, v; out = u * (proj over tokens (norm v)); aMLP adds tiny attention",
               positional: [ArgSpec("mode", .choice(["split"]), .word("split"))],
               options: [eps,
                         ArgSpec("attn", .int(min: 1), nil, "aMLP: width of a single-head tiny attention added to the gate"),
                         ArgSpec("from", .ref, nil, "aMLP: the tensor the tiny attention reads (default: the unit's input)")],
               shape: "[b, n, 2e] -> [b, n, e]",
               params: "norm.weight [e], norm.bias [e], proj.weight [n, n], proj.bias [n]; attn: attn.qkv.weight [3 attn, d], attn.qkv.bias, attn.proj.weight [e, attn], attn.proj.bias",
               macs: "e x n x n (the token projection); tiny attention: n x d x 3 attn + 2 x n x n x attn + n x attn x e") { ctx in
            let (b, nDim, d2) = try tokens(ctx)
            guard d2 % 2 == 0 else { throw OpError("sgu splits the width in two halves, but \(d2) is odd", notes: [.init("make the preceding linear's width even, e.g. \(d2 + 1)")]) }
            let e = d2 / 2
            let n = try ctx.known(nDim, "sequence length (its projection mixes all positions)")
            try ctx.param("norm.weight", [e]); try ctx.param("norm.bias", [e])
            try ctx.param("proj.weight", [n, n]); try ctx.param("proj.bias", [n])
            try ctx.addMACs([b, Dim(e), Dim(n), Dim(n)])
            try ctx.addOther([b, Dim(n), Dim(d2)])
            if let da = ctx.optionalInt("attn") {
                let src = ctx.refs["from"] ?? ctx.input
                guard src.rank == 3, src.shape[1] == nDim else {
                    throw OpError("tiny attention input \(describe(src.shape)) does not have the \(n) tokens of the gate", argument: "from")
                }
                let ds = try ctx.known(src.shape[2], "attention input width")
                try attentionParams(&ctx, prefix: "attn.", AttentionProjections(layout: "packed", names: nil), dq: ds, dkv: ds, widths: (da, da),
                                    o: e, bias: true, outBias: true)
                try ctx.addMACs([b, Dim(n), Dim(ds), Dim(try checkedMul(3, da))])
                try ctx.addMACs([b, Dim(n), Dim(n), Dim(try checkedMul(2, da))])
                try ctx.addMACs([b, Dim(n), Dim(da), Dim(e)])
            } else if ctx.has("from") {
                throw OpError("'from' names the tiny attention's input; add 'attn 64'", argument: "from")
            }
            ctx.output.shape = [b, nDim, Dim(e)]
        },
        OpSpec(.patchmerge, "Swin's patch merging: concatenate 2x2 neighbours, layernorm, linear 4c -> 2c",
               options: [eps],
               shape: "[b, h, w, c] -> [b, ceil(h / 2), ceil(w / 2), 2c]",
               params: "reduction.weight [2c, 4c], norm.weight [4c], norm.bias [4c]", macs: "(h / 2) (w / 2) x 4c x 2c") { ctx in
            try ctx.requireFloat()
            try ctx.requireRank(4...4, "a grid [batch, height, width, channels]")
            let c = try ctx.known(ctx.input.shape[3], "channel count")
            let c2 = try checkedMul(2, c), c4 = try checkedMul(4, c)
            try ctx.param("reduction.weight", [c2, c4])
            try ctx.param("norm.weight", [c4]); try ctx.param("norm.bias", [c4])
            let h = try ctx.input.shape[1].dividedCeil(by: 2), w = try ctx.input.shape[2].dividedCeil(by: 2)
            ctx.output.shape = [ctx.input.shape[0], h, w, Dim(c2)]
            try ctx.addMACs([ctx.input.shape[0], h, w, Dim(c4), Dim(c2)])
            try ctx.addOther([ctx.input.shape[0], h, w, Dim(c4)])
        },
    ]
}

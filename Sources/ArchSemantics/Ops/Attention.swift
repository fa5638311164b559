/// Attention and token mixing: multi-head (windowed, causal, cross), gMLP's gating unit, Swin's patch merging.
extension OpSpec {
    static func headsDivide(_ heads: Int, _ d: Int, _ what: String) throws -> Int {
        guard d % heads == 0 else {
            throw OpError("heads \(heads) does not divide \(what) \(d)",
                          notes: [.init("nearby \(what)s that heads \(heads) divides: \(nearbyMultiples(of: heads, around: d))")], argument: "heads")
        }
        return d / heads
    }

    /// Projections of one attention: q, k, v from widths dq and dkv to inner width di; output to o.
    static func attentionParams(_ ctx: inout OpContext, prefix: String = "", layout: String, dq: Int, dkv: Int, di: Int, o: Int,
                                bias: Bool, outBias: Bool) throws {
        switch layout {
        case "fused":
            guard dq == dkv else { throw OpError("qkv fused needs one input width", argument: "qkv") }
            try ctx.param(prefix + "in_proj_weight", [try checkedMul(3, di), dq])
            if bias { try ctx.param(prefix + "in_proj_bias", [try checkedMul(3, di)]) }
            try ctx.param(prefix + "out_proj.weight", [o, di])
            if outBias { try ctx.param(prefix + "out_proj.bias", [o]) }
        case "separate":
            for (n, w) in [("q_proj", dq), ("k_proj", dkv), ("v_proj", dkv)] {
                try ctx.param(prefix + n + ".weight", [di, w])
                if bias { try ctx.param(prefix + n + ".bias", [di]) }
            }
            try ctx.param(prefix + "out_proj.weight", [o, di])
            if outBias { try ctx.param(prefix + "out_proj.bias", [o]) }
        default:
            try ctx.param(prefix + "qkv.weight", [try checkedMul(3, di), dq])
            if bias { try ctx.param(prefix + "qkv.bias", [try checkedMul(3, di)]) }
            try ctx.param(prefix + "proj.weight", [o, di])
            if outBias { try ctx.param(prefix + "proj.bias", [o]) }
        }
    }

    static let attentionOps: [OpSpec] = [
        OpSpec(.attention, "multi-head scaled dot-product attention with its projections",
               options: [ArgSpec("heads", .int(min: 1), nil, "number of heads (required)"),
                         ArgSpec("dim", .int(min: 1), nil, "inner width of q, k, v (default: input width)"),
                         ArgSpec("out", .int(min: 1), nil, "output width (default: input width)"),
                         ArgSpec("bias", .bool, .bool(true), "bias on the q, k, v projections"),
                         ArgSpec("outbias", .bool, nil, "bias on the output projection (default: as bias)"),
                         ArgSpec("causal", .flag, .bool(false), "mask future positions (GPT)"),
                         ArgSpec("qknorm", .choice(["off", "layer", "rms"]), .word("off"), "normalise q and k per head (ViT-22B)"),
                         ArgSpec("qkv", .choice(["packed", "fused", "separate"]), .word("packed"),
                                 "parameter layout: packed = qkv + proj (timm), fused = in_proj + out_proj (nn.MultiheadAttention), separate = q_proj, k_proj, v_proj, out_proj"),
                         ArgSpec("window", .int(min: 1), nil, "attend within windows of window x window positions (Swin; input [b, h, w, d]; q, k, v packed at the input width, no dim, out, qknorm, causal or memory)"),
                         ArgSpec("shift", .int(min: 0), .int(0), "cyclic shift of the windows (Swin's shifted windows)"),
                         ArgSpec("relpos", .flag, .bool(false), "learned relative position bias per head (Swin)"),
                         ArgSpec("memory", .ref, nil, "attend to an earlier tensor (cross-attention): keys and values come from it")],
               shape: "[b, n, d] -> [b, n, out]; with window: [b, h, w, d] -> [b, h, w, out]",
               params: "packed: qkv.weight [3 dim, d], qkv.bias, proj.weight [out, dim], proj.bias; qknorm: q_norm.weight, k_norm.weight [dim / heads]; relpos: relative_position_bias_table [(2 window - 1)^2, heads]",
               macs: "n x d x dim (q) + m x d_kv x 2 dim (k, v) + n x m x dim (QK^T) + n x m x dim (AV) + n x dim x out; m = n without memory; windowed: per window of window^2 positions") { ctx in
            try ctx.requireFloat()
            guard let heads = ctx.optionalInt("heads") else {
                throw OpError("attention needs 'heads N'", notes: [.init("for example: attention heads 12")])
            }
            let windowed = ctx.has("window")
            if windowed {
                // Window attention is Swin's: packed q/k/v at the input's width, no masks or norms of its own.
                for (option, unsupported) in [("dim", ctx.has("dim")), ("out", ctx.has("out")), ("memory", ctx.has("memory")),
                                              ("causal", ctx.bool("causal")), ("qknorm", ctx.word("qknorm") != "off"),
                                              ("qkv", (ctx.word("qkv") ?? "packed") != "packed")] where unsupported {
                    throw OpError("window attention does not take '\(option)'", notes: [.init("window attention is Swin's: q, k and v packed at the input's width, with only 'shift' and 'relpos'")],
                                  argument: option, showsInput: false)
                }
            }
            try ctx.requireRank(windowed ? 4...4 : 3...3, windowed ? "a grid [batch, height, width, channels] for window attention" : "tokens [batch, sequence, width]")
            let d = try ctx.known(ctx.input.shape.last!, "token width")
            let di = ctx.optionalInt("dim") ?? d, o = ctx.optionalInt("out") ?? d
            let dh = try headsDivide(heads, di, ctx.has("dim") ? "dim" : "width")
            let layout = ctx.word("qkv") ?? "packed"
            let bias = ctx.bool("bias")
            let outBias = ctx.has("outbias") ? ctx.bool("outbias") : bias
            var dkv = d
            var m: Dim? = nil
            if ctx.has("memory") {
                let mem = ctx.refs["memory"]!
                guard mem.rank == 3 else { throw OpError("memory must be tokens [batch, sequence, width], got \(describe(mem.shape))", argument: "memory") }
                dkv = try ctx.known(mem.shape[2], "memory width")
                m = mem.shape[1]
            }
            if ctx.bool("relpos") {
                // Swin's table of biases for every relative offset, and the index into it for every pair of positions.
                guard let w = ctx.optionalInt("window") else { throw OpError("relpos needs 'window N'", argument: "relpos") }
                let span = try checkedSub(try checkedMul(2, w), 1)
                let positions = try checkedMul(w, w)
                try ctx.param("relative_position_bias_table", [try checkedMul(span, span), heads])
                try ctx.buffer("relative_position_index", [try checkedMul(positions, positions)], integer: true)
            }
            try attentionParams(&ctx, layout: m == nil ? layout : (layout == "packed" ? "separate" : layout), dq: d, dkv: dkv, di: di, o: o, bias: bias, outBias: outBias)
            if ctx.word("qknorm") != "off" {
                let ln = ctx.word("qknorm") == "layer"
                // timm's order: qkv, q_norm, k_norm, proj. Our list already has proj; insert before it.
                let projIndex = ctx.params.count - (outBias ? 2 : 1)
                var norms: [ParamDecl] = []
                for n in ["q_norm", "k_norm"] {
                    norms.append(ParamDecl(localName: n + ".weight", shape: [dh], isBuffer: false, isInteger: false))
                    if ln && bias { norms.append(ParamDecl(localName: n + ".bias", shape: [dh], isBuffer: false, isInteger: false)) }
                }
                ctx.params.insert(contentsOf: norms, at: projIndex)
            }
            let b = ctx.input.shape[0]
            if windowed {
                let w = ctx.int("window")
                if ctx.int("shift") >= w { throw OpError("shift \(ctx.int("shift")) must be smaller than the window \(w)", argument: "shift", showsInput: false) }
                let gh = try ctx.input.shape[1].dividedCeil(by: w), gw = try ctx.input.shape[2].dividedCeil(by: w)
                let t = Dim(try checkedMul(w, w))
                let windows = [b, gh, gw]
                try ctx.addMACs(windows + [t, Dim(d), Dim(try checkedMul(3, di))])
                try ctx.addMACs(windows + [t, t, Dim(try checkedMul(2, di))])
                try ctx.addMACs(windows + [t, Dim(di), Dim(o)])
                try ctx.addOther(windows + [Dim(heads), t, t])
                ctx.output.shape[3] = Dim(o)
            } else {
                let n = ctx.input.shape[1]
                let mm = m ?? n
                try ctx.addMACs([b, n, Dim(d), Dim(di)])
                try ctx.addMACs([b, mm, Dim(dkv), Dim(try checkedMul(2, di))])
                try ctx.addMACs([b, n, mm, Dim(try checkedMul(2, di))])
                try ctx.addMACs([b, n, Dim(di), Dim(o)])
                try ctx.addOther([b, Dim(heads), n, mm])
                ctx.output.shape[2] = Dim(o)
                if ctx.has("shift") && ctx.int("shift") > 0 { throw OpError("shift needs window attention ('window N')", argument: "shift") }
            }
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
                try attentionParams(&ctx, prefix: "attn.", layout: "packed", dq: ds, dkv: ds, di: da, o: e, bias: true, outBias: true)
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

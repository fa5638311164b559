import ArchSemantics
import ArchKernels

/// Attention and token mixing: multi-head attention (self and cross, every parameter layout, q/k
/// norms), Swin's window attention, gMLP's gating unit, Swin's patch merging. Each is a few kernel
/// calls: projections on the GEMM, the attention kernel reading q, k and v in place.
extension Lowering {
    /// The names of an attention's projections in each parameter layout.
    struct ProjectionNames {
        var query: [String], keyValue: [String], output: String
        static func of(_ layout: String, cross: Bool) -> ProjectionNames {
            switch (layout, cross) {
            case ("fused", false): return ProjectionNames(query: ["in_proj_weight"], keyValue: [], output: "out_proj")
            case ("packed", false): return ProjectionNames(query: ["qkv"], keyValue: [], output: "proj")
            case (_, false): return ProjectionNames(query: ["q_proj", "k_proj", "v_proj"], keyValue: [], output: "out_proj")
            case (_, true): return ProjectionNames(query: ["q_proj"], keyValue: ["k_proj", "v_proj"], output: "out_proj")
            }
        }
    }

    /// The weight and bias of projections side by side (one GEMM computes them all).
    mutating func projection(_ names: [String], path: String) throws -> (weight: Int, bias: Int?) {
        if names == ["in_proj_weight"] { return (try required("in_proj_weight"), param("in_proj_bias")) }
        let weights = try names.map { try required($0 + ".weight") }
        let biases = names.compactMap { param($0 + ".bias") }
        let joined = names.joined(separator: "|")
        return (concatenated(weights, name: "\(path).\(joined).weight"),
                biases.count == names.count ? concatenated(biases, name: "\(path).\(joined).bias") : nil)
    }

    mutating func lowerAttention(_ n: Graph.Node) throws {
        let x = n.inputs[0], s = shape(x), (b, tokens, d) = (s[0], s[1], s[2])
        let heads = n.int("heads")!, di = n.int("dim") ?? d, dh = di / heads
        let memory = n.inputs.count > 1 ? n.inputs[1] : nil
        let names = ProjectionNames.of(n.word("qkv") ?? "packed", cross: memory != nil)
        let path = n.path.joined(separator: ".")
        var call = AttentionCall(shape: AttentionKernel.Shape(batch: b, heads: heads, kvHeads: heads, n: tokens, m: tokens, dh: dh,
                                                              causal: n.bool("causal")))
        let q = try projection(names.query, path: path)
        let qWidth = memory == nil ? 3 * di : di
        let qv = value([b, tokens, qWidth])
        linear(x, rows: b * tokens, inFeatures: d, outFeatures: qWidth, weight: q.weight, bias: q.bias, into: qv)
        (call.q, call.ldq) = (qv, qWidth)
        if let memory {
            let ms = shape(memory)
            let kv = try projection(names.keyValue, path: path), kvv = value([b, ms[1], 2 * di])
            linear(memory, rows: b * ms[1], inFeatures: ms[2], outFeatures: 2 * di, weight: kv.weight, bias: kv.bias, into: kvv)
            call.shape.m = ms[1]
            (call.k, call.kOffset, call.ldk, call.v, call.vOffset, call.ldv) = (kvv, 0, 2 * di, kvv, di, 2 * di)
        } else {
            (call.k, call.kOffset, call.ldk, call.v, call.vOffset, call.ldv) = (qv, di, qWidth, qv, 2 * di, qWidth)
        }
        if let norm = n.word("qknorm"), norm != "off" {
            (call.q, call.qOffset, call.ldq) = headNorm(call.q, offset: 0, ld: call.ldq, rows: b * tokens, heads: heads, dh: dh,
                                                         rms: norm == "rms", prefix: "q_norm")
            (call.k, call.kOffset, call.ldk) = headNorm(call.k, offset: call.kOffset, ld: call.ldk, rows: b * call.shape.m, heads: heads,
                                                         dh: dh, rms: norm == "rms", prefix: "k_norm")
        }
        let ctx = value([b, tokens, di])
        call.output = ctx
        emit(.attention(call))
        linear(ctx, rows: b * tokens, inFeatures: di, outFeatures: shape(n.output).last!, weight: try required(names.output + ".weight"),
               bias: param(names.output + ".bias"), into: n.output)
    }

    /// Each head's slice of a q or k projection normalised on its own (ViT-22B) into a new value
    /// [rows, heads dh], with nn.LayerNorm's or nn.RMSNorm's default eps (the norms take no eps of
    /// their own). Returns where the attention then reads it.
    mutating func headNorm(_ v: Int, offset: Int, ld: Int, rows: Int, heads: Int, dh: Int, rms: Bool, prefix: String)
        -> (value: Int, offset: Int, ld: Int) {
        let normed = value([rows, heads * dh])
        emit(.norm(NormCall(shape: Elementwise.Rows(rows: rows * heads, width: dh, segments: heads, lds: ld, ldd: heads * dh), rms: rms,
                            eps: Float(rms ? OpSpec.rmsNormEps : OpSpec.layerNormEps), weight: param(prefix + ".weight"),
                            bias: param(prefix + ".bias"), input: v, inputOffset: offset, output: normed)))
        return (normed, 0, heads * dh)
    }

    mutating func lowerWindowAttention(_ n: Graph.Node) throws {
        let x = n.inputs[0], s = shape(x), c = s[3]
        let grid = WindowAttention.Grid(batch: s[0], height: s[1], width: s[2], channels: c, window: n.int("window")!,
                                        shift: n.int("shift") ?? 0, heads: n.int("heads")!)
        let t = grid.tokens, rows = grid.windows * t
        let tokens = value([grid.windows, t, c]), qkv = value([grid.windows, t, 3 * c])
        let ctx = value([grid.windows, t, c]), projected = value([grid.windows, t, c])
        emit(.windowPartition(WindowPartitionCall(grid: grid, input: x, output: tokens)))
        linear(tokens, rows: rows, inFeatures: c, outFeatures: 3 * c, weight: try required("qkv.weight"), bias: param("qkv.bias"), into: qkv)
        let bias = try n.bool("relpos") ? derived("\(n.path.joined(separator: ".")).relative_position_bias", count: grid.heads * t * t,
                                                   .relativeBias(table: required("relative_position_bias_table"), window: grid.window,
                                                                 heads: grid.heads)) : nil
        emit(.windowAttention(WindowAttentionCall(grid: grid, qkv: qkv, output: ctx, bias: bias)))
        linear(ctx, rows: rows, inFeatures: c, outFeatures: c, weight: try required("proj.weight"), bias: param("proj.bias"), into: projected)
        emit(.windowMerge(WindowMergeCall(grid: grid, input: projected, output: n.output)))
    }

    /// gMLP's gating unit: v (the second half of the channels) normalised, projected over the
    /// tokens and multiplied by u (the first half, read in place). aMLP adds a single-head tiny
    /// attention of the unit's input (or `from`) to the projection before the gate.
    mutating func lowerSpatialGating(_ n: Graph.Node) throws {
        let x = n.inputs[0], s = shape(x), (b, tokens, e) = (s[0], s[1], s[2] / 2)
        let normed = value([b, tokens, e])
        emit(.norm(NormCall(shape: Elementwise.Rows(rows: b * tokens, width: e, lds: 2 * e, ldd: e), eps: n.float("eps")!,
                            weight: param("norm.weight"), bias: param("norm.bias"), input: x, inputOffset: e, output: normed)))
        let (w, bias) = (try required("proj.weight"), try required("proj.bias"))
        guard let da = n.int("attn") else {
            emit(.tokenMix(TokenMixCall(batch: b, tokens: tokens, width: e, input: normed, output: n.output, weight: w, bias: bias,
                                        gate: x, ldGate: 2 * e)))
            return
        }
        let mixed = value([b, tokens, e]), attended = value([b, tokens, e])
        emit(.tokenMix(TokenMixCall(batch: b, tokens: tokens, width: e, input: normed, output: mixed, weight: w, bias: bias)))
        let src = n.inputs.count > 1 ? n.inputs[1] : x, ds = shape(src).last!
        let qkv = value([b, tokens, 3 * da]), ctx = value([b, tokens, da])
        linear(src, rows: b * tokens, inFeatures: ds, outFeatures: 3 * da, weight: try required("attn.qkv.weight"), bias: param("attn.qkv.bias"),
               into: qkv)
        emit(.attention(AttentionCall(shape: AttentionKernel.Shape(batch: b, heads: 1, kvHeads: 1, n: tokens, m: tokens, dh: da, causal: false),
                                      q: qkv, ldq: 3 * da, k: qkv, kOffset: da, ldk: 3 * da, v: qkv, vOffset: 2 * da, ldv: 3 * da, output: ctx)))
        emit(.linear(LinearCall(rows: b * tokens, inFeatures: da, outFeatures: e, input: ctx, output: attended,
                                weight: try required("attn.proj.weight"), bias: param("attn.proj.bias"), residual: mixed)))
        let out = [b, tokens, e]
        emit(.binary(BinaryCall(op: .mul, shape: out, lhsStrides: BinaryCall.strides(of: out, broadcastTo: out),
                                rhsStrides: [tokens * 2 * e, 2 * e, 1], lhs: attended, rhs: x, output: n.output)))
    }

    /// Swin's patch merging: 2x2 neighbours side by side, layernorm, linear 4c -> 2c.
    mutating func lowerPatchMerge(_ n: Graph.Node) throws {
        let x = n.inputs[0], s = shape(x), out = shape(n.output), c = s[3]
        let gathered = value([s[0], out[1], out[2], 4 * c]), normed = value([s[0], out[1], out[2], 4 * c])
        let rows = s[0] * out[1] * out[2]
        emit(.patchMergeGather(PatchMergeGatherCall(batch: s[0], height: s[1], width: s[2], channels: c, input: x, output: gathered)))
        emit(.norm(NormCall(shape: Elementwise.Rows(rows: rows, width: 4 * c, lds: 4 * c, ldd: 4 * c), eps: n.float("eps")!,
                            weight: param("norm.weight"), bias: param("norm.bias"), input: gathered, output: normed)))
        linear(normed, rows: rows, inFeatures: 4 * c, outFeatures: 2 * c, weight: try required("reduction.weight"), bias: nil, into: n.output)
    }
}

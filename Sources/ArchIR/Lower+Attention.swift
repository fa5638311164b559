import ArchSemantics
import ArchKernels

/// Attention and token mixing: multi-head attention (self and cross, every parameter layout and
/// projection name, grouped-query heads, q/k norms, rotary positions, a key padding mask), Swin's
/// window attention, gMLP's gating unit, Swin's patch merging. Each is a few kernel calls: projections
/// on the GEMM, the attention kernel reading q, k and v in place.
extension Lowering {
    mutating func lowerAttention(_ n: Graph.Node) throws {
        let operands = AttentionOperands(n)
        let (qs, ks) = (shape(operands.queries), shape(operands.keys))
        let (b, tokens, m) = (qs[0], qs[1], ks[1])
        let heads = n.int("heads")!, kvHeads = n.int("kvheads") ?? heads
        let di = n.int("dim") ?? qs[2], dh = di / heads
        let p = try AttentionProjections(layout: n.word("qkv") ?? "packed", names: n.args["names"]?.words, cross: operands.cross)
        var call = AttentionCall(shape: AttentionKernel.Shape(batch: b, heads: heads, kvHeads: kvHeads, n: tokens, m: m, dh: dh,
                                                              causal: n.bool("causal")), mask: operands.mask)
        let order = Self.order(n)
        try project(p, operands, widths: (di, kvHeads * dh), order: order, into: &call)
        if let norm = n.word("qknorm"), norm != "off" {
            (call.q, call.qOffset, call.ldq) = headNorm(call.q, offset: call.qOffset, ld: call.ldq, rows: b * tokens, heads: heads, dh: dh,
                                                         rms: norm == "rms", prefix: "q_norm")
            (call.k, call.kOffset, call.ldk) = headNorm(call.k, offset: call.kOffset, ld: call.ldk, rows: b * m, heads: kvHeads,
                                                         dh: dh, rms: norm == "rms", prefix: "k_norm")
        }
        if let pairing = n.word("rope").flatMap(Rotary.Pairing.init(rawValue:)) { rotate(&call, pairing, base: ropeBase(n)) }
        let ctx = value([b, tokens, di])
        call.output = ctx
        emit(.attention(call))
        linear(ctx, rows: b * tokens, inFeatures: di, outFeatures: shape(n.output).last!, weight: try required(p.output + ".weight"),
               bias: param(p.output + ".bias"), into: n.output, order: order)
    }

    /// q, k and v projected: one GEMM for the three when they read one tensor (their weights side by
    /// side, whatever the layout), else one for q and one for k and v. The attention reads each as a
    /// column slice of its GEMM's output.
    mutating func project(_ p: AttentionProjections, _ o: AttentionOperands, widths: (q: Int, kv: Int), order: WeightOrder,
                          into call: inout AttentionCall) throws {
        let (b, n, m) = (call.shape.batch, call.shape.n, call.shape.m)
        let (dq, dkv) = (shape(o.queries).last!, shape(o.keys).last!)
        if o.cross == nil {
            let width = widths.q + 2 * widths.kv, qkv = value([b, n, width])
            let w = try projectionRows(p, parts: [.q, .k, .v], widths: widths, inFeatures: dq, order: order)
            linear(o.queries, rows: b * n, inFeatures: dq, outFeatures: width, weight: w.weight, bias: w.bias, into: qkv, order: order)
            (call.q, call.ldq) = (qkv, width)
            (call.k, call.kOffset, call.ldk, call.v, call.vOffset, call.ldv) = (qkv, widths.q, width, qkv, widths.q + widths.kv, width)
            return
        }
        let qv = value([b, n, widths.q]), kv = value([b, m, 2 * widths.kv])
        let wq = try projectionRows(p, parts: [.q], widths: widths, inFeatures: dq, order: order)
        linear(o.queries, rows: b * n, inFeatures: dq, outFeatures: widths.q, weight: wq.weight, bias: wq.bias, into: qv, order: order)
        let wkv = try projectionRows(p, parts: [.k, .v], widths: widths, inFeatures: dkv, order: order)
        linear(o.keys, rows: b * m, inFeatures: dkv, outFeatures: 2 * widths.kv, weight: wkv.weight, bias: wkv.bias, into: kv, order: order)
        (call.q, call.ldq) = (qv, widths.q)
        (call.k, call.kOffset, call.ldk, call.v, call.vOffset, call.ldv) = (kv, 0, 2 * widths.kv, kv, widths.kv, 2 * widths.kv)
    }

    /// The weight rows (and bias) of `parts` of the projections as one constant: the tensors holding
    /// them side by side, or the rows of one that holds more (nn.MultiheadAttention's in_proj_weight,
    /// whose q rows apply to the queries and k, v rows to the memory in cross-attention). Weights
    /// stored [in, out] (`weights conv1d`) hold the projections in columns: those columns side by side.
    mutating func projectionRows(_ p: AttentionProjections, parts: [AttentionProjections.Part], widths: (q: Int, kv: Int),
                                 inFeatures: Int, order: WeightOrder) throws -> (weight: Int, bias: Int?) {
        func rows(_ ps: [AttentionProjections.Part]) -> Int { ps.reduce(0) { $0 + ($1 == .q ? widths.q : widths.kv) } }
        let path = current.path.joined(separator: ".")
        var ranges: [ColumnRange] = [], biases: [Int?] = [], names: [String] = []
        for g in p.groups {
            let wanted = g.parts.filter(parts.contains)
            guard !wanted.isEmpty else { continue }
            var bias = param(p.bias(g))
            let before = rows(Array(g.parts.prefix { !parts.contains($0) })), count = rows(wanted)
            ranges.append(ColumnRange(constant: try required(p.weight(g)), width: rows(g.parts), start: before, count: count))
            if wanted.count < g.parts.count {
                let which = wanted.map(\.rawValue).joined()
                bias = bias.map { derived("\(path).\(p.bias(g)) (\(which) rows)", count: count, .slice($0, start: before, count: count)) }
            }
            biases.append(bias)
            names.append(g.name)
        }
        let joined = "\(path).\(names.joined(separator: "|"))"
        let bias = biases.allSatisfy { $0 != nil } ? concatenated(biases.compactMap { $0 }, name: joined + ".bias") : nil
        return (weightRows(ranges, inFeatures: inFeatures, order: order, name: joined + ".weight"), bias)
    }

    /// Output features `start..<start + count` of each weight, side by side as one weight: for [out, in]
    /// weights their rows one after the other (a slice where a tensor holds more), for [in, out] weights
    /// their columns; a whole single tensor is itself.
    mutating func weightRows(_ ranges: [ColumnRange], inFeatures: Int, order: WeightOrder, name: String) -> Int {
        if ranges.count == 1, ranges[0].start == 0, ranges[0].count == ranges[0].width { return ranges[0].constant }
        let total = ranges.reduce(0) { $0 + $1.count } * inFeatures
        switch order {
        case .inOut:
            return derived(name, count: total, .columns(ranges, rows: inFeatures))
        case .outIn:
            let parts = ranges.map { r in
                r.start == 0 && r.count == r.width ? r.constant
                    : derived("\(program.constants[r.constant].name) (rows \(r.start)..<\(r.start + r.count))", count: r.count * inFeatures,
                              .slice(r.constant, start: r.start * inFeatures, count: r.count * inFeatures))
            }
            return concatenated(parts, name: name)
        }
    }

    /// The rotary base: `rope_base`, or RoFormer's 10000.
    func ropeBase(_ n: Graph.Node) -> Double {
        switch n.args["rope_base"] {
        case .float(let x)?: return x
        case .int(let v)?: return Double(v)
        default: return 10000
        }
    }

    /// Rotary embeddings of q and k per head, into new values the attention then reads. Keys are at
    /// positions 0..<m; queries at the last n of them (m - n on), as a causal mask places them; the
    /// table (one constant for every layer of the same sizes) covers both.
    mutating func rotate(_ call: inout AttentionCall, _ pairing: Rotary.Pairing, base: Double) {
        let s = call.shape
        let lo = min(0, s.m - s.n), hi = max(s.n, s.m)
        let table = derived("rope.table[\(lo)..<\(hi), \(s.dh)] (base \(base))", count: (hi - lo) * s.dh,
                            .rotary(positions: hi - lo, start: lo, width: s.dh, base: base))
        func turn(_ v: Int, offset: Int, ld: Int, rows: Int, heads: Int, start: Int) -> (Int, Int, Int) {
            let out = value([s.batch * rows, heads * s.dh])
            emit(.rotary(RotaryCall(shape: Rotary.Shape(batch: s.batch, rows: rows, heads: heads, dh: s.dh), pairing: pairing,
                                    input: v, inputOffset: offset, ld: ld, output: out, table: table, start: start)))
            return (out, 0, heads * s.dh)
        }
        (call.q, call.qOffset, call.ldq) = turn(call.q, offset: call.qOffset, ld: call.ldq, rows: s.n, heads: s.heads, start: s.m - s.n - lo)
        (call.k, call.kOffset, call.ldk) = turn(call.k, offset: call.kOffset, ld: call.ldk, rows: s.m, heads: s.kvHeads, start: -lo)
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
        let bias = try n.bool("relpos") ? derived("\(n.path.joined(separator: ".")).relative_position_bias",
                                                   count: WindowAttention.biasCount(window: grid.window, heads: grid.heads),
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

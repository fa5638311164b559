import ArchSemantics
import ArchIR

/// Multi-head attention as MatMul / Softmax, in the spec's parameter layout: q, k and v projected by
/// the layout's tensors under their names (one GEMM per tensor, split where it holds several), split
/// into heads [b, heads, n, dh] (k and v with kvheads heads), per-head q/k norms, rotary positions,
/// softmax(q kᵀ / sqrt(dh) + masks) v, heads merged, projected out.
extension Exporter {
    mutating func attention(_ n: Graph.Node) throws {
        let o = AttentionOperands(n)
        let heads = try arg(n.int("heads"), "heads"), kvHeads = n.int("kvheads") ?? heads
        let di = try n.int("dim") ?? known(o.queries, "the queries' width", from: 2)[0], dh = di / heads
        let p: AttentionProjections
        do { p = try AttentionProjections(layout: n.word("qkv") ?? "packed", names: n.args["names"]?.words, cross: o.cross) } catch {
            throw ExportError("internal error: \(n.op) at \(n.loc.description) has a layout its check refused", notes: ["this is a bug in archc; please report it with the spec"])
        }
        let layout = WeightLayout(n.args)
        let projected = try projections(p, o, widths: (di, kvHeads * dh), layout: layout)
        var (q, k, v) = (split(projected.q, heads: heads, dh: dh), split(projected.k, heads: kvHeads, dh: dh), split(projected.v, heads: kvHeads, dh: dh))
        if let norm = n.word("qknorm"), norm != "off" {
            q = try headNorm(q, rms: norm == "rms", prefix: "q_norm", dh: dh)
            k = try headNorm(k, rms: norm == "rms", prefix: "k_norm", dh: dh)
        }
        let (queries, keys) = (shape(o.queries)[1], shape(o.keys)[1])
        if let rope = n.word("rope"), rope != "off" {
            let base = ropeBase(n)
            q = try rotate(q, interleaved: rope == "interleaved", dh: dh, base: base, positions: .queries(queries, of: keys))
            k = try rotate(k, interleaved: rope == "interleaved", dh: dh, base: base, positions: .keys(keys))
        }
        let context = try attend(q, k, v, dh: dh, heads: heads, kvHeads: kvHeads, causal: n.bool("causal"), mask: o.mask,
                                 queries: queries, keys: keys)
        linear(merge(context, width: di), rank: 3, weight: try required(p.output + ".weight"), bias: param(p.output + ".bias"),
               layout: layout, into: out)
    }

    /// q, k and v [b, tokens, width], each from its tensor: one linear layer per weight tensor of the
    /// layout, split when it holds several; a tensor whose rows apply to two inputs (nn.MultiheadAttention's
    /// in_proj_weight across to a memory) is sliced by rows (by columns when stored [in, out], `weights conv1d`).
    mutating func projections(_ p: AttentionProjections, _ o: AttentionOperands, widths: (q: Int, kv: Int), layout: WeightLayout) throws
        -> (q: String, k: String, v: String) {
        var parts: [AttentionProjections.Part: String] = [:]
        func width(_ part: AttentionProjections.Part) -> Int { part == .q ? widths.q : widths.kv }
        func source(_ part: AttentionProjections.Part) -> Int { part == .q ? o.queries : o.keys }
        for g in p.groups {
            let (w, bias) = (try required(p.weight(g)), param(p.bias(g)))
            if Set(g.parts.map(source)).count == 1 {
                let y = linear(try name(source(g.parts[0])), rank: 3, weight: w, bias: bias, layout: layout)
                let pieces = g.parts.count == 1 ? [y] : b.add("Split", [y, b.ints(g.parts.map(width))], [.i("axis", -1)], outputs: g.parts.count)
                for (part, piece) in zip(g.parts, pieces) { parts[part] = piece }
                continue
            }
            var row = 0
            let axis: Int
            switch layout {
            case .linear: axis = 0
            case .conv1d: axis = 1
            }
            for part in g.parts {
                let rows = (b.ints([row]), b.ints([row + width(part)]))
                let wp = b.op("Slice", [w, rows.0, rows.1, b.ints([axis])]), bp = bias.map { b.op("Slice", [$0, rows.0, rows.1, b.ints([0])]) }
                parts[part] = linear(try name(source(part)), rank: 3, weight: wp, bias: bp, layout: layout)
                row += width(part)
            }
        }
        guard let q = parts[.q], let k = parts[.k], let v = parts[.v] else {
            throw ExportError("internal error: an attention layout without q, k or v", notes: ["this is a bug in archc; please report it with the spec"])
        }
        return (q, k, v)
    }

    /// [b, n, heads dh] -> [b, heads, n, dh].
    mutating func split(_ x: String, heads: Int, dh: Int) -> String {
        transpose(reshape(x, [0, 0, heads, dh]), [0, 2, 1, 3])
    }

    /// [b, n, 3 heads dh] (q, k, v side by side) -> q, k, v, each [b, heads, n, dh].
    mutating func splitPacked(_ x: String, heads: Int, dh: Int) -> (String, String, String) {
        let parts = transpose(reshape(x, [0, 0, 3, heads, dh]), [2, 0, 3, 1, 4])
        let pick = { (e: inout Exporter, i: Int) in e.b.op("Gather", [parts, e.b.intScalar(i)], [.i("axis", 0)]) }
        return (pick(&self, 0), pick(&self, 1), pick(&self, 2))
    }

    /// [b, heads, n, dh] -> [b, n, width].
    mutating func merge(_ x: String, width: Int) -> String {
        reshape(transpose(x, [0, 2, 1, 3]), [0, 0, width])
    }

    /// Each head's q or k normalised on its own (ViT-22B) with nn.LayerNorm's or nn.RMSNorm's default eps.
    mutating func headNorm(_ x: String, rms: Bool, prefix: String, dh: Int) throws -> String {
        if rms { return try rmsnorm(x, eps: Float(OpSpec.rmsNormEps), weight: param(prefix + ".weight"), into: nil) }
        let scale = param(prefix + ".weight") ?? filled(1, dh, "ones")
        return b.op("LayerNormalization", [x, scale] + (param(prefix + ".bias").map { [$0] } ?? []),
                    [.i("axis", -1), .f("epsilon", Float(OpSpec.layerNormEps))])
    }

    /// The rotary base: `rope_base`, or RoFormer's 10000.
    func ropeBase(_ n: Graph.Node) -> Double {
        switch n.args["rope_base"] {
        case .float(let x)?: return x
        case .int(let v)?: return Double(v)
        default: return 10000
        }
    }
}

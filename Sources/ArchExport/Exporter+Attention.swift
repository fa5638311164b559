import ArchSemantics
import ArchIR

/// Multi-head attention as MatMul / Softmax, in the spec's parameter layouts: q, k and v projected
/// (one GEMM for a packed `qkv` or fused `in_proj_weight`, three for separate projections), split
/// into heads [b, heads, n, dh], softmax(q kᵀ / sqrt(dh) + mask) v, heads merged, projected out.
extension Exporter {
    mutating func attention(_ n: Graph.Node) throws {
        let x = try input(n), d = try channels(n, axis: -1)
        let heads = try arg(n.int("heads"), "heads"), di = n.int("dim") ?? d, dh = di / heads
        let memory = n.inputs.count > 1 ? n.inputs[1] : nil
        let layout = n.word("qkv") ?? "packed"
        var (q, k, v): (String, String, String)
        if let memory {
            let m = try name(memory)
            q = split(linear(x, rank: 3, weight: try required("q_proj.weight"), bias: param("q_proj.bias")), heads: heads, dh: dh)
            k = split(linear(m, rank: 3, weight: try required("k_proj.weight"), bias: param("k_proj.bias")), heads: heads, dh: dh)
            v = split(linear(m, rank: 3, weight: try required("v_proj.weight"), bias: param("v_proj.bias")), heads: heads, dh: dh)
        } else if layout == "separate" {
            q = split(linear(x, rank: 3, weight: try required("q_proj.weight"), bias: param("q_proj.bias")), heads: heads, dh: dh)
            k = split(linear(x, rank: 3, weight: try required("k_proj.weight"), bias: param("k_proj.bias")), heads: heads, dh: dh)
            v = split(linear(x, rank: 3, weight: try required("v_proj.weight"), bias: param("v_proj.bias")), heads: heads, dh: dh)
        } else {
            let fused = layout == "fused"
            let packed = linear(x, rank: 3, weight: try required(fused ? "in_proj_weight" : "qkv.weight"),
                                bias: param(fused ? "in_proj_bias" : "qkv.bias"))
            (q, k, v) = splitPacked(packed, heads: heads, dh: dh)
        }
        if let norm = n.word("qknorm"), norm != "off" {
            q = try headNorm(q, rms: norm == "rms", prefix: "q_norm", dh: dh)
            k = try headNorm(k, rms: norm == "rms", prefix: "k_norm", dh: dh)
        }
        let keys = memory.map { shape($0)[1] } ?? shape(n.inputs[0])[1]
        let context = try attend(q, k, v, dh: dh, causal: n.bool("causal"), queries: shape(n.inputs[0])[1], keys: keys)
        let projection = memory != nil || layout != "packed" ? "out_proj" : "proj"
        linear(merge(context, width: di), rank: 3, weight: try required(projection + ".weight"), bias: param(projection + ".bias"), into: out)
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

    /// softmax(q kᵀ / sqrt(dh) [+ causal mask]) v on [..., n, dh] x [..., m, dh].
    mutating func attend(_ q: String, _ k: String, _ v: String, dh: Int, causal: Bool, queries: Dim, keys: Dim,
                         bias: String? = nil) throws -> String {
        var scores = b.op("Mul", [b.op("MatMul", [q, transpose(k, [0, 1, 3, 2])]), b.scalar(1 / Float(dh).squareRoot())])
        if let bias { scores = b.op("Add", [scores, bias]) }
        if causal { scores = b.op("Add", [scores, try causalMask(queries, keys)]) }
        return b.op("MatMul", [b.op("Softmax", [scores], [.i("axis", -1)]), v])
    }

    /// [n, m]: 0 where query i may see key j (j <= i + m - n), -inf past it. A constant for known
    /// sizes, else made from Range at run time; one per pair of sizes, shared by the layers.
    mutating func causalMask(_ n: Dim, _ m: Dim) throws -> String {
        let key = "causal \(n) \(m)"
        if let mask = shared[key] { return mask }
        let mask: String
        if let rows = n.value, let cols = m.value {
            var values = [Float](repeating: 0, count: rows * cols)
            for i in 0..<rows { for j in 0..<cols where j > i + cols - rows { values[i * cols + j] = -.infinity } }
            mask = b.floats(values, dims: [rows, cols], name: "causal_mask[\(rows),\(cols)]")
        } else {
            let (rows, cols) = (try scalarSize(n), try scalarSize(m))
            let i = b.op("Range", [b.intScalar(0), rows, b.intScalar(1)]), j = b.op("Range", [b.intScalar(0), cols, b.intScalar(1)])
            let last = b.op("Add", [i, b.op("Sub", [cols, rows])])
            let hidden = b.op("Greater", [b.op("Unsqueeze", [j, b.ints([0])]), b.op("Unsqueeze", [last, b.ints([1])])])
            mask = b.op("Where", [hidden, b.scalar(-.infinity), b.scalar(0)], out: b.reserve("causal_mask"))
        }
        shared[key] = mask
        return mask
    }

    /// gMLP's gating unit: u * (proj over the tokens (layernorm v) + bias), u and v the two halves of
    /// the channels; aMLP adds a single-head tiny attention of the input (or `from`) before the gate.
    mutating func spatialGating(_ n: Graph.Node) throws {
        let x = try input(n), e = try channels(n, axis: -1) / 2
        let u = b.op("Slice", [x, b.ints([0]), b.ints([e]), b.ints([-1])])
        let v = b.op("Slice", [x, b.ints([e]), b.ints([2 * e]), b.ints([-1])])
        let normed = b.op("LayerNormalization", [v, try required("norm.weight"), try required("norm.bias")],
                          [.i("axis", -1), .f("epsilon", try arg(n.float("eps"), "eps"))])
        let bias = b.op("Unsqueeze", [try required("proj.bias"), b.ints([1])])
        var mixed = b.op("Add", [b.op("MatMul", [try required("proj.weight"), normed]), bias])
        if let da = n.int("attn") {
            let source = n.inputs.count > 1 ? try name(n.inputs[1]) : x
            let packed = linear(source, rank: 3, weight: try required("attn.qkv.weight"), bias: param("attn.qkv.bias"))
            let (q, k, v) = splitPacked(packed, heads: 1, dh: da)
            let tokens = shape(n.inputs[0])[1]
            let context = merge(try attend(q, k, v, dh: da, causal: false, queries: tokens, keys: tokens), width: da)
            let attended = linear(context, rank: 3, weight: try required("attn.proj.weight"), bias: param("attn.proj.bias"))
            mixed = b.op("Add", [attended, mixed])
        }
        b.op("Mul", [mixed, u], out: out)
    }
}

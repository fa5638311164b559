import ArchSemantics
import ArchIR

extension Exporter {
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
            let attended = try attend(q, k, v, dh: da, heads: 1, kvHeads: 1, causal: false, mask: nil, queries: tokens, keys: tokens)
            let projected = linear(merge(attended, width: da), rank: 3, weight: try required("attn.proj.weight"), bias: param("attn.proj.bias"))
            mixed = b.op("Add", [projected, mixed])
        }
        b.op("Mul", [mixed, u], out: out)
    }
}

import Foundation
import ArchSemantics
import ArchKernels

extension Interpreter {
    /// Multi-head attention: projections, per-head softmax(q k^T / sqrt(dh)) v one row block at a
    /// time (the score matrix of one head only), the output projection written into `out`. A packed
    /// q/k/v projection is read in place as three column slices.
    func attention(_ node: Graph.Node, _ inShape: [Int], _ outShape: [Int], _ out: UnsafeMutableBufferPointer<Float>) throws {
        let (b, n, d) = (inShape[0], inShape[1], inShape[2])
        let heads = int(node, "heads")!
        let di = int(node, "dim") ?? d, o = outShape.last!
        let dh = di / heads
        let x = input(node).baseAddress!
        let cross = node.inputs.count > 1
        let mem = cross ? input(node, 1).baseAddress! : x
        let memShape = cross ? shape(node.inputs[1]) : inShape
        let m = memShape[1], dm = memShape[2]
        var layout = word(node, "qkv") ?? "packed"
        if cross && layout == "packed" { layout = "separate" }
        let q: UnsafeMutablePointer<Float>, k: UnsafeMutablePointer<Float>, v: UnsafeMutablePointer<Float>
        let ldq: Int, ldkv: Int
        switch layout {
        case "separate":
            q = workspace.buffer(0, b * n * di).baseAddress!
            k = workspace.buffer(1, b * m * di).baseAddress!
            v = workspace.buffer(2, b * m * di).baseAddress!
            linear(x, rows: b * n, inF: d, weight: paramID(node, "q_proj.weight")!, bias: param(node, "q_proj.bias"), out: di, into: q)
            linear(mem, rows: b * m, inF: dm, weight: paramID(node, "k_proj.weight")!, bias: param(node, "k_proj.bias"), out: di, into: k)
            linear(mem, rows: b * m, inF: dm, weight: paramID(node, "v_proj.weight")!, bias: param(node, "v_proj.bias"), out: di, into: v)
            (ldq, ldkv) = (di, di)
        default:
            let fused = layout == "fused"
            q = workspace.buffer(0, b * n * 3 * di).baseAddress!
            linear(x, rows: b * n, inF: d, weight: paramID(node, fused ? "in_proj_weight" : "qkv.weight")!,
                   bias: param(node, fused ? "in_proj_bias" : "qkv.bias"), out: 3 * di, into: q)
            (k, v) = (q + di, q + 2 * di)
            (ldq, ldkv) = (3 * di, 3 * di)
        }
        if let norm = word(node, "qknorm"), norm != "off" {
            // Each head's query and key rows normalised on their own (ViT-22B), with PyTorch's default
            // eps for nn.LayerNorm (1e-5) and nn.RMSNorm (float32's epsilon), as timm and `emit torch` build them.
            for (p, rows, ld, prefix) in [(q, b * n, ldq, "q_norm"), (k, b * m, ldkv, "k_norm")] {
                for r in 0..<rows {
                    Elementwise.normalizeRows(UnsafeMutableBufferPointer(start: p + r * ld, count: di), width: dh, eps: norm == "rms" ? .ulpOfOne : 1e-5,
                                              weight: param(node, prefix + ".weight"), bias: param(node, prefix + ".bias"), rms: norm == "rms")
                }
            }
        }
        let ctx = workspace.buffer(3, b * n * di).baseAddress!
        AttentionKernel.multiHead(batch: b, heads: heads, n: n, m: m, dh: dh, q: q, k: k, v: v, ldq: ldq, ldkv: ldkv,
                                  out: ctx, causal: bool(node, "causal"))
        let proj = layout == "packed" ? "proj" : "out_proj"
        linear(ctx, rows: b * n, inF: di, weight: paramID(node, proj + ".weight")!, bias: param(node, proj + ".bias"), out: o, into: out.baseAddress!)
    }
}

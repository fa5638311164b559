import Foundation
import ArchSemantics
import ArchKernels

extension Interpreter {
    /// Multi-head attention: projections, per-head softmax(q k^T / sqrt(dh)) v one row block at a
    /// time (the score matrix of one head only), the output projection.
    func attention(_ node: Graph.Node, _ inShape: [Int], _ outShape: [Int], _ out: UnsafeMutableBufferPointer<Float>) throws {
        let (b, n, d) = (inShape[0], inShape[1], inShape[2])
        let heads = int(node, "heads")!
        let di = int(node, "dim") ?? d, o = outShape.last!
        let dh = di / heads
        let x = input(node)
        let cross = node.inputs.count > 1
        let mem = cross ? input(node, 1) : x
        let memShape = cross ? shape(node.inputs[1]) : inShape
        let m = memShape[1], dm = memShape[2]
        var layout = word(node, "qkv") ?? "packed"
        if cross && layout == "packed" { layout = "separate" }
        var q: [Float], k: [Float], v: [Float]
        switch layout {
        case "separate":
            q = linear(x, rows: b * n, inF: d, weight: paramID(node, "q_proj.weight")!, bias: param(node, "q_proj.bias"), out: di)
            k = linear(mem, rows: b * m, inF: dm, weight: paramID(node, "k_proj.weight")!, bias: param(node, "k_proj.bias"), out: di)
            v = linear(mem, rows: b * m, inF: dm, weight: paramID(node, "v_proj.weight")!, bias: param(node, "v_proj.bias"), out: di)
        default:
            let fused = layout == "fused"
            let qkv = linear(x, rows: b * n, inF: d, weight: paramID(node, fused ? "in_proj_weight" : "qkv.weight")!,
                             bias: param(node, fused ? "in_proj_bias" : "qkv.bias"), out: 3 * di)
            q = [Float](repeating: 0, count: b * n * di); k = q; v = q
            for r in 0..<(b * n) { for j in 0..<di {
                q[r * di + j] = qkv[r * 3 * di + j]
                k[r * di + j] = qkv[r * 3 * di + di + j]
                v[r * di + j] = qkv[r * 3 * di + 2 * di + j]
            } }
        }
        if let norm = word(node, "qknorm"), norm != "off" {
            Elementwise.normalizeRows(&q, width: dh, eps: 1e-6, weight: param(node, "q_norm.weight"), bias: param(node, "q_norm.bias"), rms: norm == "rms")
            Elementwise.normalizeRows(&k, width: dh, eps: 1e-6, weight: param(node, "k_norm.weight"), bias: param(node, "k_norm.bias"), rms: norm == "rms")
        }
        var ctx = [Float](repeating: 0, count: b * n * di)
        q.withUnsafeBufferPointer { qp in k.withUnsafeBufferPointer { kp in v.withUnsafeBufferPointer { vp in ctx.withUnsafeMutableBufferPointer { cp in
            AttentionKernel.multiHead(batch: b, heads: heads, n: n, m: m, dh: dh, q: qp.baseAddress!, k: kp.baseAddress!, v: vp.baseAddress!,
                                      out: cp.baseAddress!, causal: bool(node, "causal"))
        } } } }
        let proj = layout == "packed" ? "proj" : "out_proj"
        ctx.withUnsafeBufferPointer {
            linear($0.baseAddress!, rows: b * n, inF: di, weight: paramID(node, proj + ".weight")!, bias: param(node, proj + ".bias"), out: o, into: out.baseAddress!)
        }
    }
}

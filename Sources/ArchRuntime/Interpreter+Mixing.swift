import Foundation
import ArchSemantics
import ArchKernels

extension Interpreter {
    /// w2(silu(w1 x) * w3 x) for `rows` rows of width d; `prefix` selects an expert's weights.
    func swiglu(_ node: Graph.Node, _ x: [Float], rows: Int, d: Int, hidden: Int, out: Int, prefix: String = "") -> [Float] {
        var a = linear(x, rows: rows, inF: d, weight: paramID(node, prefix + "w1.weight")!, bias: param(node, prefix + "w1.bias"), out: hidden)
        let b = linear(x, rows: rows, inF: d, weight: paramID(node, prefix + "w3.weight")!, bias: param(node, prefix + "w3.bias"), out: hidden)
        for i in a.indices { a[i] = a[i] * Elementwise.sigmoid(a[i]) * b[i] }
        return linear(a, rows: rows, inF: hidden, weight: paramID(node, prefix + "w2.weight")!, bias: param(node, prefix + "w2.bias"), out: out)
    }

    /// Mixtral's sparse MoE: softmax over the router's logits, the top k renormalised, the chosen
    /// experts' outputs mixed by those weights. Each expert runs once, on all the rows routed to it.
    func moe(_ node: Graph.Node, _ inShape: [Int], _ out: UnsafeMutableBufferPointer<Float>) {
        let d = inShape.last!, x = input(node), rows = x.count / d
        let e = int(node, "experts")!, top = int(node, "top") ?? 2, hidden = int(node, "hidden")!
        var logits = linear(x, rows: rows, inF: d, weight: paramID(node, "gate.weight")!, bias: nil, out: e)
        logits.withUnsafeMutableBufferPointer { Elementwise.softmaxRows($0.baseAddress!, rows: rows, width: e) }
        // Each expert's rows and their mixing weights.
        var routed = [[(row: Int, weight: Float)]](repeating: [], count: e)
        for r in 0..<rows {
            let p = logits[(r * e)..<((r + 1) * e)]
            let chosen = (0..<e).sorted { p[r * e + $0] > p[r * e + $1] || (p[r * e + $0] == p[r * e + $1] && $0 < $1) }.prefix(top)
            let total = chosen.reduce(Float(0)) { $0 + p[r * e + $1] }
            for ex in chosen { routed[ex].append((r, p[r * e + ex] / total)) }
        }
        out.update(repeating: 0)
        for (ex, batch) in routed.enumerated() where !batch.isEmpty {
            var gathered = [Float](repeating: 0, count: batch.count * d)
            for (i, item) in batch.enumerated() {
                gathered.withUnsafeMutableBufferPointer { ($0.baseAddress! + i * d).update(from: x.baseAddress! + item.row * d, count: d) }
            }
            let y: [Float]
            if word(node, "expert") == "mlp" {
                var h = linear(gathered, rows: batch.count, inF: d, weight: paramID(node, "experts.\(ex).fc1.weight")!,
                               bias: param(node, "experts.\(ex).fc1.bias"), out: hidden)
                Elementwise.apply("gelu", approx: nil, &h)
                y = linear(h, rows: batch.count, inF: hidden, weight: paramID(node, "experts.\(ex).fc2.weight")!,
                           bias: param(node, "experts.\(ex).fc2.bias"), out: d)
            } else {
                y = swiglu(node, gathered, rows: batch.count, d: d, hidden: hidden, out: d, prefix: "experts.\(ex).")
            }
            for (i, item) in batch.enumerated() {
                let dst = out.baseAddress! + item.row * d
                for j in 0..<d { dst[j] += item.weight * y[i * d + j] }
            }
        }
    }

    /// gMLP's spatial gating unit: u * (proj over tokens (norm v) [+ tiny attention]), written
    /// straight into `out`: the token projection W [n, n] is packed once and its per-token bias is
    /// the GEMM's row bias.
    func sgu(_ node: Graph.Node, _ inShape: [Int], _ out: UnsafeMutableBufferPointer<Float>) throws {
        let (b, n, d2) = (inShape[0], inShape[1], inShape[2])
        let e = d2 / 2, x = input(node)
        let v = workspace.buffer(0, b * n * e)
        for r in 0..<(b * n) { (v.baseAddress! + r * e).update(from: x.baseAddress! + r * d2 + e, count: e) }
        Elementwise.normalizeRows(v, width: e, eps: float(node, "eps") ?? 1e-5, weight: param(node, "norm.weight"), bias: param(node, "norm.bias"))
        if packedTokenMixing[current] == nil {
            packedTokenMixing[current] = param(node, "proj.weight")!.withUnsafeBufferPointer { Gemm.PackedA($0.baseAddress!, lda: n, m: n, k: n) }
        }
        let w = packedTokenMixing[current]!, bias = param(node, "proj.bias")!
        let gate = out.baseAddress!
        bias.withUnsafeBufferPointer { bp in
            for bi in 0..<b {
                Gemm.sgemm(packed: w, n: e, b: v.baseAddress! + bi * n * e, ldb: e, c: gate + bi * n * e, ldc: e,
                           bias: bp.baseAddress, epilogue: Epilogue(bias: .perRow))
            }
        }
        if let da = int(node, "attn") {
            let src = node.inputs.count > 1 ? input(node, 1) : x
            let ds = src.count / (b * n)
            let qkv = linear(src, rows: b * n, inF: ds, weight: paramID(node, "attn.qkv.weight")!, bias: param(node, "attn.qkv.bias"), out: 3 * da)
            var ctx = [Float](repeating: 0, count: b * n * da)
            let scale = 1 / Float(da).squareRoot()
            for bi in 0..<b {
                var q = [Float](repeating: 0, count: n * da), kt = q, vv = q
                for t in 0..<n { for j in 0..<da {
                    let base = (bi * n + t) * 3 * da
                    q[t * da + j] = qkv[base + j] * scale
                    kt[j * n + t] = qkv[base + da + j]
                    vv[t * da + j] = qkv[base + 2 * da + j]
                } }
                var s = Self.matmul(q, kt, m: n, n: n, k: da)
                s.withUnsafeMutableBufferPointer { Elementwise.softmaxRows($0.baseAddress!, rows: n, width: n) }
                let o = Self.matmul(s, vv, m: n, n: da, k: n)
                for t in 0..<n { for j in 0..<da { ctx[(bi * n + t) * da + j] = o[t * da + j] } }
            }
            let tiny = linear(ctx, rows: b * n, inF: da, weight: paramID(node, "attn.proj.weight")!, bias: param(node, "attn.proj.bias"), out: e)
            for i in 0..<out.count { gate[i] += tiny[i] }
        }
        for r in 0..<(b * n) { for j in 0..<e { gate[r * e + j] *= x[r * d2 + j] } }
    }

    /// Swin's patch merging: 2x2 neighbours (x0 (0,0), x1 (1,0), x2 (0,1), x3 (1,1)) concatenated,
    /// layernorm, linear 4c -> 2c written into the output; odd sizes are zero-padded as torchvision does.
    func patchmerge(_ node: Graph.Node, _ inShape: [Int], _ outShape: [Int], _ out: UnsafeMutableBufferPointer<Float>) {
        let (b, h, w, c) = (inShape[0], inShape[1], inShape[2], inShape[3])
        let (oh, ow) = (outShape[1], outShape[2])
        let x = input(node).baseAddress!
        let cat = workspace.buffer(0, b * oh * ow * 4 * c)
        let neighbours = [(0, 0), (1, 0), (0, 1), (1, 1)]
        for bi in 0..<b { for i in 0..<oh { for j in 0..<ow {
            for (q, (dy, dx)) in neighbours.enumerated() {
                let y = 2 * i + dy, xx = 2 * j + dx
                let dst = cat.baseAddress! + ((bi * oh + i) * ow + j) * 4 * c + q * c
                if y < h && xx < w { dst.update(from: x + ((bi * h + y) * w + xx) * c, count: c) } else { dst.update(repeating: 0, count: c) }
            }
        } } }
        Elementwise.normalizeRows(cat, width: 4 * c, eps: float(node, "eps") ?? 1e-5, weight: param(node, "norm.weight"), bias: param(node, "norm.bias"))
        linear(cat.baseAddress!, rows: b * oh * ow, inF: 4 * c, weight: paramID(node, "reduction.weight")!, bias: nil, out: 2 * c, into: out.baseAddress!)
    }
}

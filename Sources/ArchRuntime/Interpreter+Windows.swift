import Foundation
import ArchSemantics
import ArchKernels

extension Interpreter {
    /// Swin's (shifted) window attention as torchvision computes it: pad to whole windows, roll by
    /// -shift, attend within each window with the relative position bias (and the mask that keeps
    /// rolled-around regions apart), roll back, crop. The (window, head) pairs are spread over the
    /// cores; q, k and v are read in place from the packed projection.
    func windowAttention(_ node: Graph.Node, _ inShape: [Int], _ out: UnsafeMutableBufferPointer<Float>) {
        let (b, h, w, c) = (inShape[0], inShape[1], inShape[2], inShape[3])
        let ws = int(node, "window")!, heads = int(node, "heads")!
        let dh = c / heads, t = ws * ws
        let ph = (h + ws - 1) / ws * ws, pw = (w + ws - 1) / ws * ws
        let sy = ws >= ph ? 0 : (int(node, "shift") ?? 0), sx = ws >= pw ? 0 : (int(node, "shift") ?? 0)
        let nwy = ph / ws, nwx = pw / ws, windows = b * nwy * nwx
        let x = input(node)
        // Gather the padded, rolled grid's windows: tokens [windows, t, c] (roll by -shift: new[i] = old[i + shift]).
        let tokens = workspace.buffer(0, windows * t * c)
        for bi in 0..<b { for wy in 0..<nwy { for wx in 0..<nwx {
            let win = (bi * nwy + wy) * nwx + wx
            for ty in 0..<ws { for tx in 0..<ws {
                let dst = tokens.baseAddress! + (win * t + ty * ws + tx) * c
                let si = (wy * ws + ty + sy) % ph, sj = (wx * ws + tx + sx) % pw
                if si < h && sj < w { dst.update(from: x.baseAddress! + ((bi * h + si) * w + sj) * c, count: c) } else { dst.update(repeating: 0, count: c) }
            } }
        } } }
        let qkv = workspace.buffer(1, windows * t * 3 * c).baseAddress!
        linear(tokens.baseAddress!, rows: windows * t, inF: c, weight: paramID(node, "qkv.weight")!, bias: param(node, "qkv.bias"), out: 3 * c, into: qkv)
        let bias = relativeBias(node, window: ws, heads: heads)
        // Region ids of every position of the rolled grid, for the shift mask.
        @Sendable func region(_ v: Int, _ size: Int, _ shift: Int) -> Int { v < size - ws ? 0 : (v < size - shift ? 1 : 2) }
        let ctx = workspace.buffer(2, windows * t * c).baseAddress!
        let scale = 1 / Float(dh).squareRoot()
        let workers = min(Gemm.defaultThreads, windows * heads)
        let addrs = (Int(bitPattern: qkv), Int(bitPattern: ctx))
        bias.withUnsafeBufferPointer { biasBuffer in
            let biasAddr = bias.isEmpty ? 0 : Int(bitPattern: biasBuffer.baseAddress)
            DispatchQueue.concurrentPerform(iterations: workers) { wk in
                let qkv = UnsafePointer<Float>(bitPattern: addrs.0)!, ctx = UnsafeMutablePointer<Float>(bitPattern: addrs.1)!
                let biasTable = UnsafePointer<Float>(bitPattern: biasAddr)
                let scores = UnsafeMutablePointer<Float>.allocate(capacity: t * t)
                let regions = UnsafeMutablePointer<Int>.allocate(capacity: t)
                defer { scores.deallocate(); regions.deallocate() }
                var task = wk
                while task < windows * heads {
                    let win = task / heads, hd = task % heads
                    let wy = (win / nwx) % nwy, wx = win % nwx
                    let q = qkv + win * t * 3 * c + hd * dh
                    Gemm.sgemm(m: t, n: t, k: dh, a: q, lda: 3 * c, b: q + c, ldb: 3 * c, c: scores, ldc: t, threads: 1, transposeB: true)
                    let shifted = sy + sx > 0
                    if shifted {
                        for i in 0..<t { regions[i] = region(wy * ws + i / ws, ph, sy) * 3 + region(wx * ws + i % ws, pw, sx) }
                    }
                    for i in 0..<t {
                        let row = scores + i * t
                        for j in 0..<t { row[j] *= scale }
                        if let biasTable { let bt = biasTable + (hd * t + i) * t; for j in 0..<t { row[j] += bt[j] } }
                        if shifted { for j in 0..<t where regions[i] != regions[j] { row[j] -= 100 } }
                    }
                    Elementwise.softmaxRows(scores, rows: t, width: t)
                    Gemm.sgemm(m: t, n: dh, k: t, a: scores, lda: t, b: q + 2 * c, ldb: 3 * c, c: ctx + win * t * c + hd * dh, ldc: c, threads: 1)
                    task += workers
                }
            }
        }
        let projected = workspace.buffer(0, windows * t * c).baseAddress!
        linear(ctx, rows: windows * t, inF: c, weight: paramID(node, "proj.weight")!, bias: param(node, "proj.bias"), out: c, into: projected)
        // Scatter back, roll by +shift, crop.
        for bi in 0..<b { for wy in 0..<nwy { for wx in 0..<nwx {
            let win = (bi * nwy + wy) * nwx + wx
            for ty in 0..<ws { for tx in 0..<ws {
                let oi = (wy * ws + ty + sy) % ph, oj = (wx * ws + tx + sx) % pw
                guard oi < h && oj < w else { continue }
                (out.baseAddress! + ((bi * h + oi) * w + oj) * c).update(from: projected + (win * t + ty * ws + tx) * c, count: c)
            } }
        } } }
    }

    /// The relative position bias of every head for every pair of positions in a window,
    /// [heads, t, t], gathered from the table once per node; empty without `relpos`.
    func relativeBias(_ node: Graph.Node, window ws: Int, heads: Int) -> [Float] {
        derivedTable {
            guard let table = param(node, "relative_position_bias_table") else { return [] }
            let t = ws * ws
            var bias = [Float](repeating: 0, count: heads * t * t)
            for i in 0..<t { for j in 0..<t {
                let index = (i / ws - j / ws + ws - 1) * (2 * ws - 1) + (i % ws - j % ws + ws - 1)
                for hd in 0..<heads { bias[(hd * t + i) * t + j] = table[index * heads + hd] }
            } }
            return bias
        }
    }
}

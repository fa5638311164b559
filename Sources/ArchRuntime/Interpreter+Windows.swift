import Foundation
import ArchSemantics
import ArchKernels

extension Interpreter {
    /// Swin's (shifted) window attention as torchvision computes it: pad to whole windows, roll by
    /// -shift, attend within each window with the relative position bias (and the mask that keeps
    /// rolled-around regions apart), roll back, crop.
    func windowAttention(_ node: Graph.Node, _ inShape: [Int]) -> [Float] {
        let (b, h, w, c) = (inShape[0], inShape[1], inShape[2], inShape[3])
        let ws = int(node, "window")!, heads = int(node, "heads")!
        let dh = c / heads, t = ws * ws
        let ph = (h + ws - 1) / ws * ws, pw = (w + ws - 1) / ws * ws
        let sy = ws >= ph ? 0 : (int(node, "shift") ?? 0), sx = ws >= pw ? 0 : (int(node, "shift") ?? 0)
        let x = input(node)
        // Padded, rolled grid.
        var grid = [Float](repeating: 0, count: b * ph * pw * c)
        for bi in 0..<b { for i in 0..<ph { for j in 0..<pw {
            let si = (i + sy) % ph, sj = (j + sx) % pw  // roll by -shift: new[i] = old[i + shift]
            guard si < h && sj < w else { continue }
            for ch in 0..<c { grid[((bi * ph + i) * pw + j) * c + ch] = x[((bi * h + si) * w + sj) * c + ch] }
        } } }
        // Region ids of the rolled grid for the shift mask.
        func region(_ v: Int, _ size: Int, _ shift: Int) -> Int { v < size - ws ? 0 : (v < size - shift ? 1 : 2) }
        let nwy = ph / ws, nwx = pw / ws, windows = b * nwy * nwx
        // Gather windows: [windows, t, c].
        var tokens = [Float](repeating: 0, count: windows * t * c)
        for bi in 0..<b { for wy in 0..<nwy { for wx in 0..<nwx {
            let win = (bi * nwy + wy) * nwx + wx
            for ty in 0..<ws { for tx in 0..<ws {
                let src = ((bi * ph + wy * ws + ty) * pw + wx * ws + tx) * c, dst = (win * t + ty * ws + tx) * c
                for ch in 0..<c { tokens[dst + ch] = grid[src + ch] }
            } }
        } } }
        let qkv = linear(tokens, rows: windows * t, inF: c, weight: paramID(node, "qkv.weight")!, bias: param(node, "qkv.bias"), out: 3 * c)
        let table = param(node, "relative_position_bias_table")
        let scale = 1 / Float(dh).squareRoot()
        var ctx = [Float](repeating: 0, count: windows * t * c)
        var q = [Float](repeating: 0, count: t * dh), kt = q, v = q
        for win in 0..<windows {
            let wy = (win / nwx) % nwy, wx = win % nwx
            for hd in 0..<heads {
                for i in 0..<t { for j in 0..<dh {
                    let base = (win * t + i) * 3 * c + hd * dh + j
                    q[i * dh + j] = qkv[base] * scale
                    kt[j * t + i] = qkv[base + c]
                    v[i * dh + j] = qkv[base + 2 * c]
                } }
                var s = Self.matmul(q, kt, m: t, n: t, k: dh)
                for i in 0..<t { for j in 0..<t {
                    let (yi, xi, yj, xj) = (i / ws, i % ws, j / ws, j % ws)
                    if let table {
                        let index = (yi - yj + ws - 1) * (2 * ws - 1) + (xi - xj + ws - 1)
                        s[i * t + j] += table[index * heads + hd]
                    }
                    if sy + sx > 0 {
                        let ri = region(wy * ws + yi, ph, sy) * 3 + region(wx * ws + xi, pw, sx)
                        let rj = region(wy * ws + yj, ph, sy) * 3 + region(wx * ws + xj, pw, sx)
                        if ri != rj { s[i * t + j] += -100 }
                    }
                } }
                s.withUnsafeMutableBufferPointer { Elementwise.softmaxRows($0.baseAddress!, rows: t, width: t) }
                let o = Self.matmul(s, v, m: t, n: dh, k: t)
                for i in 0..<t { for j in 0..<dh { ctx[(win * t + i) * c + hd * dh + j] = o[i * dh + j] } }
            }
        }
        let projected = linear(ctx, rows: windows * t, inF: c, weight: paramID(node, "proj.weight")!, bias: param(node, "proj.bias"), out: c)
        // Scatter back, roll by +shift, crop.
        var y = [Float](repeating: 0, count: b * h * w * c)
        for bi in 0..<b { for wy in 0..<nwy { for wx in 0..<nwx {
            let win = (bi * nwy + wy) * nwx + wx
            for ty in 0..<ws { for tx in 0..<ws {
                let gi = wy * ws + ty, gj = wx * ws + tx
                let oi = (gi + sy) % ph, oj = (gj + sx) % pw
                guard oi < h && oj < w else { continue }
                let src = (win * t + ty * ws + tx) * c, dst = ((bi * h + oi) * w + oj) * c
                for ch in 0..<c { y[dst + ch] = projected[src + ch] }
            } }
        } } }
        return y
    }
}

import Foundation
import ArchSemantics
import ArchKernels

extension Interpreter {
    /// nn.RNN / nn.LSTM / nn.GRU with batch_first, PyTorch's gate order (LSTM i, f, g, o; GRU r, z, n),
    /// several layers and both directions; `last` keeps the last time step.
    func recurrent(_ node: Graph.Node, _ inShape: [Int]) -> [Float] {
        let (b, t) = (inShape[0], inShape[1])
        let hsz = int(node, "hidden")!, layers = int(node, "layers") ?? 1
        let dirs = bool(node, "bidirectional") ? 2 : 1
        let gates = node.op == "lstm" ? 4 : node.op == "gru" ? 3 : 1
        var x = Array(input(node)), width = inShape[2]
        for l in 0..<layers {
            var out = [Float](repeating: 0, count: b * t * hsz * dirs)
            for dir in 0..<dirs {
                let sfx = "_l\(l)" + (dir == 1 ? "_reverse" : "")
                // Input contributions for every step at once: [b t, gates h].
                let xi = linear(x, rows: b * t, inF: width, weight: paramID(node, "weight_ih" + sfx)!, bias: param(node, "bias_ih" + sfx), out: gates * hsz)
                let whh = paramID(node, "weight_hh" + sfx)!, bhh = param(node, "bias_hh" + sfx)
                var h = [Float](repeating: 0, count: b * hsz), c = h
                for step in 0..<t {
                    let s = dir == 0 ? step : t - 1 - step
                    let hh = linear(h, rows: b, inF: hsz, weight: whh, bias: bhh, out: gates * hsz)
                    for bi in 0..<b {
                        let gx = (bi * t + s) * gates * hsz, gh = bi * gates * hsz
                        for j in 0..<hsz {
                            switch node.op {
                            case "lstm":
                                let i = Elementwise.sigmoid(xi[gx + j] + hh[gh + j])
                                let f = Elementwise.sigmoid(xi[gx + hsz + j] + hh[gh + hsz + j])
                                let g = tanhf(xi[gx + 2 * hsz + j] + hh[gh + 2 * hsz + j])
                                let o = Elementwise.sigmoid(xi[gx + 3 * hsz + j] + hh[gh + 3 * hsz + j])
                                c[bi * hsz + j] = f * c[bi * hsz + j] + i * g
                                h[bi * hsz + j] = o * tanhf(c[bi * hsz + j])
                            case "gru":
                                let r = Elementwise.sigmoid(xi[gx + j] + hh[gh + j])
                                let z = Elementwise.sigmoid(xi[gx + hsz + j] + hh[gh + hsz + j])
                                let n = tanhf(xi[gx + 2 * hsz + j] + r * hh[gh + 2 * hsz + j])
                                h[bi * hsz + j] = (1 - z) * n + z * h[bi * hsz + j]
                            default:
                                h[bi * hsz + j] = tanhf(xi[gx + j] + hh[gh + j])
                            }
                        }
                    }
                    for bi in 0..<b { for j in 0..<hsz { out[((bi * t + s) * dirs + dir) * hsz + j] = h[bi * hsz + j] } }
                }
            }
            x = out
            width = hsz * dirs
        }
        guard bool(node, "last") else { return x }
        var y = [Float](repeating: 0, count: b * width)
        for bi in 0..<b { for j in 0..<width { y[bi * width + j] = x[(bi * t + t - 1) * width + j] } }
        return y
    }

    /// Transposed convolution as a GEMM and a scatter (col2im): per example and group, the columns
    /// Wᵀ x [(out kh kw) x (h w)] from the packed, transposed weights, then each column added into
    /// the output positions its kernel tap reaches.
    func convTranspose(_ node: Graph.Node, _ inShape: [Int], _ outShape: [Int], _ y: UnsafeMutableBufferPointer<Float>) {
        let spatial = inShape.count - 2
        let k = sizes(node, "kernel", spatial, default: 1), s = sizes(node, "stride", spatial, default: 1)
        let p = sizes(node, "pad", spatial, default: 0), d = sizes(node, "dilation", spatial, default: 1)
        let cin = inShape[1], cout = outShape[1]
        let groups = word(node, "groups") == "depthwise" ? cin : (int(node, "groups") ?? 1)
        let h = spatial == 2 ? inShape[2] : 1, w = inShape.last!, oh = spatial == 2 ? outShape[2] : 1, ow = outShape.last!
        let kh = spatial == 2 ? k[0] : 1, kw = k.last!, sh = spatial == 2 ? s[0] : 1, sw = s.last!
        let ph = spatial == 2 ? p[0] : 0, pw = p.last!, dh = spatial == 2 ? d[0] : 1, dw = d.last!
        let x = input(node).baseAddress!, bias = param(node, "bias")
        let cinG = cin / groups, coutG = cout / groups, rows = coutG * kh * kw, hw = h * w
        if packedTransposed[current] == nil {
            // weight [cin, cout / groups, kh, kw]: per group a [cinG x rows] block, packed transposed.
            let weight = param(node, "weight")!
            packedTransposed[current] = (0..<groups).map { g in
                var t = [Float](repeating: 0, count: rows * cinG)
                for i in 0..<cinG { for r in 0..<rows { t[r * cinG + i] = weight[(g * cinG + i) * rows + r] } }
                return t.withUnsafeBufferPointer { Gemm.PackedA($0.baseAddress!, lda: cinG, m: rows, k: cinG) }
            }
        }
        let packed = packedTransposed[current]!
        let cols = workspace.buffer(6, rows * hw).baseAddress!
        for n in 0..<inShape[0] {
            for oc in 0..<cout {
                (y.baseAddress! + (n * cout + oc) * oh * ow).update(repeating: bias?[oc] ?? 0, count: oh * ow)
            }
            for g in 0..<groups {
                Gemm.sgemm(packed: packed[g], n: hw, b: x + (n * cin + g * cinG) * hw, ldb: hw, c: cols, ldc: hw)
                for r in 0..<rows {
                    let oc = g * coutG + r / (kh * kw), ky = (r / kw) % kh, kx = r % kw
                    let plane = y.baseAddress! + (n * cout + oc) * oh * ow, src = cols + r * hw
                    for iy in 0..<h {
                        let oy = iy * sh - ph + ky * dh
                        if oy < 0 || oy >= oh { continue }
                        let line = plane + oy * ow, row = src + iy * w
                        for ix in 0..<w {
                            let ox = ix * sw - pw + kx * dw
                            if ox >= 0 && ox < ow { line[ox] += row[ix] }
                        }
                    }
                }
            }
        }
    }

    /// Concatenation of the inputs along `dim`, written straight into the output.
    func concat(_ node: Graph.Node, _ outShape: [Int], _ y: UnsafeMutableBufferPointer<Float>) {
        let r = outShape.count
        let dim = ((int(node, "dim") ?? 1) + r) % r
        let outer = outShape[..<dim].reduce(1, *), inner = outShape[(dim + 1)...].reduce(1, *)
        var offset = 0
        for k in 0..<node.inputs.count {
            let s = shape(node.inputs[k]), x = input(node, k)
            let chunk = s[dim] * inner
            for o in 0..<outer {
                (y.baseAddress! + o * outShape[dim] * inner + offset * inner).update(from: x.baseAddress! + o * chunk, count: chunk)
            }
            offset += s[dim]
        }
    }

    /// Group normalisation in the output buffer: each group of channels normalised as one row, then
    /// the per-channel affine.
    func groupnorm(_ node: Graph.Node, _ inShape: [Int], _ out: UnsafeMutableBufferPointer<Float>) {
        let x = inPlace(node, out)
        let c = inShape[1], g = int(node, "groups")!, plane = inShape.dropFirst(2).reduce(1, *)
        let w = param(node, "weight"), b = param(node, "bias")
        Elementwise.normalizeRows(x, width: c / g * plane, eps: float(node, "eps") ?? 1e-5, weight: nil, bias: nil)
        for n in 0..<inShape[0] { for ch in 0..<c {
            let (scale, shift) = (w?[ch] ?? 1, b?[ch] ?? 0)
            let row = x.baseAddress! + (n * c + ch) * plane
            for i in 0..<plane { row[i] = row[i] * scale + shift }
        } }
    }
}

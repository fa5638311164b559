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
}

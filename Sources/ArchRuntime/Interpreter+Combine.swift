import ArchSemantics
import ArchKernels

/// Ops over channels and groups of channels: concatenation and group normalisation.
extension Interpreter {
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

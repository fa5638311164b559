import ArchSemantics
import ArchKernels

/// Ops that select, reduce or regroup positions: reductions, slices, views, unfold and fold.
extension Lowering {
    /// One reduction per dimension, the last first (each a line reduction of the tensor seen as
    /// [outer, size, inner]); the inner results keep their dimensions as size 1.
    mutating func lowerReduction(_ n: Graph.Node) {
        var s = shape(n.inputs[0])
        let op: ReduceCall.Op = n.op == .max ? .max : n.op == .mean ? .mean : .sum
        var axes: [Int] = []
        if case .list(let ds)? = n.args["dim"] {
            axes = ds.compactMap { if case .int(let d) = $0 { return d < 0 ? d + s.count : d } else { return nil } }.sorted(by: >)
        }
        var x = n.inputs[0]
        for (k, a) in axes.enumerated() {
            let size = s[a]
            s[a] = 1
            let out = k == axes.count - 1 ? n.output : value(s)
            emit(.reduce(ReduceCall(op: op, outer: s[..<a].reduce(1, *), size: size, inner: s[(a + 1)...].reduce(1, *), input: x, output: out)))
            x = out
        }
    }

    /// A slice or an index: positions along one dimension, bounds resolved on the bound sizes.
    mutating func lowerSlice(_ n: Graph.Node) {
        let s = shape(n.inputs[0]), a = n.axis("dim", rank: s.count, default: 1), size = s[a]
        let (start, step, count): (Int, Int, Int)
        if n.op == .index {
            let at = n.int("at") ?? 0
            (start, step, count) = (at < 0 ? at + size : at, 1, 1)
        } else {
            let first = n.int("start") ?? 0, s0 = first < 0 ? first + size : first
            let end = n.int("end").map { $0 < 0 ? $0 + size : $0 } ?? size
            step = max(1, n.int("step") ?? 1)
            (start, count) = (s0, (end - s0 + step - 1) / step)
        }
        emit(.slice(SliceCall(outer: s[..<a].reduce(1, *), size: size, inner: s[(a + 1)...].reduce(1, *), start: start, step: step, count: count,
                              input: n.inputs[0], output: n.output)))
    }

    /// nn.Unfold and nn.Fold: the geometry of the image and the grid of blocks over it.
    mutating func lowerBlocks(_ n: Graph.Node) {
        let x = n.inputs[0]
        let image = n.op == .unfold ? shape(x) : shape(n.output), columns = n.op == .unfold ? shape(n.output) : shape(x)
        let k = n.sizes("kernel", 2, default: 1), st = n.sizes("stride", 2, default: 1)
        let p = n.sizes("pad", 2, default: 0), d = n.sizes("dilation", 2, default: 1)
        let grid = columns[2], outW = (image[3] + 2 * p[1] - d[1] * (k[1] - 1) - 1) / st[1] + 1
        let g = ConvGeometry(inChannels: image[1], outChannels: image[1], groups: 1, inH: image[2], inW: image[3], outH: grid / outW, outW: outW,
                             kernelH: k[0], kernelW: k[1], strideH: st[0], strideW: st[1], padTop: p[0], padLeft: p[1], dilationH: d[0], dilationW: d[1])
        emit(.unfold(UnfoldCall(batch: image[0], geometry: g, fold: n.op == .fold, input: x, output: n.output)))
    }
}

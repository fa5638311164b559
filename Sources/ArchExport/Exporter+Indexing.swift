import ArchSemantics
import ArchIR

/// Selecting, reducing and regrouping positions: reductions, slices, an index, and nn.Unfold /
/// nn.Fold. (`view` is a Reshape, with the layout ops.)
extension Exporter {
    /// sum / mean / max over dimensions: ReduceSum, ReduceMean, ReduceMax with the axes as an input
    /// (opset 18), keepdims as the layer's `keep`.
    mutating func reduction(_ n: Graph.Node, _ opType: String) throws {
        let rank = shape(n.inputs[0]).count
        guard case .list(let ds) = try arg(n.args["dim"], "dim"), !ds.isEmpty else {
            throw ExportError("internal error: \(n.op) at \(n.loc.description) has no dimensions", notes: ["this is a bug in archc; please report it with the spec"])
        }
        let axes = ds.compactMap { if case .int(let d) = $0 { return d < 0 ? d + rank : d } else { return nil } }
        b.op(opType, [try input(n), b.ints(axes.sorted())], [.i("keepdims", n.bool("keep") ? 1 : 0)], out: out)
    }

    /// x[:, start:end:step] along one dimension: Slice, its bounds as written (ONNX counts negative
    /// positions from the end and clamps an end past it, as Python does), so symbolic sizes stay symbolic.
    mutating func slice(_ n: Graph.Node) throws {
        let axis = n.axis("dim", rank: shape(n.inputs[0]).count, default: 1)
        let start = n.int("start") ?? 0, end = n.int("end") ?? Int(Int64.max), step = max(1, n.int("step") ?? 1)
        b.op("Slice", [try input(n), b.ints([start]), b.ints([end]), b.ints([axis]), b.ints([step])], out: out)
    }

    /// x[:, i]: Gather with a 0-d index, which drops the dimension (a negative one counts from the end).
    mutating func index(_ n: Graph.Node) throws {
        let axis = n.axis("dim", rank: shape(n.inputs[0]).count, default: 1)
        b.op("Gather", [try input(n), b.intScalar(try arg(n.int("at"), "at"))], [.i("axis", axis)], out: out)
    }

    /// The block geometry of unfold and fold, as Conv and Col2Im attributes.
    func blockAttributes(_ n: Graph.Node) -> (kernel: [Int], attributes: [AttributeProto]) {
        let k = n.sizes("kernel", 2, default: 1), p = n.sizes("pad", 2, default: 0)
        return (k, [.ints("dilations", n.sizes("dilation", 2, default: 1)), .ints("pads", p + p), .ints("strides", n.sizes("stride", 2, default: 1))])
    }

    /// nn.Unfold (im2col, which ONNX lacks): a grouped Conv whose constant weight is one-hot, output
    /// channel c kh kw + i kw + j copying kernel position (i, j) of channel c (exact: x * 1 plus
    /// zeros), then the grid of blocks as one dimension.
    mutating func unfold(_ n: Graph.Node) throws {
        let c = try channels(n, axis: 1), (k, attributes) = blockAttributes(n), positions = k[0] * k[1]
        var weight = [Float](repeating: 0, count: c * positions * positions)
        for row in 0..<(c * positions) { weight[row * positions + row % positions] = 1 }
        let w = b.floats(weight, dims: [c * positions, 1, k[0], k[1]], name: "\(b.scope).blocks")
        let columns = b.op("Conv", [try input(n), w], attributes + [.ints("kernel_shape", k), .i("group", c)])
        reshape(columns, [0, c * positions, -1], out: out)
    }

    /// nn.Fold: Col2Im (opset 18), the columns' blocks summed into the image.
    mutating func fold(_ n: Graph.Node) throws {
        let (k, attributes) = blockAttributes(n), size = n.sizes("size", 2, default: 1)
        b.op("Col2Im", [try input(n), b.ints(size), b.ints(k)], attributes, out: out)
    }
}

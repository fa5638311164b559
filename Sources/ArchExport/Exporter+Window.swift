import ArchSemantics
import ArchIR
import ArchKernels

/// Swin's relative position index, as archc's kernel (and torchvision's buffer) defines it.
enum WindowIndex {
    static func relativePositionIndex(window w: Int) -> [Int64] {
        let t = w * w
        return (0..<(t * t)).map { Int64(WindowAttention.relativeIndex($0 / t, $0 % t, window: w)) }
    }
}

/// Swin's shifted-window attention and patch merging on grids [b, h, w, c], as torchvision computes
/// them: the grid padded to whole windows and rolled by -shift (no shift along an axis one window
/// covers), cut into windows of tokens, attention within each window with the relative position
/// bias and -100 between positions of different regions of the rolled grid, then the windows put
/// back, rolled by +shift and cropped.
extension Exporter {
    struct WindowGrid {
        var height: Int, width: Int, channels: Int, window: Int, heads: Int, shiftY: Int, shiftX: Int
        var paddedH: Int { (height + window - 1) / window * window }
        var paddedW: Int { (width + window - 1) / window * window }
        var windowsY: Int { paddedH / window }
        var windowsX: Int { paddedW / window }
        var tokens: Int { window * window }
    }

    mutating func windowAttention(_ n: Graph.Node) throws {
        let s = try known(n.inputs[0], "the grid's height, width and channels")
        var g = WindowGrid(height: s[0], width: s[1], channels: s[2], window: try arg(n.int("window"), "window"), heads: try arg(n.int("heads"), "heads"), shiftY: 0, shiftX: 0)
        let shift = n.int("shift") ?? 0
        (g.shiftY, g.shiftX) = (g.window >= g.paddedH ? 0 : shift, g.window >= g.paddedW ? 0 : shift)
        let (t, c, dh) = (g.tokens, g.channels, g.channels / g.heads)
        var x = try input(n)
        if g.paddedH > g.height || g.paddedW > g.width {
            x = b.op("Pad", [x, b.ints([0, 0, 0, 0, 0, g.paddedH - g.height, g.paddedW - g.width, 0])])
        }
        x = roll(roll(x, by: g.shiftY, axis: 1, size: g.paddedH), by: g.shiftX, axis: 2, size: g.paddedW)
        let windows = reshape(transpose(reshape(x, [0, g.windowsY, g.window, g.windowsX, g.window, c]), [0, 1, 3, 2, 4, 5]), [-1, t, c])
        let packed = linear(windows, rank: 3, weight: try required("qkv.weight"), bias: param("qkv.bias"))
        let (q, k, v) = splitPacked(packed, heads: g.heads, dh: dh)
        var scores = b.op("Mul", [b.op("MatMul", [q, transpose(k, [0, 1, 3, 2])]), b.scalar(1 / Float(dh).squareRoot())])
        if n.bool("relpos") { scores = b.op("Add", [scores, try relativeBias(g)]) }
        if g.shiftY + g.shiftX > 0 {
            let perImage = reshape(scores, [-1, g.windowsY * g.windowsX, g.heads, t, t])
            scores = reshape(b.op("Add", [perImage, shiftMask(g)]), [-1, g.heads, t, t])
        }
        let context = merge(b.op("MatMul", [b.op("Softmax", [scores], [.i("axis", -1)]), v]), width: c)
        let projected = linear(context, rank: 3, weight: try required("proj.weight"), bias: param("proj.bias"))
        let grid = reshape(transpose(reshape(projected, [-1, g.windowsY, g.windowsX, g.window, g.window, c]), [0, 1, 3, 2, 4, 5]),
                           [-1, g.paddedH, g.paddedW, c])
        var y = roll(roll(grid, by: g.paddedH - g.shiftY, axis: 1, size: g.paddedH), by: g.paddedW - g.shiftX, axis: 2, size: g.paddedW)
        if g.paddedH > g.height || g.paddedW > g.width {
            y = b.op("Slice", [y, b.ints([0, 0]), b.ints([g.height, g.width]), b.ints([1, 2])])
        }
        b.finish(y, as: out)
    }

    /// y[i] = x[(i + by) % size] along `axis` (torch.roll by -by): two slices swapped.
    mutating func roll(_ x: String, by: Int, axis: Int, size: Int) -> String {
        let k = by % size
        guard k > 0 else { return x }
        let tail = b.op("Slice", [x, b.ints([k]), b.ints([size]), b.ints([axis])])
        let head = b.op("Slice", [x, b.ints([0]), b.ints([k]), b.ints([axis])])
        return b.op("Concat", [tail, head], [.i("axis", axis)])
    }

    /// [heads, t, t]: the table's rows at the relative position index, per head.
    mutating func relativeBias(_ g: WindowGrid) throws -> String {
        let t = g.tokens
        let index = param("relative_position_index")
            ?? b.constant(.int64s(WindowIndex.relativePositionIndex(window: g.window)), dims: [t * t], name: "\(b.scope).relative_position_index")
        let rows = b.op("Gather", [try required("relative_position_bias_table"), index], [.i("axis", 0)])
        return transpose(reshape(rows, [t, t, g.heads]), [2, 0, 1])
    }

    /// [windows, 1, t, t]: -100 between positions of different regions of the rolled grid, else 0.
    mutating func shiftMask(_ g: WindowGrid) -> String {
        let (ws, t, count) = (g.window, g.tokens, g.windowsY * g.windowsX)
        func region(_ v: Int, _ size: Int, _ shift: Int) -> Int { v < size - ws ? 0 : (v < size - shift ? 1 : 2) }
        var mask = [Float](repeating: 0, count: count * t * t)
        for w in 0..<count {
            let (wy, wx) = (w / g.windowsX, w % g.windowsX)
            let ids = (0..<t).map { region(wy * ws + $0 / ws, g.paddedH, g.shiftY) * 3 + region(wx * ws + $0 % ws, g.paddedW, g.shiftX) }
            for i in 0..<t { for j in 0..<t where ids[i] != ids[j] { mask[(w * t + i) * t + j] = -100 } }
        }
        return b.floats(mask, dims: [count, 1, t, t], name: "shift_mask[\(g.paddedH)x\(g.paddedW),\(ws),\(g.shiftY),\(g.shiftX)]")
    }

    /// Patch merging: the 2 x 2 neighbours (zero-padded to even sizes) side by side, layernorm, linear 4c -> 2c.
    mutating func patchMerge(_ n: Graph.Node) throws {
        let s = shape(n.inputs[0])
        var x = try input(n)
        if !s[1].isMultiple(of: 2) || !s[2].isMultiple(of: 2) {
            let hw = try known(n.inputs[0], "the grid's height and width")
            x = b.op("Pad", [x, b.ints([0, 0, 0, 0, 0, hw[0] % 2, hw[1] % 2, 0])])
        }
        let parts = [(0, 0), (1, 0), (0, 1), (1, 1)].map { dy, dx in
            b.op("Slice", [x, b.ints([dy, dx]), b.ints([Int.max, Int.max]), b.ints([1, 2]), b.ints([2, 2])])
        }
        let gathered = b.op("Concat", parts, [.i("axis", -1)])
        let normed = b.op("LayerNormalization", [gathered, try required("norm.weight"), try required("norm.bias")],
                          [.i("axis", -1), .f("epsilon", try arg(n.float("eps"), "eps"))])
        linear(normed, rank: 4, weight: try required("reduction.weight"), bias: nil, into: out)
    }
}

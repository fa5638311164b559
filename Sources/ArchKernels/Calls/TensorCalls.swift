/// The sum, mean or largest value of each line along one dimension of a tensor seen as
/// [outer, size, inner]: out [outer, inner].
public struct ReduceCall: KernelCallProtocol {
    public enum Op: String, Sendable { case sum, mean, max }
    public var op = Op.sum
    public var outer = 0, size = 0, inner = 1
    public var input = 0, output = 0

    public init(op: Op = Op.sum, outer: Int = 0, size: Int = 0, inner: Int = 1, input: Int = 0, output: Int = 0) {
        self.op = op; self.outer = outer; self.size = size; self.inner = inner; self.input = input; self.output = output
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) {
        let x = f.value(input), y = f.value(output)
        for o in 0..<outer {
            let src = x + o * size * inner, dst = y + o * inner
            dst.update(from: src, count: inner)
            for j in 1..<max(size, 1) {
                let row = src + j * inner
                switch op {
                case .sum, .mean: for i in 0..<inner { dst[i] += row[i] }
                case .max: for i in 0..<inner where row[i] > dst[i] || row[i].isNaN { dst[i] = row[i] }
                }
            }
            if op == .mean { for i in 0..<inner { dst[i] /= Float(size) } }
        }
    }
}

/// Positions start, start + step, ... (`count` of them) along one dimension of a tensor seen as
/// [outer, size, inner]: out [outer, count, inner]. A slice, or with count 1 an index.
public struct SliceCall: KernelCallProtocol {
    public var outer = 0, size = 0, inner = 1
    public var start = 0, step = 1, count = 0
    public var input = 0, output = 0

    public init(outer: Int = 0, size: Int = 0, inner: Int = 1, start: Int = 0, step: Int = 1, count: Int = 0, input: Int = 0, output: Int = 0) {
        self.outer = outer; self.size = size; self.inner = inner; self.start = start; self.step = step; self.count = count
        self.input = input; self.output = output
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) {
        let x = f.value(input), y = f.value(output)
        for o in 0..<outer {
            for k in 0..<count {
                (y + (o * count + k) * inner).update(from: x + (o * size + start + k * step) * inner, count: inner)
            }
        }
    }
}

/// Blocks of an image as columns (nn.Unfold): per example, [c, h, w] -> [c kh kw, outH outW], each
/// column the kernel's positions at one place of the (padded, strided, dilated) grid, zero outside
/// the image. With `fold` the other way (nn.Fold): columns added back into the image, overlaps summed.
public struct UnfoldCall: KernelCallProtocol {
    public var batch = 0
    public var geometry = ConvGeometry.zero
    public var fold = false
    public var input = 0, output = 0

    public init(batch: Int = 0, geometry: ConvGeometry = ConvGeometry.zero, fold: Bool = false, input: Int = 0, output: Int = 0) {
        self.batch = batch; self.geometry = geometry; self.fold = fold; self.input = input; self.output = output
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) {
        let g = geometry, image = g.inChannels * g.inH * g.inW
        let blocks = g.outH * g.outW, columns = g.inChannels * g.kernelH * g.kernelW * blocks
        let x = f.value(input), y = f.value(output)
        if fold { y.update(repeating: 0, count: batch * image) }
        for n in 0..<batch {
            let img = (fold ? y : x) + n * image, col = (fold ? x : y) + n * columns
            for c in 0..<g.inChannels { for i in 0..<g.kernelH { for j in 0..<g.kernelW {
                let row = col + ((c * g.kernelH + i) * g.kernelW + j) * blocks
                for oy in 0..<g.outH {
                    let sy = oy * g.strideH - g.padTop + i * g.dilationH
                    for ox in 0..<g.outW {
                        let sx = ox * g.strideW - g.padLeft + j * g.dilationW
                        let inside = sy >= 0 && sy < g.inH && sx >= 0 && sx < g.inW
                        let at = oy * g.outW + ox
                        if fold {
                            if inside { img[(c * g.inH + sy) * g.inW + sx] += row[at] }
                        } else {
                            row[at] = inside ? img[(c * g.inH + sy) * g.inW + sx] : 0
                        }
                    }
                }
            } } }
        }
    }
}

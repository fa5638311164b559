/// A value seen with another shape (flatten, reshape, dropout and identity at inference): the
/// planner gives it its input's buffer, so there is nothing to do.
public struct ViewCall: KernelCallProtocol {
    public var input = 0, output = 0
    public init(input: Int = 0, output: Int = 0) {
        self.input = input; self.output = output
    }

    public var reads: [Int] { [input] }
    public func run(_ f: Frame) {}
}

/// Dimensions reordered: out[i0, i1, ...] = x[i_perm...] with out's shape `shape[perm[k]]`.
public struct PermuteCall: KernelCallProtocol {
    public var shape: [Int] = [], perm: [Int] = []
    public var input = 0, output = 0

    public init(shape: [Int] = [], perm: [Int] = [], input: Int = 0, output: Int = 0) {
        self.shape = shape; self.perm = perm; self.input = input; self.output = output
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) {
        let x = f.value(input), y = f.value(output)
        let r = shape.count, count = shape.reduce(1, *)
        guard r >= 2 else { y.update(from: x, count: count); return }
        var strides = [Int](repeating: 1, count: r)
        for i in stride(from: r - 2, through: 0, by: -1) { strides[i] = strides[i + 1] * shape[i + 1] }
        let outShape = perm.map { shape[$0] }, inStrides = perm.map { strides[$0] }
        // The innermost output dimension as a strided run.
        let inner = outShape.last ?? 1, step = inStrides.last ?? 1
        var idx = [Int](repeating: 0, count: r)
        var o = 0
        while o < count {
            var src = 0
            for k in 0..<(r - 1) { src += idx[k] * inStrides[k] }
            for t in 0..<inner { y[o + t] = x[src + t * step] }
            o += inner
            var k = r - 2
            while k >= 0 { idx[k] += 1; if idx[k] < outShape[k] { break }; idx[k] = 0; k -= 1 }
        }
    }
}

/// Inputs concatenated along one dimension of a tensor seen as [outer, size, inner].
public struct ConcatCall: KernelCallProtocol {
    public var outer = 0, inner = 0
    public var sizes: [Int] = [], inputs: [Int] = []
    public var output = 0

    public init(outer: Int = 0, inner: Int = 0, sizes: [Int] = [], inputs: [Int] = [], output: Int = 0) {
        self.outer = outer; self.inner = inner; self.sizes = sizes; self.inputs = inputs; self.output = output
    }

    public var reads: [Int] { inputs }

    public func run(_ f: Frame) {
        let y = f.value(output), total = sizes.reduce(0, +)
        var offset = 0
        for (k, v) in inputs.enumerated() {
            let x = f.value(v), chunk = sizes[k] * inner
            for o in 0..<outer { (y + (o * total + offset) * inner).update(from: x + o * chunk, count: chunk) }
            offset += sizes[k]
        }
    }
}

/// Positions added to every example: out [b, n, d] = x + table[n, d] (a learned table, the first
/// rows of a longer one, or sinusoids made once).
public struct PositionsCall: KernelCallProtocol {
    public var batch = 0, count = 0
    public var table = 0
    public var input = 0, output = 0

    public init(batch: Int = 0, count: Int = 0, table: Int = 0, input: Int = 0, output: Int = 0) {
        self.batch = batch; self.count = count; self.table = table; self.input = input; self.output = output
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) {
        let x = f.value(input), y = f.value(output), t = f.constant(table)
        for b in 0..<batch {
            let src = x + b * count, dst = y + b * count
            for j in 0..<count { dst[j] = src[j] + t[j] }
        }
    }
}

/// A learned token put in front of every example's sequence: [b, n, d] -> [b, n + 1, d] (ViT's class token).
public struct PrependTokenCall: KernelCallProtocol {
    public var batch = 0, tokens = 0, width = 0
    public var token = 0
    public var input = 0, output = 0

    public init(batch: Int = 0, tokens: Int = 0, width: Int = 0, token: Int = 0, input: Int = 0, output: Int = 0) {
        self.batch = batch; self.tokens = tokens; self.width = width; self.token = token; self.input = input; self.output = output
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) {
        let x = f.value(input), y = f.value(output), t = f.constant(token)
        let (n, d) = (tokens, width)
        for b in 0..<batch {
            (y + b * (n + 1) * d).update(from: t, count: d)
            (y + b * (n + 1) * d + d).update(from: x + b * n * d, count: n * d)
        }
    }
}

/// One vector per example from its tokens [b, n, d]: the first (class token), the last, or the mean.
public struct TakeCall: KernelCallProtocol {
    public enum Which: String, Sendable { case first, last, mean }
    public var batch = 0, tokens = 0, width = 0
    public var which = Which.first
    public var input = 0, output = 0

    public init(batch: Int = 0, tokens: Int = 0, width: Int = 0, which: Which = Which.first, input: Int = 0, output: Int = 0) {
        self.batch = batch; self.tokens = tokens; self.width = width; self.which = which; self.input = input; self.output = output
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) {
        let x = f.value(input), y = f.value(output)
        let (n, d) = (tokens, width)
        for b in 0..<batch {
            let dst = y + b * d, src = x + b * n * d
            switch which {
            case .first: dst.update(from: src, count: d)
            case .last: dst.update(from: src + (n - 1) * d, count: d)
            case .mean:
                dst.update(repeating: 0, count: d)
                for t in 0..<n { for j in 0..<d { dst[j] += src[t * d + j] } }
                for j in 0..<d { dst[j] /= Float(n) }
            }
        }
    }
}

/// Swin's patch merging, first half: the 2x2 neighbours of [b, h, w, c] (x0 (0,0), x1 (1,0), x2 (0,1),
/// x3 (1,1)) side by side as [b, ceil(h / 2), ceil(w / 2), 4c]; odd sizes zero-padded as torchvision does.
public struct PatchMergeGatherCall: KernelCallProtocol {
    public var batch = 0, height = 0, width = 0, channels = 0
    public var input = 0, output = 0

    public init(batch: Int = 0, height: Int = 0, width: Int = 0, channels: Int = 0, input: Int = 0, output: Int = 0) {
        self.batch = batch; self.height = height; self.width = width; self.channels = channels; self.input = input; self.output = output
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) {
        let x = f.value(input), y = f.value(output), c = channels
        let oh = (height + 1) / 2, ow = (width + 1) / 2
        let neighbours = [(0, 0), (1, 0), (0, 1), (1, 1)]
        for b in 0..<batch { for i in 0..<oh { for j in 0..<ow {
            for (q, (dy, dx)) in neighbours.enumerated() {
                let sy = 2 * i + dy, sx = 2 * j + dx
                let dst = y + ((b * oh + i) * ow + j) * 4 * c + q * c
                if sy < height && sx < width { dst.update(from: x + ((b * height + sy) * width + sx) * c, count: c) }
                else { dst.update(repeating: 0, count: c) }
            }
        } } }
    }
}

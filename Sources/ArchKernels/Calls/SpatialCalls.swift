/// Max or average pooling of every plane [h, w] of [b, c, h, w] (1-d: height 1).
public struct PoolCall: KernelCallProtocol {
    public var planes = 0, height = 0, width = 0, outHeight = 0, outWidth = 0
    public var window = Pool.Window(kernelH: 1, kernelW: 1, strideH: 1, strideW: 1, padTop: 0, padLeft: 0)
    public var isMax = true
    public var input = 0, output = 0
    public var threads = 1

    public init(planes: Int = 0, height: Int = 0, width: Int = 0, outHeight: Int = 0, outWidth: Int = 0,
                window: Pool.Window = Pool.Window(kernelH: 1, kernelW: 1, strideH: 1, strideW: 1, padTop: 0, padLeft: 0),
                isMax: Bool = true, input: Int = 0, output: Int = 0, threads: Int = 1) {
        self.planes = planes; self.height = height; self.width = width; self.outHeight = outHeight; self.outWidth = outWidth
        self.window = window; self.isMax = isMax; self.input = input; self.output = output; self.threads = threads
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) {
        Pool.forward(planes: planes, h: height, w: width, oh: outHeight, ow: outWidth, window: window, max: isMax,
                     input: f.value(input), output: f.value(output), threads: f.threads(threads))
    }
}

/// Adaptive pooling to a fixed size (global pooling is 1x1): output cell i covers the input
/// [floor(i n / o), ceil((i + 1) n / o)).
public struct AdaptivePoolCall: KernelCallProtocol {
    public var planes = 0, height = 0, width = 0, outHeight = 0, outWidth = 0
    public var isMax = false
    public var input = 0, output = 0

    public init(planes: Int = 0, height: Int = 0, width: Int = 0, outHeight: Int = 0, outWidth: Int = 0, isMax: Bool = false,
                input: Int = 0, output: Int = 0) {
        self.planes = planes; self.height = height; self.width = width; self.outHeight = outHeight; self.outWidth = outWidth
        self.isMax = isMax; self.input = input; self.output = output
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) {
        let x = f.value(input), y = f.value(output)
        let (h, w, oh, ow) = (height, width, outHeight, outWidth)
        for pl in 0..<planes {
            let src = x + pl * h * w
            for oy in 0..<oh { for ox in 0..<ow {
                let ya = oy * h / oh, yb = ((oy + 1) * h + oh - 1) / oh
                let xa = ox * w / ow, xb = ((ox + 1) * w + ow - 1) / ow
                var acc: Float = isMax ? -.infinity : 0
                if !isMax && xa == 0 && xb == w {
                    // Whole rows (a global pool): one run of floats, summed 16 lanes at a time.
                    acc = Elementwise.sum(src + ya * w, count: (yb - ya) * w)
                } else {
                    for iy in ya..<yb { for ix in xa..<xb {
                        let v = src[iy * w + ix]
                        acc = isMax ? max(acc, v) : acc + v
                    } }
                }
                y[(pl * oh + oy) * ow + ox] = isMax ? acc : acc / Float((yb - ya) * (xb - xa))
            } }
        }
    }
}

/// Nearest or bilinear upsampling of every plane (bilinear as nn.Upsample with align_corners=False:
/// output pixel i samples the input at (i + 0.5) / scale - 0.5, clamped at the edges).
public struct UpsampleCall: KernelCallProtocol {
    public var planes = 0, height = 0, width = 0, outHeight = 0, outWidth = 0
    public var bilinear = false
    public var input = 0, output = 0

    public init(planes: Int = 0, height: Int = 0, width: Int = 0, outHeight: Int = 0, outWidth: Int = 0, bilinear: Bool = false,
                input: Int = 0, output: Int = 0) {
        self.planes = planes; self.height = height; self.width = width; self.outHeight = outHeight; self.outWidth = outWidth
        self.bilinear = bilinear; self.input = input; self.output = output
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) {
        let x = f.value(input), y = f.value(output)
        let (h, w, oh, ow) = (height, width, outHeight, outWidth)
        guard bilinear else {
            for pl in 0..<planes { for oy in 0..<oh { for ox in 0..<ow {
                y[(pl * oh + oy) * ow + ox] = x[pl * h * w + (oy * h / oh) * w + ox * w / ow]
            } } }
            return
        }
        func taps(_ o: Int, _ n: Int, _ on: Int) -> (Int, Int, Float) {
            let src = max((Float(o) + 0.5) * Float(n) / Float(on) - 0.5, 0)
            let i0 = min(Int(src), n - 1)
            return (i0, min(i0 + 1, n - 1), src - Float(i0))
        }
        let rows = (0..<oh).map { taps($0, h, oh) }, cols = (0..<ow).map { taps($0, w, ow) }
        for pl in 0..<planes {
            let p = x + pl * h * w
            for (oy, (y0, y1, ly)) in rows.enumerated() { for (ox, (x0, x1, lx)) in cols.enumerated() {
                let top = p[y0 * w + x0] * (1 - lx) + p[y0 * w + x1] * lx
                let bottom = p[y1 * w + x0] * (1 - lx) + p[y1 * w + x1] * lx
                y[(pl * oh + oy) * ow + ox] = top * (1 - ly) + bottom * ly
            } }
        }
    }
}

/// Max and average pooling over [planes, h, w], as PyTorch computes them: windows start at
/// o * stride - pad, average pooling counts the zero padding (count_include_pad) but not the part
/// of a ceil-mode window past the padding. Planes are split across the cores.
public enum Pool {
    public struct Window: Sendable, Equatable {
        public var kernelH: Int, kernelW: Int, strideH: Int, strideW: Int, padTop: Int, padLeft: Int
        public init(kernelH: Int, kernelW: Int, strideH: Int, strideW: Int, padTop: Int, padLeft: Int) {
            self.kernelH = kernelH; self.kernelW = kernelW; self.strideH = strideH; self.strideW = strideW
            self.padTop = padTop; self.padLeft = padLeft
        }
    }

    public static func forward(planes: Int, h: Int, w: Int, oh: Int, ow: Int, window k: Window, max isMax: Bool,
                               input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>, threads: Int) {
        let workers = planes * oh * ow * k.kernelH * k.kernelW >= 1 << 16 ? max(1, min(planes, threads)) : 1
        Parallel.forEach(planes, threads: workers) { pl, _ in
            plane(h: h, w: w, oh: oh, ow: ow, window: k, max: isMax, input: x + pl * h * w, output: y + pl * oh * ow)
        }
    }

    static func plane(h: Int, w: Int, oh: Int, ow: Int, window k: Window, max isMax: Bool,
                      input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>) {
        for oy in 0..<oh {
            let y0 = oy * k.strideH - k.padTop
            let y1 = Swift.min(y0 + k.kernelH, h + k.padTop)
            let ya = Swift.max(y0, 0), yb = Swift.min(y1, h)
            for ox in 0..<ow {
                let x0 = ox * k.strideW - k.padLeft
                let x1 = Swift.min(x0 + k.kernelW, w + k.padLeft)
                let xa = Swift.max(x0, 0), xb = Swift.min(x1, w)
                var acc: Float = isMax ? -.infinity : 0
                var iy = ya
                while iy < yb {
                    let row = x + iy * w
                    var ix = xa
                    if isMax {
                        while ix < xb { let v = row[ix]; acc = v > acc ? v : acc; ix += 1 }
                    } else {
                        while ix < xb { acc += row[ix]; ix += 1 }
                    }
                    iy += 1
                }
                y[oy * ow + ox] = isMax ? acc : acc / Float((y1 - y0) * (x1 - x0))
            }
        }
    }
}

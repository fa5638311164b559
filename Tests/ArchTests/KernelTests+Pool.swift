import XCTest
@testable import ArchKernels

/// Max and average pooling against PyTorch's definition: padding (counted by the average), ceil
/// mode's windows past the padding (not counted), strides larger than the window, NaN passed on by
/// max pooling, planes split across workers.
extension KernelTests {
    func testPoolingAgainstTheDefinition() {
        // (kernel h, w, stride h, w, pad top, left, ceil mode, h, w)
        let cases = [(3, 3, 2, 2, 1, 1, false, 112, 112), (2, 2, 2, 2, 0, 0, false, 7, 9), (3, 3, 2, 2, 0, 0, true, 8, 10),
                     (3, 3, 1, 1, 1, 1, false, 5, 37), (1, 5, 1, 3, 0, 2, true, 1, 23), (2, 2, 3, 3, 0, 0, false, 11, 11),
                     (5, 5, 2, 2, 2, 2, true, 18, 19), (7, 7, 1, 1, 0, 0, false, 7, 7),
                     (3, 3, 2, 2, 1, 1, true, 9, 67), (2, 4, 1, 2, 0, 1, false, 3, 70)]
        for (kh, kw, sh, sw, ph, pw, ceilMode, h, w) in cases {
            let window = Pool.Window(kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padTop: ph, padLeft: pw)
            let oh = outputLength(h, k: kh, s: sh, p: ph, ceil: ceilMode), ow = outputLength(w, k: kw, s: sw, p: pw, ceil: ceilMode)
            let planes = 3
            var x = values(planes * h * w, seed: 5)
            x[h * w + w + 1] = .nan  // plane 1, row 1, column 1
            for isMax in [true, false] {
                var y = [Float](repeating: 0, count: planes * oh * ow)
                Pool.forward(planes: planes, h: h, w: w, oh: oh, ow: ow, window: window, max: isMax, input: x, output: &y, threads: 2)
                let want = poolDefinition(x, planes: planes, h: h, w: w, oh: oh, ow: ow, window, max: isMax)
                for (i, (got, expected)) in zip(y, want).enumerated() {
                    let same = got.isNaN ? expected.isNaN : abs(got - expected) <= 1e-5
                    XCTAssertTrue(same, "\(isMax ? "max" : "avg") k \(kh)x\(kw) s \(sh)x\(sw) p \(ph),\(pw) ceil \(ceilMode) \(h)x\(w) at \(i): \(got) vs \(expected)")
                }
            }
        }
    }

    func outputLength(_ n: Int, k: Int, s: Int, p: Int, ceil: Bool) -> Int {
        var out = (n + 2 * p - k + (ceil ? s - 1 : 0)) / s + 1
        if ceil && (out - 1) * s >= n + p { out -= 1 }
        return out
    }

    /// PyTorch's max_pool2d and avg_pool2d (count_include_pad), element by element.
    func poolDefinition(_ x: [Float], planes: Int, h: Int, w: Int, oh: Int, ow: Int, _ k: Pool.Window, max isMax: Bool) -> [Float] {
        var y = [Float]()
        for pl in 0..<planes {
            for oy in 0..<oh {
                for ox in 0..<ow {
                    let y0 = oy * k.strideH - k.padTop, x0 = ox * k.strideW - k.padLeft
                    let y1 = min(y0 + k.kernelH, h + k.padTop), x1 = min(x0 + k.kernelW, w + k.padLeft)
                    var acc: Float = isMax ? -.infinity : 0
                    for iy in max(y0, 0)..<max(max(y0, 0), min(y1, h)) {
                        for ix in max(x0, 0)..<max(max(x0, 0), min(x1, w)) {
                            let v = x[pl * h * w + iy * w + ix]
                            acc = isMax ? (v > acc || v.isNaN ? v : acc) : acc + v
                        }
                    }
                    y.append(isMax ? acc : acc / Float((y1 - y0) * (x1 - x0)))
                }
            }
        }
        return y
    }
}

import XCTest
@testable import ArchKernels

/// The direct convolution where the shared convolution test cannot reach it: that test always adds
/// a residual, so every tile goes through the copy into the output's rows; without one, a tile of 32
/// positions inside an output row is written in place (the stems' maps are 112 wide), with the
/// clamp in registers or another activation after. Against the GEMM, itself tested against the definition.
extension KernelTests {
    func testDirectConvolutionWithoutAResidual() {
        // (channels in, out, kernel, stride, pad, h, w): the stems of ResNet and MobileNet narrowed, a
        // row of 40 outputs (a tile in place, one not), channels 12 (whole panels) and 13 (a partial one).
        for (cin, cout, k, s, p, h, w) in [(3, 12, 7, 2, 3, 20, 70), (3, 13, 3, 2, 1, 9, 80), (2, 6, 3, 1, 1, 5, 64), (4, 7, 5, 1, 2, 6, 40)] {
            let oh = (h + 2 * p - k) / s + 1, ow = (w + 2 * p - k) / s + 1
            let g = ConvGeometry(inChannels: cin, outChannels: cout, groups: 1, inH: h, inW: w, outH: oh, outW: ow, kernelH: k, kernelW: k,
                                 strideH: s, strideW: s, padTop: p, padLeft: p, dilationH: 1, dilationW: 1)
            XCTAssertTrue(ConvAlgorithm.direct.applies(to: g))
            let x = values(g.inputCount, seed: 1), f = values(cout * cin * k * k, seed: 2), bias = values(cout, seed: 3)
            for activation in [Activation.none, .relu6, .gelu] {
                for threads in [1, 2] {
                    let want = convolve(g, .gemm, x, f, bias, activation, threads: 1)
                    let got = convolve(g, .direct, x, f, bias, activation, threads: threads)
                    XCTAssertLessThanOrEqual(largestDifference(got, want), 1e-5, "\(activation), \(threads) threads: cin \(cin) cout \(cout) k \(k) s \(s) \(h)x\(w)")
                }
            }
        }
    }

    func convolve(_ g: ConvGeometry, _ algorithm: ConvAlgorithm, _ x: [Float], _ f: [Float], _ bias: [Float], _ activation: Activation,
                  threads: Int) -> [Float] {
        var prepared = [Float](repeating: 0, count: Conv.preparedCount(g, algorithm))
        var scratch = [Float](repeating: .nan, count: max(1, Conv.scratchCount(g, algorithm, threads: threads)))
        var y = [Float](repeating: .nan, count: g.outputCount)
        f.withUnsafeBufferPointer { fp in prepared.withUnsafeMutableBufferPointer { Conv.prepare(g, algorithm, weight: fp.baseAddress!, into: $0.baseAddress!) } }
        x.withUnsafeBufferPointer { xp in prepared.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
            y.withUnsafeMutableBufferPointer { yp in scratch.withUnsafeMutableBufferPointer { sp in
                Conv.forward(g, algorithm, input: xp.baseAddress!, weights: wp.baseAddress!, bias: bp.baseAddress, residual: nil,
                             activation: activation, output: yp.baseAddress!, scratch: sp.baseAddress!, threads: threads)
            } }
        } } }
        return y
    }
}

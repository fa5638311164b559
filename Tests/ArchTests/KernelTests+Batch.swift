import XCTest
@testable import ArchKernels

/// A batch through each convolution algorithm: the positions-as-rows GEMM takes it at once (its rows
/// every example's positions), the others example by example; both equal the definition per example.
extension KernelTests {
    func testConvolutionOfABatchAgainstTheDefinition() {
        // (channels in, out, kernel, stride, pad, h, w)
        for (cin, cout, k, s, p, h, w) in [(40, 70, 3, 1, 1, 7, 7), (16, 40, 1, 1, 0, 6, 6), (33, 65, 3, 2, 1, 9, 9), (8, 16, 3, 1, 1, 20, 20)] {
            let oh: Int = (h + 2 * p - k) / s + 1
            let ow: Int = (w + 2 * p - k) / s + 1
            let batch = 3
            let g = ConvGeometry(inChannels: cin, outChannels: cout, groups: 1, inH: h, inW: w, outH: oh, outW: ow, kernelH: k, kernelW: k,
                                 strideH: s, strideW: s, padTop: p, padLeft: p, dilationH: 1, dilationW: 1)
            let x = values(batch * g.inputCount, seed: 1), f = values(cout * cin * k * k, seed: 2)
            let bias = values(cout, seed: 3), residual = values(batch * g.outputCount, seed: 4)
            var want: [Float] = []
            for n in 0..<batch {
                let input = Array(x[(n * g.inputCount)..<((n + 1) * g.inputCount)])
                want += definition(g, input, f, bias, Array(residual[(n * g.outputCount)..<((n + 1) * g.outputCount)]))
            }
            for algorithm in ConvAlgorithm.allCases where algorithm.applies(to: g) {
                var prepared = [Float](repeating: 0, count: Conv.preparedCount(g, algorithm))
                var scratch = [Float](repeating: 0, count: max(1, Conv.scratchCount(g, algorithm, batch: batch, threads: 2)))
                var y = [Float](repeating: .nan, count: batch * g.outputCount)
                Conv.prepare(g, algorithm, weight: f, into: &prepared)
                scratch.withUnsafeMutableBufferPointer { sp in
                    Conv.forward(g, algorithm, batch: batch, input: x, weights: prepared, bias: bias, residual: residual, activation: .relu,
                                 output: &y, scratch: sp.baseAddress!, threads: 2)
                }
                let worst = largestDifference(y, want)
                XCTAssertLessThanOrEqual(worst, 1e-4, "\(algorithm), batch \(batch): cin \(cin) cout \(cout) k \(k) s \(s) \(h)x\(w)")
            }
        }
    }
}

/// A batch through the fused inverted residual: with one band per example and two threads, the
/// examples are split between the workers (one thread each); each equals its convolutions unfused.
extension KernelTests {
    func testInvertedResidualSplitsABatchByExamples() {
        let (c, e, o, h, w, batch) = (4, 24, 4, 7, 7, 3)
        let g1 = ConvGeometry(inChannels: c, outChannels: e, groups: 1, inH: h, inW: w, outH: h, outW: w, kernelH: 1, kernelW: 1,
                              strideH: 1, strideW: 1, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1)
        let g2 = ConvGeometry(inChannels: e, outChannels: e, groups: e, inH: h, inW: w, outH: h, outW: w, kernelH: 3, kernelW: 3,
                              strideH: 1, strideW: 1, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1)
        let g3 = ConvGeometry(inChannels: e, outChannels: o, groups: 1, inH: h, inW: w, outH: h, outW: w, kernelH: 1, kernelW: 1,
                              strideH: 1, strideW: 1, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1)
        let shape = InvertedResidual.Shape(inChannels: c, hidden: e, outChannels: o, height: h, width: w, stride: 1, outHeight: h,
                                           outWidth: w, bandRows: h)
        XCTAssertEqual(InvertedResidual.exampleWorkers(shape, batch: batch, threads: 2), 2, "one band: the examples are shared out")
        let x = values(batch * c * h * w, seed: 1), res = values(batch * o * h * w, seed: 9)
        let (we, be, wd, bd, wp, bp) = (values(e * c, seed: 2), values(e, seed: 3), values(e * 9, seed: 4), values(e, seed: 5),
                                        values(o * e, seed: 6), values(o, seed: 7))
        var want: [Float] = []
        for n in 0..<batch {
            let xn = Array(x[(n * c * h * w)..<((n + 1) * c * h * w)]), rn = Array(res[(n * o * h * w)..<((n + 1) * o * h * w)])
            let mid = convolve(g1, .pointwise, xn, we, be, nil, .relu6)
            want += convolve(g3, .pointwise, convolve(g2, .depthwise, mid, wd, bd, nil, .relu6), wp, bp, rn, .none)
        }
        var packedE = [Float](repeating: 0, count: Conv.preparedCount(g1, .pointwise))
        var packedP = [Float](repeating: 0, count: Conv.preparedCount(g3, .pointwise))
        Conv.prepare(g1, .pointwise, weight: we, into: &packedE)
        Conv.prepare(g3, .pointwise, weight: wp, into: &packedP)
        var y = [Float](repeating: .nan, count: batch * o * h * w)
        var scratch = [Float](repeating: .nan, count: InvertedResidual.scratchCount(shape, batch: batch, threads: 2))
        packedE.withUnsafeBufferPointer { pe in be.withUnsafeBufferPointer { bep in wd.withUnsafeBufferPointer { wdp in
            bd.withUnsafeBufferPointer { bdp in packedP.withUnsafeBufferPointer { pp in bp.withUnsafeBufferPointer { bpp in
                let weights = InvertedResidual.Weights(expand: pe.baseAddress, expandBias: bep.baseAddress, expandActivation: .relu6,
                                                       depthwise: wdp.baseAddress!, depthwiseBias: bdp.baseAddress, depthwiseActivation: .relu6,
                                                       project: pp.baseAddress!, projectBias: bpp.baseAddress)
                scratch.withUnsafeMutableBufferPointer { sp in
                    InvertedResidual.forward(shape, weights, batch: batch, input: x, residual: res, output: &y, scratch: sp.baseAddress!,
                                             threads: 2)
                }
            } } }
        } } }
        let worst = largestDifference(y, want)
        XCTAssertLessThanOrEqual(worst, 1e-4)
    }
}

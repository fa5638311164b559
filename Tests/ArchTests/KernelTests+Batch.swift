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
                let worst = zip(y, want).map { abs($0 - $1) }.max()!
                XCTAssertLessThanOrEqual(worst, 1e-4, "\(algorithm), batch \(batch): cin \(cin) cout \(cout) k \(k) s \(s) \(h)x\(w)")
            }
        }
    }
}

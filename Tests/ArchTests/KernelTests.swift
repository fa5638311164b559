import XCTest
@testable import ArchKernels

/// The kernels against their definitions: every activation vectorised and scalar, the GEMM's fused
/// epilogue (residual, multiplier), each convolution algorithm with its epilogue (attention and
/// rotary embeddings: KernelTests+Attention.swift).
final class KernelTests: XCTestCase {
    func values(_ n: Int, seed: Int) -> [Float] { (0..<n).map { Float((($0 + seed) * 37 + seed * 11) % 23) / 11 - 1 } }

    func testVectorisedActivationsMatchTheDefinitions() {
        var xs = (0..<4001).map { Float($0 - 2000) / 200 }  // -10 ... 10
        xs += [0, -0.0, 1e-8, -1e-8, 50, -50, 90, -90]
        let definitions: [Activation: (Double) -> Double] = [
            .none: { $0 }, .relu: { max($0, 0) }, .relu6: { min(max($0, 0), 6) }, .gelu: { 0.5 * $0 * (1 + erf($0 / 2.0.squareRoot())) },
            .geluTanh: { 0.5 * $0 * (1 + tanh(0.7978845608 * ($0 + 0.044715 * $0 * $0 * $0))) }, .silu: { $0 / (1 + exp(-$0)) },
            .sigmoid: { 1 / (1 + exp(-$0)) }, .tanh: { tanh($0) }, .hardswish: { $0 * min(max($0 + 3, 0), 6) / 6 },
        ]
        XCTAssertEqual(definitions.count, Activation.allCases.count, "every activation has a definition here")
        for a in Activation.allCases {
            var ys = xs
            ys.withUnsafeMutableBufferPointer { a.apply($0.baseAddress!, count: $0.count) }
            for (x, y) in zip(xs, ys) {
                let want = definitions[a]!(Double(x))
                XCTAssertEqual(Double(y), want, accuracy: 3e-6 * max(1, abs(want)), "\(a)(\(x))")
                XCTAssertEqual(Double(a.apply(x)), want, accuracy: 3e-6 * max(1, abs(want)), "scalar \(a)(\(x))")
            }
        }
    }


    /// A vector's first lanes stored, and nothing past them, for every count.
    func testStoringTheFirstLanesOfAVector() {
        let v = SIMD16<Float>((0..<16).map { Float($0 + 1) })
        for count in 0...16 {
            var out = [Float](repeating: -1, count: 20)
            out.withUnsafeMutableBufferPointer { v.store(firstLanes: count, to: $0.baseAddress! + 2) }
            XCTAssertEqual(out, [-1, -1] + (0..<count).map { Float($0 + 1) } + [Float](repeating: -1, count: 18 - count), "\(count) lanes")
        }
    }

    /// A NaN stays NaN through every activation, as in PyTorch (relu and hardtanh keep it), both in
    /// the vectorised loops and in the clamp the GEMM applies in registers.
    func testNaNPassesThroughActivationsAndTheGemmClamp() {
        for a in Activation.allCases {
            var ys = [Float](repeating: .nan, count: 35)
            ys.withUnsafeMutableBufferPointer { a.apply($0.baseAddress!, count: $0.count) }
            XCTAssertTrue(ys.allSatisfy(\.isNaN), "\(a) of NaN")
        }
        let (m, n, k) = (12, 64, 3)
        var a = [Float](repeating: 1, count: m * k)
        a[5 * k] = .nan  // row 5 of C is NaN
        let b = [Float](repeating: -1, count: k * n), bias = [Float](repeating: 0.5, count: m)
        for activation in [Activation.relu, .relu6] {
            var c = [Float](repeating: 0, count: m * n)
            Gemm.sgemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n, epilogue: .rows(bias, activation))
            XCTAssertTrue(c[(5 * n)..<(6 * n)].allSatisfy(\.isNaN), "\(activation) in the epilogue keeps the NaN row")
            XCTAssertEqual(c[0], 0, "\(activation)(1 * -3 + 0.5) elsewhere")
        }
    }
    /// C = act(A B + bias + residual) * multiplier, with K over several blocks (the residual is read on
    /// the first), edge tiles, both splits across workers, and the residual being C itself.
    func testEpilogueResidualAndMultiplier() {
        for (m, n, k, inPlace) in [(13, 70, 300, false), (64, 37, 600, true), (200, 30, 9, false), (6, 32, 256, true)] {
            let a = values(m * k, seed: 1), b = values(k * n, seed: 2), bias = values(n, seed: 3)
            let residual = values(m * n, seed: 4), gate = values(m * n, seed: 5)
            var c = inPlace ? residual : [Float](repeating: .nan, count: m * n)
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in bias.withUnsafeBufferPointer { bb in
                residual.withUnsafeBufferPointer { rp in gate.withUnsafeBufferPointer { gp in c.withUnsafeMutableBufferPointer { cp in
                    let r = inPlace ? UnsafePointer(cp.baseAddress!) : rp.baseAddress!
                    Gemm.sgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n,
                               epilogue: Epilogue(bias: .perColumn, bb.baseAddress, activation: .silu, residual: r, ldr: n,
                                                  multiplier: gp.baseAddress, ldm: n), threads: 2)
                } } }
            } } }
            for i in 0..<m { for j in 0..<n {
                var s: Double = 0
                for p in 0..<k { s += Double(a[i * k + p]) * Double(b[p * n + j]) }
                let x = s + Double(bias[j]) + Double(residual[i * n + j])
                let want = x / (1 + exp(-x)) * Double(gate[i * n + j])
                XCTAssertEqual(Double(c[i * n + j]), want, accuracy: 1e-4 * max(1, abs(want)), "m \(m) n \(n) k \(k) at \(i), \(j)")
            } }
        }
    }

    /// The 3x3 depthwise convolutions without a residual, which run the fused inverted residual's
    /// depthwise stage on the whole map: strides 1 and 2, odd and even sizes, a map narrower than a
    /// vector and one wider than two, one worker and two (the last two split their channels).
    func testDepthwise3x3AgainstTheDefinition() {
        for (c, h, w, stride) in [(5, 7, 9, 1), (5, 8, 8, 2), (3, 13, 6, 2), (17, 7, 7, 1), (4, 9, 37, 2), (6, 5, 40, 1),
                                  (64, 17, 17, 1), (96, 30, 29, 2)] {
            let oh = (h - 1) / stride + 1, ow = (w - 1) / stride + 1
            let g = ConvGeometry(inChannels: c, outChannels: c, groups: c, inH: h, inW: w, outH: oh, outW: ow, kernelH: 3, kernelW: 3,
                                 strideH: stride, strideW: stride, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1)
            XCTAssertTrue(InvertedResidual.computesDepthwise(g))
            let x = values(g.inputCount, seed: 1), f = values(c * 9, seed: 2), bias = values(c, seed: 3)
            let want = definition(g, x, f, bias, [Float](repeating: 0, count: g.outputCount))
            for threads in [1, 2] {
                let worst = largestDifference(convolve(g, .depthwise, x, f, bias, nil, .relu, threads: threads), want)
                XCTAssertLessThanOrEqual(worst, 1e-5, "\(c) channels \(h)x\(w) stride \(stride), \(threads) threads")
            }
        }
    }

    /// Every algorithm on every geometry it applies to, with bias, residual and activation, against the definition.
    func testConvolutionAlgorithmsAgainstTheDefinition() {
        // (channels in, out, groups, kernel, stride, pad, dilation, h, w)
        let cases = [(3, 8, 1, 3, 1, 1, 1, 9, 11), (4, 64, 1, 3, 2, 1, 1, 15, 15), (6, 12, 2, 3, 1, 2, 2, 10, 7),
                     (5, 70, 1, 7, 2, 3, 1, 20, 19), (16, 40, 1, 1, 1, 0, 1, 6, 6), (8, 8, 1, 1, 2, 0, 1, 9, 9),
                     (3, 100, 1, 5, 3, 0, 1, 40, 40), (9, 200, 1, 3, 1, 1, 1, 5, 4),
                     (8, 16, 1, 3, 1, 1, 1, 20, 20), (16, 12, 1, 3, 1, 0, 1, 21, 19), (8, 8, 1, 3, 1, 2, 1, 15, 14),
                     (3, 3, 3, 3, 1, 1, 1, 7, 9), (3, 3, 3, 3, 2, 1, 1, 8, 8), (3, 3, 3, 5, 1, 2, 1, 6, 5), (3, 3, 3, 3, 1, 2, 2, 7, 7),
                     (3, 3, 3, 7, 3, 0, 1, 10, 13), (3, 3, 3, 3, 1, 0, 1, 2, 2),
                     // Strided GEMMs over phase planes: dilated and grouped, 1x1 (one phase of nine read),
                     // a stride past the input.
                     (4, 8, 2, 3, 2, 1, 2, 13, 12), (2, 6, 1, 1, 3, 0, 1, 10, 11), (2, 4, 1, 2, 4, 1, 1, 3, 3), (3, 8, 1, 3, 2, 1, 1, 9, 75),
                     // Small maps with many channels (the positions as the GEMM's rows): K over several
                     // blocks, the channels split between the workers, 1x1 read from the input as it is.
                     (40, 70, 1, 3, 1, 1, 1, 7, 7), (300, 96, 1, 1, 1, 0, 1, 5, 4), (33, 65, 1, 3, 2, 1, 1, 9, 9),
                     // 1x1s on maps 7 x 2^k wide (whole 7-row panels of positions, read as they are; strided),
                     // channels over several 32-wide panels and part of one.
                     (64, 96, 1, 1, 1, 0, 1, 7, 14), (24, 70, 1, 1, 2, 0, 1, 14, 14),
                     // Winograd F(4x4, 3x3): 4x4 tiles (6x6 exactly, cropped bottom and right, pads 0-2), and a
                     // tile row of 35 cut into runs.
                     (8, 8, 1, 3, 1, 1, 1, 24, 24), (8, 16, 1, 3, 1, 1, 1, 26, 30), (16, 12, 1, 3, 1, 0, 1, 27, 33),
                     (10, 20, 1, 3, 1, 2, 1, 23, 22), (8, 7, 1, 3, 1, 1, 1, 6, 140)]
        var ran: Set<ConvAlgorithm> = []
        for (cin, cout, groups, k, s, p, d, h, w) in cases {
            let oh = (h + 2 * p - d * (k - 1) - 1) / s + 1, ow = (w + 2 * p - d * (k - 1) - 1) / s + 1
            guard oh > 0, ow > 0 else { continue }
            let g = ConvGeometry(inChannels: cin, outChannels: cout, groups: groups, inH: h, inW: w, outH: oh, outW: ow, kernelH: k, kernelW: k,
                                 strideH: s, strideW: s, padTop: p, padLeft: p, dilationH: d, dilationW: d)
            let x = values(g.inputCount, seed: 1), f = values(cout * cin / groups * k * k, seed: 2)
            let bias = values(cout, seed: 3), residual = values(g.outputCount, seed: 4)
            let want = definition(g, x, f, bias, residual)
            for algorithm in ConvAlgorithm.allCases where algorithm.applies(to: g) {
                ran.insert(algorithm)
                let y = run(g, algorithm, x, f, bias, residual)
                let worst = largestDifference(y, want)
                XCTAssertLessThanOrEqual(worst, 1e-4, "\(algorithm): cin \(cin) cout \(cout) groups \(groups) k \(k) s \(s) p \(p) d \(d) \(h)x\(w)")
                // The residual may be the output itself (the schedule runs residual adds in place).
                XCTAssertEqual(run(g, algorithm, x, f, bias, residual, inPlace: true), y,
                               "\(algorithm) in place: cin \(cin) cout \(cout) groups \(groups) k \(k) s \(s) p \(p) d \(d) \(h)x\(w)")
            }
        }
        XCTAssertEqual(ran, Set(ConvAlgorithm.allCases), "every algorithm was tested")
    }

    /// Winograd F(4x4, 3x3) where its work is split otherwise: input channels over several KC blocks of the
    /// GEMM, output channels split in parts (the blocks of tiles left over when shared between the workers),
    /// tile rows cut into runs, 1 to 5 workers; against the GEMM, on filters scaled as initialised (1 / sqrt(fan-in)).
    func testWinogradF4SplitsAgainstTheGemm() {
        for (cin, cout, h, w, p) in [(300, 20, 20, 22, 1), (520, 13, 16, 16, 1), (9, 8, 130, 9, 2), (8, 9, 5, 300, 0)] {
            let g = ConvGeometry(inChannels: cin, outChannels: cout, groups: 1, inH: h, inW: w, outH: h + 2 * p - 2, outW: w + 2 * p - 2,
                                 kernelH: 3, kernelW: 3, strideH: 1, strideW: 1, padTop: p, padLeft: p, dilationH: 1, dilationW: 1)
            XCTAssertTrue(ConvAlgorithm.winograd4.applies(to: g))
            let x = values(g.inputCount, seed: 1), f = values(cout * cin * 9, seed: 2).map { $0 / Float(cin * 9).squareRoot() }
            let bias = values(cout, seed: 3), residual = values(g.outputCount, seed: 4)
            let want = run(g, .gemm, x, f, bias, residual)
            // F(4x4, 3x3)'s rounding grows with the channels: up to 1.2e-4 on outputs up to 3.3 with 520 here.
            let largest = want.map { abs($0) }.max()!
            for threads in [1, 2, 3, 5] {
                let y = run(g, .winograd4, x, f, bias, residual, threads: threads)
                let worst = largestDifference(y, want)
                XCTAssertLessThanOrEqual(worst, 1e-4 * max(1, largest), "cin \(cin) cout \(cout) \(h)x\(w) pad \(p), \(threads) threads")
            }
        }
    }

    /// The algorithm's output; `inPlace`, with the residual given in the output's memory.
    func run(_ g: ConvGeometry, _ algorithm: ConvAlgorithm, _ x: [Float], _ f: [Float], _ bias: [Float], _ residual: [Float],
             inPlace: Bool = false, threads: Int = 2) -> [Float] {
        var prepared = [Float](repeating: 0, count: Conv.preparedCount(g, algorithm))
        var scratch = [Float](repeating: 0, count: max(1, Conv.scratchCount(g, algorithm, threads: threads)))
        var y = inPlace ? residual : [Float](repeating: .nan, count: g.outputCount)
        f.withUnsafeBufferPointer { fp in prepared.withUnsafeMutableBufferPointer { Conv.prepare(g, algorithm, weight: fp.baseAddress!, into: $0.baseAddress!) } }
        x.withUnsafeBufferPointer { xp in prepared.withUnsafeBufferPointer { wp in bias.withUnsafeBufferPointer { bp in
            residual.withUnsafeBufferPointer { rp in y.withUnsafeMutableBufferPointer { yp in scratch.withUnsafeMutableBufferPointer { sp in
                Conv.forward(g, algorithm, input: xp.baseAddress!, weights: wp.baseAddress!, bias: bp.baseAddress,
                             residual: inPlace ? UnsafePointer(yp.baseAddress!) : rp.baseAddress,
                             activation: .relu, output: yp.baseAddress!, scratch: sp.baseAddress!, threads: threads)
            } } }
        } } }
        return y
    }

    /// relu(conv(x) + bias + residual), directly.
    func definition(_ g: ConvGeometry, _ x: [Float], _ f: [Float], _ bias: [Float], _ residual: [Float]) -> [Float] {
        let per = g.inChannels / g.groups
        var y = [Float](repeating: 0, count: g.outputCount)
        for o in 0..<g.outChannels { for oy in 0..<g.outH { for ox in 0..<g.outW {
            let grp = o / (g.outChannels / g.groups)
            var sum = bias[o]
            for c in 0..<per { for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
                let iy = oy * g.strideH - g.padTop + ky * g.dilationH, ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                if iy >= 0 && iy < g.inH && ix >= 0 && ix < g.inW {
                    sum += x[((grp * per + c) * g.inH + iy) * g.inW + ix] * f[((o * per + c) * g.kernelH + ky) * g.kernelW + kx]
                }
            } } }
            let i = (o * g.outH + oy) * g.outW + ox
            y[i] = max(sum + residual[i], 0)
        } } }
        return y
    }
}

extension KernelTests {
    /// The fused inverted residual against its three convolutions run one after the other: with and
    /// without the expansion, strides 1 and 2, even and odd sizes, rows of one vector and of
    /// several (16, 17, 32 wide: a row's last vector full or of one lane), bands of one row and of
    /// several, one worker and two. Scratch starts as NaN: a read past a row's edge that reached an
    /// output would show.
    func testInvertedResidualMatchesItsConvolutions() {
        for (c, e, o, h, w, stride, rows, residual) in [(8, 48, 8, 12, 13, 1, 3, true), (8, 48, 16, 12, 13, 2, 2, false),
                                                         (16, 16, 8, 9, 40, 1, 4, false), (4, 24, 4, 7, 7, 1, 7, true),
                                                         (6, 36, 12, 17, 35, 2, 1, false), (8, 32, 8, 33, 33, 1, 5, true),
                                                         (8, 24, 8, 10, 80, 2, 3, true), (4, 16, 4, 9, 71, 2, 2, false),
                                                         (8, 48, 8, 6, 16, 1, 2, false), (4, 24, 4, 5, 32, 1, 5, true),
                                                         (4, 24, 8, 4, 17, 1, 1, false)] {
            let oh = (h - 1) / stride + 1, ow = (w - 1) / stride + 1
            let expand = c != e
            let gExpand = ConvGeometry(inChannels: c, outChannels: e, groups: 1, inH: h, inW: w, outH: h, outW: w, kernelH: 1, kernelW: 1,
                                       strideH: 1, strideW: 1, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1)
            let gDepth = ConvGeometry(inChannels: e, outChannels: e, groups: e, inH: h, inW: w, outH: oh, outW: ow, kernelH: 3, kernelW: 3,
                                      strideH: stride, strideW: stride, padTop: 1, padLeft: 1, dilationH: 1, dilationW: 1)
            let gProject = ConvGeometry(inChannels: e, outChannels: o, groups: 1, inH: oh, inW: ow, outH: oh, outW: ow, kernelH: 1, kernelW: 1,
                                        strideH: 1, strideW: 1, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1)
            let x = values(c * h * w, seed: 1), res = values(o * oh * ow, seed: 9)
            let (we, be) = (values(e * c, seed: 2), values(e, seed: 3)), (wd, bd) = (values(e * 9, seed: 4), values(e, seed: 5))
            let (wp, bp) = (values(o * e, seed: 6), values(o, seed: 7))
            // Unfused: the 1x1s by their own algorithm; the depthwise convolution by its definition (the
            // depthwise algorithm runs the fused kernel's depthwise stage).
            let mid = expand ? convolve(gExpand, .pointwise, x, we, be, nil, .relu6) : x
            let dw = definition(gDepth, mid, wd, bd, [Float](repeating: 0, count: gDepth.outputCount)).map { min($0, 6) }
            let want = convolve(gProject, .pointwise, dw, wp, bp, residual ? res : nil, .none)
            let shape = InvertedResidual.Shape(inChannels: c, hidden: e, outChannels: o, height: h, width: w, stride: stride,
                                               outHeight: oh, outWidth: ow, bandRows: rows)
            for threads in [1, 2] {
                var packedE = [Float](repeating: 0, count: Conv.preparedCount(gExpand, .pointwise))
                var packedP = [Float](repeating: 0, count: Conv.preparedCount(gProject, .pointwise))
                we.withUnsafeBufferPointer { p in packedE.withUnsafeMutableBufferPointer { Conv.prepare(gExpand, .pointwise, weight: p.baseAddress!, into: $0.baseAddress!) } }
                wp.withUnsafeBufferPointer { p in packedP.withUnsafeMutableBufferPointer { Conv.prepare(gProject, .pointwise, weight: p.baseAddress!, into: $0.baseAddress!) } }
                var y = [Float](repeating: .nan, count: o * oh * ow)
                var scratch = [Float](repeating: .nan, count: InvertedResidual.scratchCount(shape, threads: threads))
                packedE.withUnsafeBufferPointer { pe in be.withUnsafeBufferPointer { bep in wd.withUnsafeBufferPointer { wdp in
                    bd.withUnsafeBufferPointer { bdp in packedP.withUnsafeBufferPointer { pp in bp.withUnsafeBufferPointer { bpp in
                        let weights = InvertedResidual.Weights(
                            expand: expand ? pe.baseAddress : nil, expandBias: bep.baseAddress, expandActivation: .relu6,
                            depthwise: wdp.baseAddress!, depthwiseBias: bdp.baseAddress, depthwiseActivation: .relu6,
                            project: pp.baseAddress!, projectBias: bpp.baseAddress)
                        x.withUnsafeBufferPointer { xp in res.withUnsafeBufferPointer { rp in y.withUnsafeMutableBufferPointer { yp in
                            scratch.withUnsafeMutableBufferPointer { sp in
                                InvertedResidual.forward(shape, weights, input: xp.baseAddress!, residual: residual ? rp.baseAddress : nil,
                                                         output: yp.baseAddress!, scratch: sp.baseAddress!, threads: threads)
                            }
                        } } }
                    } } }
                } } }
                let worst = largestDifference(y, want)
                XCTAssertLessThanOrEqual(worst, 1e-4, "c \(c) e \(e) o \(o) \(h)x\(w) stride \(stride) rows \(rows) threads \(threads)")
            }
        }
    }

    /// One convolution by one algorithm (weights prepared here), for composing references.
    func convolve(_ g: ConvGeometry, _ a: ConvAlgorithm, _ x: [Float], _ w: [Float], _ b: [Float], _ residual: [Float]?, _ act: Activation,
                  threads: Int = 1) -> [Float] {
        var prepared = [Float](repeating: 0, count: Conv.preparedCount(g, a))
        w.withUnsafeBufferPointer { wp in prepared.withUnsafeMutableBufferPointer { Conv.prepare(g, a, weight: wp.baseAddress!, into: $0.baseAddress!) } }
        var scratch = [Float](repeating: 0, count: max(1, Conv.scratchCount(g, a, threads: threads)))
        var y = [Float](repeating: .nan, count: g.outputCount)
        x.withUnsafeBufferPointer { xp in prepared.withUnsafeBufferPointer { pp in b.withUnsafeBufferPointer { bp in
            (residual ?? []).withUnsafeBufferPointer { rp in y.withUnsafeMutableBufferPointer { yp in scratch.withUnsafeMutableBufferPointer { sp in
                Conv.forward(g, a, input: xp.baseAddress!, weights: pp.baseAddress!, bias: bp.baseAddress, residual: residual == nil ? nil : rp.baseAddress,
                             activation: act, output: yp.baseAddress!, scratch: sp.baseAddress!, threads: threads)
            } } }
        } } }
        return y
    }
}

import XCTest
@testable import ArchKernels

/// The packed SGEMM against a plain triple loop, over shapes that hit every edge: partial panels of
/// rows and columns, K across block boundaries, strided operands, accumulation and epilogues.
final class GemmTests: XCTestCase {
    struct LCG {
        var s: UInt64
        mutating func next() -> Float {
            s = s &* 6364136223846793005 &+ 1442695040888963407
            return Float(Int64(bitPattern: s >> 11) % 2001 - 1000) / 1000
        }
    }

    func reference(_ m: Int, _ n: Int, _ k: Int, _ a: [Float], _ lda: Int, _ b: [Float], _ ldb: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        for i in 0..<m { for j in 0..<n {
            var s: Double = 0
            for p in 0..<k { s += Double(a[i * lda + p]) * Double(b[p * ldb + j]) }
            c[i * n + j] = Float(s)
        } }
        return c
    }

    func check(_ m: Int, _ n: Int, _ k: Int, pad: Int = 0, threads: Int = 0, file: StaticString = #filePath, line: UInt = #line) {
        var rng = LCG(s: UInt64(m * 1_000_003 + n * 1009 + k))
        let lda = k + pad, ldb = n + pad, ldc = n + pad
        let a = (0..<(m * lda)).map { _ in rng.next() }, b = (0..<(k * ldb)).map { _ in rng.next() }
        var c = [Float](repeating: .nan, count: m * ldc)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            Gemm.sgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb, c: cp.baseAddress!, ldc: ldc, threads: threads)
        } } }
        let want = reference(m, n, k, a, lda, b, ldb)
        var worst: Float = 0
        for i in 0..<m { for j in 0..<n { worst = max(worst, abs(c[i * ldc + j] - want[i * n + j])) } }
        XCTAssertLessThanOrEqual(worst, 1e-4 * Float(max(1, k)).squareRoot(), "m \(m) n \(n) k \(k) pad \(pad)", file: file, line: line)
    }

    func testShapesAndEdges() {
        for (m, n, k) in [(1, 1, 1), (6, 32, 1), (7, 33, 5), (5, 31, 17), (13, 70, 300), (96, 64, 256), (97, 65, 257), (1, 200, 3), (200, 1, 3)] {
            check(m, n, k)
        }
        check(11, 45, 29, pad: 3)
        check(64, 3136 / 16, 576, threads: 2)
        check(30, 100, 40, threads: 1)
    }

    func testAccumulateAndEpilogue() {
        let m = 7, n = 35, k = 9
        var rng = LCG(s: 42)
        let a = (0..<(m * k)).map { _ in rng.next() }, b = (0..<(k * n)).map { _ in rng.next() }
        let rowBias = (0..<m).map { Float($0) - 3 }
        var c = [Float](repeating: 1, count: m * n)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in rowBias.withUnsafeBufferPointer { bias in
            Gemm.sgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n,
                       accumulate: true, bias: bias.baseAddress, epilogue: Epilogue(bias: .perRow, activation: .relu))
        } } } }
        let plain = reference(m, n, k, a, k, b, n)
        for i in 0..<m { for j in 0..<n {
            XCTAssertEqual(c[i * n + j], max(0, plain[i * n + j] + 1 + rowBias[i]), accuracy: 1e-5)
        } }
    }

    func testEmptyK() {
        var c: [Float] = [5, 5]
        let none: [Float] = []
        none.withUnsafeBufferPointer { z in c.withUnsafeMutableBufferPointer { cp in
            Gemm.sgemm(m: 1, n: 2, k: 0, a: UnsafePointer(bitPattern: 8)!, lda: 0, b: UnsafePointer(bitPattern: 8)!, ldb: 2, c: cp.baseAddress!, ldc: 2)
            _ = z
        } }
        XCTAssertEqual(c, [0, 0])
    }

    func testPrepackedA() {
        for (m, n, k) in [(7, 40, 300), (64, 100, 576), (1, 3, 2)] {
            var rng = LCG(s: UInt64(m + n + k))
            let a = (0..<(m * k)).map { _ in rng.next() }, b = (0..<(k * n)).map { _ in rng.next() }
            let bias = (0..<m).map { Float($0) * 0.1 }
            var c = [Float](repeating: 0, count: m * n)
            let packed = a.withUnsafeBufferPointer { Gemm.PackedA($0.baseAddress!, lda: k, m: m, k: k) }
            b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in bias.withUnsafeBufferPointer { bb in
                Gemm.sgemm(packed: packed, n: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n, bias: bb.baseAddress,
                           epilogue: Epilogue(bias: .perRow, activation: .relu6))
            } } }
            let want = reference(m, n, k, a, k, b, n)
            for i in 0..<m { for j in 0..<n {
                XCTAssertEqual(c[i * n + j], min(max(want[i * n + j] + bias[i], 0), 6), accuracy: 1e-3, "m \(m) n \(n) k \(k)")
            } }
        }
    }

    func testPrepackedTransposedB() {
        for (m, n, k) in [(5, 70, 300), (197, 33, 64), (1, 1, 1)] {
            var rng = LCG(s: UInt64(m * 7 + n + k))
            let a = (0..<(m * k)).map { _ in rng.next() }, w = (0..<(n * k)).map { _ in rng.next() }
            var b = [Float](repeating: 0, count: k * n)
            for j in 0..<n { for p in 0..<k { b[p * n + j] = w[j * k + p] } }
            let packed = w.withUnsafeBufferPointer { Gemm.PackedB(transposed: $0.baseAddress!, ldb: k, n: n, k: k) }
            var c = [Float](repeating: 0, count: m * n)
            a.withUnsafeBufferPointer { ap in c.withUnsafeMutableBufferPointer { cp in
                Gemm.sgemm(m: m, a: ap.baseAddress!, lda: k, packed: packed, c: cp.baseAddress!, ldc: n)
            } }
            let want = reference(m, n, k, a, k, b, n)
            for i in 0..<(m * n) { XCTAssertEqual(c[i], want[i], accuracy: 1e-3, "m \(m) n \(n) k \(k)") }
        }
    }

    func testTransposedB() {
        let m = 9, n = 37, k = 300
        var rng = LCG(s: 7)
        let a = (0..<(m * k)).map { _ in rng.next() }, bt = (0..<(n * k)).map { _ in rng.next() }
        var b = [Float](repeating: 0, count: k * n)
        for j in 0..<n { for p in 0..<k { b[p * n + j] = bt[j * k + p] } }
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { ap in bt.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            Gemm.sgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: k, c: cp.baseAddress!, ldc: n, transposeB: true)
        } } }
        let want = reference(m, n, k, a, k, b, n)
        for i in 0..<(m * n) { XCTAssertEqual(c[i], want[i], accuracy: 1e-3) }
    }
}

/// The vectorised GELU against the scalar one built on erff.
final class ElementwiseTests: XCTestCase {
    func testVectorisedGELU() {
        var xs = (0..<4001).map { Float($0 - 2000) / 200 }  // -10 ... 10
        xs += [0, -0.0, 1e-8, -1e-8, 50, -50, 90, -90]
        var ys = xs
        ys.withUnsafeMutableBufferPointer { Elementwise.geluInPlace($0.baseAddress!, count: xs.count) }
        for (x, y) in zip(xs, ys) {
            let want = Elementwise.gelu(x)
            XCTAssertEqual(y, want, accuracy: 2e-6 * max(1, abs(want)), "gelu(\(x))")
        }
    }
}

/// Depthwise convolution against a direct definition, over strides, padding and dilation.
final class DepthwiseTests: XCTestCase {
    func testAgainstDefinition() {
        for (k, s, p, d, h, w) in [(3, 1, 1, 1, 7, 9), (3, 2, 1, 1, 8, 8), (5, 1, 2, 1, 6, 5), (3, 1, 2, 2, 7, 7), (7, 3, 0, 1, 10, 13), (3, 1, 0, 1, 2, 2)] {
            let c = 3
            let oh = (h + 2 * p - d * (k - 1) - 1) / s + 1, ow = (w + 2 * p - d * (k - 1) - 1) / s + 1
            guard oh > 0, ow > 0 else { continue }
            let x = (0..<(c * h * w)).map { Float(($0 * 37) % 17) / 8 - 1 }
            let f = (0..<(c * k * k)).map { Float(($0 * 11) % 13) / 6 - 1 }
            let b: [Float] = [0.5, -0.25, 0]
            var y = [Float](repeating: .nan, count: c * oh * ow)
            let g = ConvGeometry(inChannels: c, outChannels: c, groups: c, inH: h, inW: w, outH: oh, outW: ow, kernelH: k, kernelW: k,
                                 strideH: s, strideW: s, padTop: p, padLeft: p, dilationH: d, dilationW: d)
            x.withUnsafeBufferPointer { xp in f.withUnsafeBufferPointer { fp in b.withUnsafeBufferPointer { bp in y.withUnsafeMutableBufferPointer { yp in
                Conv.forward(g, input: xp.baseAddress!, weight: fp.baseAddress!, bias: bp.baseAddress, output: yp.baseAddress!, activation: .relu6)
            } } } }
            for ch in 0..<c { for oy in 0..<oh { for ox in 0..<ow {
                var sum = b[ch]
                for ky in 0..<k { for kx in 0..<k {
                    let iy = oy * s - p + ky * d, ix = ox * s - p + kx * d
                    if iy >= 0 && iy < h && ix >= 0 && ix < w { sum += x[(ch * h + iy) * w + ix] * f[(ch * k + ky) * k + kx] }
                } }
                XCTAssertEqual(y[(ch * oh + oy) * ow + ox], min(max(sum, 0), 6), accuracy: 1e-5, "k \(k) s \(s) p \(p) d \(d)")
            } } }
        }
    }
}

/// Convolution through the GEMM (patches packed straight from the image, grouped, pointwise)
/// against the definition, and the row split that narrow GEMMs take.
final class ConvGemmTests: XCTestCase {
    func testAgainstDefinition() {
        // (channels in, out, groups, kernel, stride, pad, dilation, h, w)
        let cases = [(3, 8, 1, 3, 1, 1, 1, 9, 11), (4, 64, 1, 3, 2, 1, 1, 15, 15), (6, 12, 2, 3, 1, 2, 2, 10, 7),
                     (5, 70, 1, 7, 2, 3, 1, 20, 19), (16, 40, 1, 1, 1, 0, 1, 6, 6), (8, 8, 1, 1, 2, 0, 1, 9, 9),
                     (3, 100, 1, 5, 3, 0, 1, 40, 40), (9, 200, 1, 3, 1, 1, 1, 5, 4),
                     // Winograd F(2x2, 3x3): even and odd output sizes, padding 0, 1 and 2.
                     (8, 16, 1, 3, 1, 1, 1, 20, 20), (16, 12, 1, 3, 1, 0, 1, 21, 19), (8, 8, 1, 3, 1, 2, 1, 15, 14)]
        for (cin, cout, groups, k, s, p, d, h, w) in cases {
            let oh = (h + 2 * p - d * (k - 1) - 1) / s + 1, ow = (w + 2 * p - d * (k - 1) - 1) / s + 1
            let per = cin / groups
            let g0 = ConvGeometry(inChannels: cin, outChannels: cout, groups: groups, inH: h, inW: w, outH: oh, outW: ow, kernelH: k, kernelW: k,
                                  strideH: s, strideW: s, padTop: p, padLeft: p, dilationH: d, dilationW: d)
            if k == 3 && s == 1 && d == 1 && groups == 1 && h >= 14 { XCTAssertTrue(Winograd.applies(g0), "\(h)x\(w) should take Winograd's path") }
            let x = (0..<(cin * h * w)).map { Float(($0 * 37) % 17) / 8 - 1 }
            let f = (0..<(cout * per * k * k)).map { Float(($0 * 11) % 13) / 6 - 1 }
            let bias = (0..<cout).map { Float($0 % 5) / 4 - 0.5 }
            var y = [Float](repeating: .nan, count: cout * oh * ow)
            let g = ConvGeometry(inChannels: cin, outChannels: cout, groups: groups, inH: h, inW: w, outH: oh, outW: ow, kernelH: k, kernelW: k,
                                 strideH: s, strideW: s, padTop: p, padLeft: p, dilationH: d, dilationW: d)
            x.withUnsafeBufferPointer { xp in f.withUnsafeBufferPointer { fp in bias.withUnsafeBufferPointer { bp in y.withUnsafeMutableBufferPointer { yp in
                Conv.forward(g, input: xp.baseAddress!, weight: fp.baseAddress!, bias: bp.baseAddress, output: yp.baseAddress!, activation: .relu)
            } } } }
            var worst: Float = 0
            for o in 0..<cout { for oy in 0..<oh { for ox in 0..<ow {
                let grp = o / (cout / groups)
                var sum = bias[o]
                for c in 0..<per { for ky in 0..<k { for kx in 0..<k {
                    let iy = oy * s - p + ky * d, ix = ox * s - p + kx * d
                    if iy >= 0 && iy < h && ix >= 0 && ix < w { sum += x[((grp * per + c) * h + iy) * w + ix] * f[((o * per + c) * k + ky) * k + kx] }
                } } }
                worst = max(worst, abs(y[(o * oh + oy) * ow + ox] - max(sum, 0)))
            } } }
            XCTAssertLessThanOrEqual(worst, 1e-4, "cin \(cin) cout \(cout) groups \(groups) k \(k) s \(s) p \(p) d \(d) \(h)x\(w)")
        }
    }

}

extension GemmTests {
    /// Few columns and many rows: the rows are split across the workers.
    func testNarrowProblemsSplitRows() {
        for (m, n, k) in [(512, 49, 300), (97, 17, 40), (256, 100, 9)] { check(m, n, k, threads: 2) }
    }
}

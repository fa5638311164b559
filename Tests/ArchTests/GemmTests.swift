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

    func check(_ m: Int, _ n: Int, _ k: Int, pad: Int = 0, threads: Int = 2, file: StaticString = #filePath, line: UInt = #line) {
        var rng = LCG(s: UInt64(m * 1_000_003 + n * 1009 + k))
        let lda = k + pad, ldb = n + pad, ldc = n + pad
        let a = (0..<(m * lda)).map { _ in rng.next() }, b = (0..<(k * ldb)).map { _ in rng.next() }
        var c = [Float](repeating: .nan, count: m * ldc)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            Gemm.sgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: lda, b: bp.baseAddress!, ldb: ldb, c: cp.baseAddress!, ldc: ldc, threads: threads)
        } } }
        let want = reference(m, n, k, a, lda, b, ldb)
        let got = (0..<m).flatMap { i in c[(i * ldc)..<(i * ldc + n)] }
        let worst = largestDifference(got, want)
        XCTAssertLessThanOrEqual(worst, 1e-4 * Float(max(1, k)).squareRoot(), "m \(m) n \(n) k \(k) pad \(pad)", file: file, line: line)
    }

    func testShapesAndEdges() {
        for (m, n, k) in [(1, 1, 1), (6, 32, 1), (7, 33, 5), (5, 31, 17), (13, 70, 300), (96, 64, 256), (97, 65, 257), (1, 200, 3), (200, 1, 3),
                          (7, 48, 9), (8, 17, 3), (12, 47, 260), (13, 16, 300),
                          // Several NC blocks, in each tile order (K past `Gemm.kBResident`, and within it).
                          (13, 1100, 300), (20, 1100, 100)] {
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
                       accumulate: true, epilogue: .rows(bias.baseAddress, .relu))
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
            var data = [Float](repeating: 0, count: Gemm.packedACount(m: m, k: k))
            a.withUnsafeBufferPointer { ap in data.withUnsafeMutableBufferPointer { Gemm.packA(ap.baseAddress!, lda: k, m: m, k: k, into: $0.baseAddress!) } }
            data.withUnsafeBufferPointer { dp in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in bias.withUnsafeBufferPointer { bb in
                Gemm.sgemm(packed: PackedA(dp.baseAddress!, m: m, k: k), n: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n,
                           epilogue: .rows(bb.baseAddress, .relu6), threads: 2)
            } } } }
            let want = reference(m, n, k, a, k, b, n)
            for i in 0..<m { for j in 0..<n {
                XCTAssertEqual(c[i * n + j], min(max(want[i * n + j] + bias[i], 0), 6), accuracy: 1e-3, "m \(m) n \(n) k \(k)")
            } }
        }
    }

    func testPrepackedTransposedB() {
        for (m, n, k) in [(5, 70, 300), (197, 33, 64), (1, 1, 1), (200, 90, 300)] {  // the last split by rows
            var rng = LCG(s: UInt64(m * 7 + n + k))
            let a = (0..<(m * k)).map { _ in rng.next() }, w = (0..<(n * k)).map { _ in rng.next() }
            var b = [Float](repeating: 0, count: k * n)
            for j in 0..<n { for p in 0..<k { b[p * n + j] = w[j * k + p] } }
            var data = [Float](repeating: 0, count: Gemm.packedBCount(n: n, k: k))
            w.withUnsafeBufferPointer { wp in data.withUnsafeMutableBufferPointer { Gemm.packB(transposed: wp.baseAddress!, ldb: k, n: n, k: k, into: $0.baseAddress!) } }
            var c = [Float](repeating: 0, count: m * n)
            data.withUnsafeBufferPointer { dp in a.withUnsafeBufferPointer { ap in c.withUnsafeMutableBufferPointer { cp in
                Gemm.sgemm(m: m, a: ap.baseAddress!, lda: k, packed: PackedB(dp.baseAddress!, n: n, k: k), c: cp.baseAddress!, ldc: n, threads: 2)
            } } }
            let want = reference(m, n, k, a, k, b, n)
            for i in 0..<(m * n) { XCTAssertEqual(c[i], want[i], accuracy: 1e-3, "m \(m) n \(n) k \(k)") }
        }
    }

    /// One row times a prepacked weight (a classifier head at batch 1) runs its own kernel
    /// (`Gemm.gemv`): K across KC blocks and odd, the last panel part empty, on one worker and two,
    /// with the epilogue (residual, bias, activation) and accumulating.
    func testOneRowTimesPrepackedWeights() {
        for (n, k, threads) in [(1000, 600, 2), (33, 7, 1), (70, 513, 2), (1, 1, 1)] {
            var rng = LCG(s: UInt64(n * 31 + k))
            let a = (0..<k).map { _ in rng.next() }, w = (0..<(n * k)).map { _ in rng.next() }
            let bias = (0..<n).map { _ in rng.next() }, residual = (0..<n).map { _ in rng.next() }
            var b = [Float](repeating: 0, count: k * n)
            for j in 0..<n { for p in 0..<k { b[p * n + j] = w[j * k + p] } }
            let plain = reference(1, n, k, a, k, b, n)
            var data = [Float](repeating: 0, count: Gemm.packedBCount(n: n, k: k))
            w.withUnsafeBufferPointer { wp in data.withUnsafeMutableBufferPointer { Gemm.packB(transposed: wp.baseAddress!, ldb: k, n: n, k: k, into: $0.baseAddress!) } }
            var fused = [Float](repeating: .nan, count: n), summed = [Float](repeating: 2, count: n)
            data.withUnsafeBufferPointer { dp in a.withUnsafeBufferPointer { ap in bias.withUnsafeBufferPointer { bp in residual.withUnsafeBufferPointer { rp in
                let packed = PackedB(dp.baseAddress!, n: n, k: k)
                fused.withUnsafeMutableBufferPointer { cp in
                    Gemm.sgemm(m: 1, a: ap.baseAddress!, lda: k, packed: packed, c: cp.baseAddress!, ldc: n,
                               epilogue: Epilogue(bias: .perColumn, bp.baseAddress, activation: .relu, residual: rp.baseAddress, ldr: n), threads: threads)
                }
                summed.withUnsafeMutableBufferPointer { cp in
                    Gemm.sgemm(m: 1, a: ap.baseAddress!, lda: k, packed: packed, c: cp.baseAddress!, ldc: n, accumulate: true, threads: threads)
                }
            } } } }
            for j in 0..<n {
                XCTAssertEqual(fused[j], max(0, plain[j] + bias[j] + residual[j]), accuracy: 1e-3, "n \(n) k \(k) column \(j)")
                XCTAssertEqual(summed[j], plain[j] + 2, accuracy: 1e-3, "n \(n) k \(k) column \(j)")
            }
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

extension GemmTests {
    /// Guided tasks cover every panel once, in order, shrinking towards the end (96 panels for 2
    /// workers: 24, 18, 14, ... 1); one task per worker where the split asks for it.
    func testGuidedTasksShrinkAndCoverEveryPanel() {
        let columns = Gemm.tasks(m: 100, n: 96 * 32 - 5, workers: 2, byRows: false).map(\.cols)
        let widths: [Int] = columns.map(\.count)
        XCTAssertEqual(Array(widths.prefix(4)), [768, 576, 448, 320])
        XCTAssertEqual(columns.first?.lowerBound, 0)
        XCTAssertEqual(columns.last?.upperBound, 96 * 32 - 5)
        XCTAssertEqual(columns.last?.count, 32 - 5)
        for (a, b) in zip(columns, columns.dropFirst()) {
            XCTAssertEqual(a.upperBound, b.lowerBound)
            XCTAssertGreaterThanOrEqual(a.count, b.count)
        }
        let rows = Gemm.tasks(m: 61, n: 40, workers: 4, byRows: true, guided: false)
        XCTAssertEqual(rows.map(\.rows), [0..<12, 12..<30, 30..<48, 48..<61])
        XCTAssertTrue(rows.allSatisfy { $0.cols == 0..<40 })
        XCTAssertEqual(Gemm.tasks(m: 61, n: 40, workers: 1, byRows: true).map(\.rows), [0..<61])
    }

    /// Fewer column panels than share out evenly and many rows: the rows are split across the workers.
    func testNarrowProblemsSplitRows() {
        XCTAssertEqual(Gemm.split(m: 512, n: 49, k: 4608, threads: 2).byRows, false)  // 2 panels for 2
        XCTAssertEqual(Gemm.split(m: 256, n: 196, k: 2304, threads: 2).byRows, false)  // 7 for 2
        XCTAssertEqual(Gemm.split(m: 512, n: 49, k: 300, threads: 4).byRows, true)  // 2 for 4
        XCTAssertEqual(Gemm.split(m: 97, n: 17, k: 40, threads: 2).byRows, true)  // 1 for 2
        // Swin's 96-wide layers: 3 panels for 2 are even enough to pack B per worker, not with B prepacked.
        XCTAssertEqual(Gemm.split(m: 3136, n: 96, k: 384, threads: 2).byRows, false)
        XCTAssertEqual(Gemm.split(m: 3136, n: 96, k: 384, threads: 2, bPrepacked: true).byRows, true)
        // A linear layer with more rows than columns: by rows even where its 9 column panels share out,
        // every column task would stream all of A (Swin's stage-1 qkv, ViT's fc2 at batch 8); not ViT's
        // qkv at batch 8 (1576 rows, 2304 columns) nor without B prepacked.
        XCTAssertEqual(Gemm.split(m: 3136, n: 288, k: 96, threads: 2, bPrepacked: true).byRows, true)
        XCTAssertEqual(Gemm.split(m: 1576, n: 768, k: 3072, threads: 2, bPrepacked: true).byRows, true)
        XCTAssertEqual(Gemm.split(m: 1576, n: 2304, k: 768, threads: 2, bPrepacked: true).byRows, false)
        XCTAssertEqual(Gemm.split(m: 3136, n: 288, k: 96, threads: 2).byRows, false)
        // A convolution's patches: by rows, one task per worker, each packing its own (but not 2 panels for 4 workers).
        XCTAssertTrue(Gemm.split(m: 392, n: 512, k: 4608, threads: 2, bPrepacked: true, aPatches: true) == (2, true, false))
        XCTAssertTrue(Gemm.split(m: 49, n: 512, k: 4608, threads: 2, bPrepacked: true, aPatches: true) == (2, true, false))
        XCTAssertTrue(Gemm.split(m: 49, n: 512, k: 4608, threads: 4, bPrepacked: true, aPatches: true) == (4, false, true))
        for (m, n, k, threads) in [(512, 49, 300, 2), (512, 49, 300, 4), (97, 17, 40, 2), (256, 100, 9, 2), (300, 70, 33, 4)] {
            check(m, n, k, threads: threads)
        }
    }
}

import Foundation
import XCTest
@testable import ArchKernels

/// The attention kernel (online softmax, causal mask, grouped-query heads, key padding mask) and
/// rotary embeddings against their definitions.
extension KernelTests {
    struct AttentionCase {
        var b: Int, heads: Int, kvHeads: Int, n: Int, m: Int, dh: Int, causal: Bool
        /// Per example, which keys are kept (nil: no mask).
        var keep: ((Int, Int) -> Bool)? = nil
    }

    /// The online softmax over blocks of keys against softmax(q kᵀ / sqrt(dh) + mask) v computed whole:
    /// keys over several blocks, a causal mask, grouped-query heads, queries fewer than keys, strided slices.
    func testAttentionAgainstTheDefinition() {
        for (b, heads, kvHeads, n, m, dh, causal) in [(2, 4, 4, 70, 70, 16, false), (1, 6, 2, 150, 300, 8, false),
                                                     (1, 2, 1, 200, 200, 32, true), (3, 1, 1, 1, 5, 4, true),
                                                     // Keys over several blocks (the online softmax), with and without the mask.
                                                     (1, 2, 2, 70, 2500, 4, false), (1, 1, 1, 1100, 1100, 4, true)] {
            checkAttention(AttentionCase(b: b, heads: heads, kvHeads: kvHeads, n: n, m: m, dh: dh, causal: causal))
        }
    }

    /// Key padding masks (transformers' attention_mask): masked keys take no part, in one block of keys
    /// and over several, with a causal mask, multi-query heads; an example whose keys are all masked
    /// gives zeros (transformers' SDPA attention), and so does a causal row that sees only masked keys.
    func testKeyPaddingMask() {
        let padded: (Int, Int) -> Bool = { b, j in j < 9 - 3 * b }     // example b keeps its first 9 - 3b keys
        let scattered: (Int, Int) -> Bool = { b, j in (j * 7 + b) % 5 != 0 }
        let leftPadded: (Int, Int) -> Bool = { b, j in j >= 2 * b }   // the first 2b keys are padding
        checkAttention(AttentionCase(b: 3, heads: 4, kvHeads: 2, n: 9, m: 9, dh: 8, causal: false, keep: padded))
        checkAttention(AttentionCase(b: 2, heads: 2, kvHeads: 1, n: 40, m: 40, dh: 16, causal: true, keep: scattered))
        checkAttention(AttentionCase(b: 2, heads: 2, kvHeads: 2, n: 30, m: 2100, dh: 4, causal: false, keep: scattered))
        checkAttention(AttentionCase(b: 3, heads: 1, kvHeads: 1, n: 6, m: 6, dh: 4, causal: true, keep: leftPadded))
        checkAttention(AttentionCase(b: 2, heads: 3, kvHeads: 3, n: 5, m: 7, dh: 4, causal: false, keep: { b, _ in b == 0 }))
    }

    func checkAttention(_ c: AttentionCase, file: StaticString = #filePath, line: UInt = #line) {
        let ldq = c.heads * c.dh + 3, ldkv = c.kvHeads * c.dh * 2
        let q = values(c.b * c.n * ldq, seed: 1), kv = values(c.b * c.m * ldkv, seed: 2)
        let mask: [Float]? = c.keep.map { keep in (0..<c.b * c.m).map { keep($0 / c.m, $0 % c.m) ? 1 : 0 } }
        let shape = AttentionKernel.Shape(batch: c.b, heads: c.heads, kvHeads: c.kvHeads, n: c.n, m: c.m, dh: c.dh, causal: c.causal)
        var out = [Float](repeating: .nan, count: c.b * c.n * c.heads * c.dh)
        var scratch = [Float](repeating: 0, count: AttentionKernel.scratchCount(shape, threads: 2))
        q.withUnsafeBufferPointer { qp in kv.withUnsafeBufferPointer { kp in out.withUnsafeMutableBufferPointer { op in
            scratch.withUnsafeMutableBufferPointer { sp in (mask ?? []).withUnsafeBufferPointer { mp in
                AttentionKernel.forward(shape, q: qp.baseAddress!, ldq: ldq, k: kp.baseAddress!, ldk: ldkv, v: kp.baseAddress! + c.kvHeads * c.dh,
                                        ldv: ldkv, out: op.baseAddress!, ldo: c.heads * c.dh, mask: mask == nil ? nil : mp.baseAddress!,
                                        scratch: sp.baseAddress!, threads: 2)
            } }
        } } }
        var worst: Double = 0
        for bi in 0..<c.b { for h in 0..<c.heads { for i in 0..<c.n {
            let kvh = h / (c.heads / c.kvHeads)
            let scores = (0..<c.m).map { j -> Double in
                if c.causal && j > i + (c.m - c.n) { return -.infinity }
                if let keep = c.keep, !keep(bi, j) { return -.infinity }
                var s: Double = 0
                for t in 0..<c.dh { s += Double(q[(bi * c.n + i) * ldq + h * c.dh + t]) * Double(kv[(bi * c.m + j) * ldkv + kvh * c.dh + t]) }
                return s / Double(c.dh).squareRoot()
            }
            let top = scores.max()!
            // A row with no key left is zeros.
            let weights = top == -.infinity ? scores.map { _ in 0.0 } : scores.map { exp($0 - top) }
            let total = max(weights.reduce(0, +), .leastNonzeroMagnitude)
            for t in 0..<c.dh {
                var o: Double = 0
                for j in 0..<c.m { o += weights[j] / total * Double(kv[(bi * c.m + j) * ldkv + c.kvHeads * c.dh + kvh * c.dh + t]) }
                let d = abs(o - Double(out[(bi * c.n + i) * c.heads * c.dh + h * c.dh + t]))
                worst = d.isNaN ? .infinity : max(worst, d)   // (max() skips a NaN: an unwritten output)
            }
        } } }
        XCTAssertLessThanOrEqual(worst, 1e-5, "\(c.b) x \(c.heads)/\(c.kvHeads) heads, n \(c.n) m \(c.m) dh \(c.dh) causal \(c.causal) mask \(c.keep != nil)",
                                 file: file, line: line)
    }

    /// Rotary embeddings against RoFormer's definition, both pairings: from a strided slice, positions
    /// starting past the table's first row, and the table as transformers makes it (float32 angles).
    func testRotaryAgainstTheDefinition() {
        let (b, rows, heads, dh, ld, offset, base) = (2, 5, 3, 8, 3 * 8 + 5, 2, 500.0)
        let x = values(b * rows * ld + offset, seed: 3)
        let (start, positions) = (-2, rows + 4)  // the table covers positions -2..<7; these rows sit at 1..<6
        var table = [Float](repeating: 0, count: positions * dh)
        table.withUnsafeMutableBufferPointer { Rotary.table(positions: positions, start: start, width: dh, base: base, into: $0.baseAddress!) }
        for pairing in [Rotary.Pairing.half, .interleaved] {
            var y = [Float](repeating: .nan, count: b * rows * heads * dh)
            x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in table.withUnsafeBufferPointer { tp in
                Rotary.apply(Rotary.Shape(batch: b, rows: rows, heads: heads, dh: dh), pairing: pairing, x: xp.baseAddress! + offset, ld: ld,
                             y: yp.baseAddress!, table: tp.baseAddress!, first: 3, threads: 2)
            } } }
            var worst: Double = 0
            for e in 0..<b { for r in 0..<rows { for h in 0..<heads { for i in 0..<dh / 2 {
                let position = Double(r + 1), theta = pow(base, -Double(2 * i) / Double(dh))
                let (a, c) = pairing == .half ? (i, i + dh / 2) : (2 * i, 2 * i + 1)
                let src = offset + (e * rows + r) * ld + h * dh, dst = ((e * rows + r) * heads + h) * dh
                let (x1, x2) = (Double(x[src + a]), Double(x[src + c]))
                let d = max(abs(x1 * cos(position * theta) - x2 * sin(position * theta) - Double(y[dst + a])),
                            abs(x2 * cos(position * theta) + x1 * sin(position * theta) - Double(y[dst + c])))
                worst = d.isNaN || Double(y[dst + a]).isNaN || Double(y[dst + c]).isNaN ? .infinity : max(worst, d)
            } } } }
            XCTAssertLessThanOrEqual(worst, 1e-5, "\(pairing)")
        }
    }
}

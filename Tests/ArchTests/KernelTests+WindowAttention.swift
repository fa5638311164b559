import XCTest
@testable import ArchKernels

/// Window attention against its definition written out: per window and head, softmax(Q Kᵀ / sqrt(dh)
/// + bias - 100 between regions) V. Head widths 32 and 64 run the register tiles, 24 the general GEMM;
/// windows of 7 (49 tokens: one tile of keys, a last row tile of 1) and 9 (81: two tiles of keys).
extension KernelTests {
    func testWindowAttentionMatchesItsDefinition() {
        for (window, heads, width, shift) in [(7, 3, 32, 3), (7, 2, 64, 0), (9, 2, 32, 4), (7, 2, 24, 3)] {
            let g = WindowAttention.Grid(batch: 1, height: 2 * window, width: 2 * window, channels: heads * width, window: window,
                                         shift: shift, heads: heads)
            let (t, c) = (g.tokens, g.channels)
            let qkv = values(g.windows * t * 3 * c, seed: 3).map { $0 * 0.5 }, bias = values(heads * t * t, seed: 5)
            let want = reference(g, qkv: qkv, bias: bias)
            // The kernel reads each row of the bias padded to whole tiles of keys (zero past them).
            let padded = WindowAttention.paddedTokens(g)
            var paddedBias = [Float](repeating: 0, count: WindowAttention.biasCount(window: window, heads: heads))
            for row in 0..<(heads * t) { for j in 0..<t { paddedBias[row * padded + j] = bias[row * t + j] } }
            for threads in [1, 2] {
                var out = [Float](repeating: .nan, count: g.windows * t * c)
                var scratch = [Float](repeating: .nan, count: WindowAttention.scratchCount(g, threads: threads))
                qkv.withUnsafeBufferPointer { q in paddedBias.withUnsafeBufferPointer { b in out.withUnsafeMutableBufferPointer { o in
                    scratch.withUnsafeMutableBufferPointer { s in
                        WindowAttention.attend(g, qkv: q.baseAddress!, bias: b.baseAddress, out: o.baseAddress!, scratch: s.baseAddress!,
                                               threads: threads)
                    }
                } } }
                let worst = largestDifference(out, want)
                XCTAssertLessThanOrEqual(worst, 1e-5, "window \(window) heads \(heads) width \(width) shift \(shift) threads \(threads)")
            }
        }
    }

    /// The definition, in double precision.
    func reference(_ g: WindowAttention.Grid, qkv: [Float], bias: [Float]) -> [Float] {
        let (t, c, dh) = (g.tokens, g.channels, g.channels / g.heads)
        var out = [Float](repeating: 0, count: g.windows * t * c)
        var regions = [Float](repeating: 0, count: t)
        for win in 0..<g.windows {
            regions.withUnsafeMutableBufferPointer { WindowAttention.regionIDs(g, window: win, into: $0.baseAddress!) }
            for hd in 0..<g.heads {
                func at(_ token: Int, _ part: Int, _ d: Int) -> Double { Double(qkv[(win * t + token) * 3 * c + part * c + hd * dh + d]) }
                for i in 0..<t {
                    var s = (0..<t).map { j -> Double in
                        let dot = (0..<dh).reduce(0.0) { $0 + at(i, 0, $1) * at(j, 1, $1) }
                        let masked = g.shift > 0 && regions[i] != regions[j] ? -100.0 : 0
                        return dot / Double(dh).squareRoot() + Double(bias[(hd * t + i) * t + j]) + masked
                    }
                    let m = s.max()!
                    s = s.map { Foundation.exp($0 - m) }
                    let sum = s.reduce(0, +)
                    for d in 0..<dh {
                        out[(win * t + i) * c + hd * dh + d] = Float((0..<t).reduce(0.0) { $0 + s[$1] / sum * at($1, 2, d) })
                    }
                }
            }
        }
        return out
    }
}

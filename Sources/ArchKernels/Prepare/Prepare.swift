import Foundation

/// Makes a program's constants from its parameters, in order (each from earlier ones), and frees
/// those only other constants needed.
public enum Prepare {
    /// `parameter(i, out)` writes the i-th parameter's floats (as many as its constant's count) to `out`.
    public static func evaluate(_ specs: [ConstantSpec], parameter: (Int, UnsafeMutablePointer<Float>) -> Void) -> [UnsafeMutablePointer<Float>] {
        var made: [UnsafeMutablePointer<Float>] = []
        made.reserveCapacity(specs.count)
        for spec in specs {
            let out = UnsafeMutablePointer<Float>.allocate(capacity: max(spec.count, 1))
            out.initialize(repeating: 0, count: max(spec.count, 1))
            make(spec, out, made: made, parameter: parameter, counts: specs.map(\.count))
            made.append(out)
        }
        for (i, spec) in specs.enumerated() where !spec.isRuntime {
            made[i].deallocate()
            made[i] = emptyConstant
        }
        return made
    }

    /// What freed constants point at (no kernel reads them).
    nonisolated(unsafe) static let emptyConstant = UnsafeMutablePointer<Float>.allocate(capacity: 1)

    /// Frees what `evaluate` made.
    public static func release(_ constants: [UnsafeMutablePointer<Float>]) {
        for c in constants where c != emptyConstant { c.deallocate() }
    }

    static func make(_ spec: ConstantSpec, _ out: UnsafeMutablePointer<Float>, made m: [UnsafeMutablePointer<Float>],
                     parameter: (Int, UnsafeMutablePointer<Float>) -> Void, counts: [Int]) {
        let n = spec.count
        switch spec.recipe {
        case .parameter(let i):
            parameter(i, out)
        case .batchnormScale(let gamma, let variance, let eps):
            for c in 0..<n { out[c] = (gamma.map { m[$0][c] } ?? 1) / (m[variance][c] + eps).squareRoot() }
        case .batchnormShift(let beta, let mean, let scale, let bias):
            for c in 0..<n { out[c] = ((bias.map { m[$0][c] } ?? 0) - m[mean][c]) * m[scale][c] + (beta.map { m[$0][c] } ?? 0) }
        case .scaleRows(let w, let s, let width):
            for r in 0..<(n / max(width, 1)) { for j in 0..<width { out[r * width + j] = m[w][r * width + j] * m[s][r] } }
        case .convWeights(let w, let g, let algorithm):
            Conv.prepare(g, algorithm, weight: m[w], into: out)
        case .linearWeights(let w, let outF, let inF):
            Gemm.packB(transposed: m[w], ldb: inF, n: outF, k: inF, into: out)
        case .matrixA(let w, let rows, let k):
            Gemm.packA(m[w], lda: k, m: rows, k: k, into: out)
        case .transposedConvWeights(let w, let g):
            transposeConvWeights(g, m[w], into: out)
        case .concat(let parts):
            var at = 0
            for p in parts { (out + at).update(from: m[p], count: counts[p]); at += counts[p] }
        case .sinusoid(let positions, let width):
            for p in 0..<positions { for i in stride(from: 0, to: width, by: 2) {
                let angle = Double(p) / pow(10000, Double(i) / Double(width))
                out[p * width + i] = Float(sin(angle))
                if i + 1 < width { out[p * width + i + 1] = Float(cos(angle)) }
            } }
        case .relativeBias(let table, let window, let heads):
            WindowAttention.gatherBias(table: m[table], window: window, heads: heads, into: out)
        case .rotary(let positions, let start, let width, let base):
            Rotary.table(positions: positions, start: start, width: width, base: base, into: out)
        case .slice(let c, let start, let count):
            out.update(from: m[c] + start, count: min(n, count))
        case .number(let x):
            out[0] = x
        }
    }

    /// Floats of a transposed convolution's prepared weights.
    public static func transposedConvCount(_ g: ConvGeometry) -> Int {
        g.groups * Gemm.packedACount(m: ConvTransposeCall.columnRows(g), k: g.inChannels / g.groups)
    }

    static func transposeConvWeights(_ g: ConvGeometry, _ weight: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let cinG = g.inChannels / g.groups, rows = ConvTransposeCall.columnRows(g)
        let t = UnsafeMutablePointer<Float>.allocate(capacity: rows * cinG)
        defer { t.deallocate() }
        let per = Gemm.packedACount(m: rows, k: cinG)
        for grp in 0..<g.groups {
            for i in 0..<cinG { for r in 0..<rows { t[r * cinG + i] = weight[(grp * cinG + i) * rows + r] } }
            Gemm.packA(t, lda: cinG, m: rows, k: cinG, into: out + grp * per)
        }
    }
}

import Foundation

/// How a constant of a program is made from the weights (or from nothing but sizes): the prepare
/// pass decides, `Prepare.evaluate` carries it out once, when a program is loaded. Constants refer
/// to earlier constants by number, so a packed, batchnorm-folded convolution weight is a chain:
/// parameter -> folded -> prepared for its algorithm.
public enum Recipe: Sendable, Hashable {
    /// The program's i-th parameter, as the weights file stores it.
    case parameter(Int)
    /// gamma / sqrt(variance + eps) per channel (gamma 1 when the norm has no affine weight).
    case batchnormScale(gamma: Int?, variance: Int, eps: Float)
    /// (bias - mean) * scale + beta per channel (bias and beta 0 when absent).
    case batchnormShift(beta: Int?, mean: Int, scale: Int, bias: Int?)
    /// Each row of a [rows, width] matrix times its entry of a vector: a convolution's weights with
    /// a batchnorm folded in.
    case scaleRows(Int, by: Int, width: Int)
    /// A convolution's weights as its algorithm reads them (`Conv.prepare`).
    case convWeights(Int, geometry: ConvGeometry, algorithm: ConvAlgorithm)
    /// A linear layer's weight, stored [out, in] or [in, out] as `order` says, packed as the GEMM's B (`Gemm.packB`).
    case linearWeights(Int, outFeatures: Int, inFeatures: Int, order: WeightOrder)
    /// A matrix [rows, k] packed as the GEMM's A (`Gemm.packA`): gMLP's token projection.
    case matrixA(Int, rows: Int, k: Int)
    /// A transposed convolution's weights [in, out / groups, kh, kw], per group transposed to
    /// [(out / groups) kh kw, in / groups] and packed as the GEMM's A.
    case transposedConvWeights(Int, geometry: ConvGeometry)
    /// Constants one after the other (q, k and v projections as one).
    case concat([Int])
    /// Sinusoidal positions [positions, width] (the Transformer's).
    case sinusoid(positions: Int, width: Int)
    /// Swin's relative position bias [heads, t, padded] gathered from its table (`WindowAttention.gatherBias`).
    case relativeBias(table: Int, window: Int, heads: Int)
    /// Rotary embeddings' cos/sin table [positions, width] from position `start` (`Rotary.table`).
    case rotary(positions: Int, start: Int, width: Int, base: Double)
    /// `count` floats of a constant from `start` on: part of a weight, as the rows of
    /// nn.MultiheadAttention's in_proj_weight that cross-attention applies to its memory.
    case slice(Int, start: Int, count: Int)
    /// Columns of [rows, width] matrices side by side, [rows, Σ count]: weights stored [in, out]
    /// (transformers' Conv1D) whose output columns q, k and v are, as one (or some of them).
    case columns([ColumnRange], rows: Int)
    /// A number written in the spec (`mul 0.5`): one float.
    case number(Float)
}

/// Columns `start..<start + count` of a constant holding a [rows, width] matrix.
public struct ColumnRange: Sendable, Hashable {
    public var constant: Int, width: Int, start: Int, count: Int
    public init(constant: Int, width: Int, start: Int, count: Int) {
        self.constant = constant; self.width = width; self.start = start; self.count = count
    }
}

/// A constant of a program: what it is called in `archc ir`, how many floats it has, how it is made,
/// and whether kernels read it (or it only feeds other constants, and is freed once they are made).
public struct ConstantSpec: Sendable, Equatable {
    public var name: String
    public var count: Int
    public var recipe: Recipe
    public var isRuntime: Bool
    public init(name: String, count: Int, recipe: Recipe, isRuntime: Bool = true) {
        self.name = name
        self.count = count
        self.recipe = recipe
        self.isRuntime = isRuntime
    }

    /// The constants this one is made from.
    public var sources: [Int] {
        switch recipe {
        case .parameter, .sinusoid, .rotary, .number: return []
        case .batchnormScale(let g, let v, _): return [v] + (g.map { [$0] } ?? [])
        case .batchnormShift(let b, let m, let s, let bias): return [m, s] + (b.map { [$0] } ?? []) + (bias.map { [$0] } ?? [])
        case .scaleRows(let w, let s, _): return [w, s]
        case .convWeights(let w, _, _), .linearWeights(let w, _, _, _), .matrixA(let w, _, _), .transposedConvWeights(let w, _): return [w]
        case .columns(let ranges, _): return ranges.map(\.constant)
        case .concat(let parts): return parts
        case .relativeBias(let t, _, _): return [t]
        case .slice(let c, _, _): return [c]
        }
    }
}

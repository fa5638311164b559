/// What happens to C = A x B on its way out, applied once, when the last block of K has been
/// accumulated, in registers where the tile is whole (a fused epilogue: the output is written once):
///
///     C = activation(A B + bias + residual) * multiplier
///
/// The residual is read instead of zero on the first block of K, so it may be C itself (an
/// in-place residual add: `x = x + W h`). The multiplier is gMLP's gate.
public struct Epilogue {
    public enum Bias: Sendable { case none, perRow, perColumn }
    public var bias: Bias
    public var biasValues: UnsafePointer<Float>?
    public var activation: Activation
    public var residual: UnsafePointer<Float>?
    public var ldr: Int
    public var multiplier: UnsafePointer<Float>?
    public var ldm: Int

    public init(bias: Bias = .none, _ biasValues: UnsafePointer<Float>? = nil, activation: Activation = .none,
                residual: UnsafePointer<Float>? = nil, ldr: Int = 0, multiplier: UnsafePointer<Float>? = nil, ldm: Int = 0) {
        self.bias = biasValues == nil ? .none : bias
        self.biasValues = biasValues
        self.activation = activation
        self.residual = residual
        self.ldr = ldr
        self.multiplier = multiplier
        self.ldm = ldm
    }

    public static var none: Epilogue { Epilogue() }

    /// Per-row bias (a convolution's, one per output channel) and an activation.
    public static func rows(_ bias: UnsafePointer<Float>?, _ activation: Activation = .none) -> Epilogue {
        Epilogue(bias: .perRow, bias, activation: activation)
    }

    /// Per-column bias (a linear layer's, one per output feature) and an activation.
    public static func columns(_ bias: UnsafePointer<Float>?, _ activation: Activation = .none) -> Epilogue {
        Epilogue(bias: .perColumn, bias, activation: activation)
    }

    /// Whether anything happens after the products are summed.
    var isIdentity: Bool { bias == .none && activation == .none && multiplier == nil }

    /// The epilogue as the micro-kernel applies it in registers, for the tile at C[row, column]:
    /// nil when it has more than a bias and a clamp (the other activations, a multiplier), which
    /// then run on the stored tile.
    @inline(always)
    func inRegisters(row: Int, column: Int) -> MicroKernel.InRegisters? {
        guard multiplier == nil else { return nil }
        guard let clamp = activation.clamp else { return nil }
        return MicroKernel.InRegisters(rowBias: bias == .perRow ? biasValues.map { $0 + row } : nil,
                                       columnBias: bias == .perColumn ? biasValues.map { $0 + column } : nil, low: clamp.0, high: clamp.1)
    }
}

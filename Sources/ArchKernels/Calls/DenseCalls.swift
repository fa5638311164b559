/// How a linear layer's weight matrix is stored in the weights file: [out, in] as nn.Linear stores it
/// (the GEMM's Bᵀ), or [in, out] as transformers' Conv1D does (GPT-2: B itself). Packing reads either
/// in place; the packed weight is the same.
public enum WeightOrder: Sendable, Hashable {
    case outIn, inOut
}

/// y [rows, out] = activation(x [rows, in] Wᵀ + b + residual): a linear layer on the packed GEMM,
/// its weight packed once (`Prepare`'s `packB`). The residual may be the output itself (x += W h).
public struct LinearCall: KernelCallProtocol {
    public var rows = 0, inFeatures = 0, outFeatures = 0
    public var input = 0, output = 0
    /// The weight packed as `PackedB` (constant), and the bias [out] (constant).
    public var weight = 0, bias: Int? = nil
    /// How the weight is stored before it is packed (the prepare pass packs it from either order).
    public var weightOrder = WeightOrder.outIn
    public var residual: Int? = nil
    public var activation = Activation.none
    public var threads = 1

    public init(rows: Int = 0, inFeatures: Int = 0, outFeatures: Int = 0, input: Int = 0, output: Int = 0, weight: Int = 0,
                bias: Int? = nil, weightOrder: WeightOrder = .outIn, residual: Int? = nil, activation: Activation = Activation.none,
                threads: Int = 1) {
        self.rows = rows; self.inFeatures = inFeatures; self.outFeatures = outFeatures; self.input = input; self.output = output
        self.weight = weight; self.bias = bias; self.weightOrder = weightOrder; self.residual = residual; self.activation = activation
        self.threads = threads
    }

    public var reads: [Int] { [input] + (residual.map { [$0] } ?? []) }

    @inline(__always)
    public func run(_ f: Frame) {
        let y = f.value(output)
        let epilogue = Epilogue(bias: .perColumn, f.constant(bias), activation: activation,
                                residual: residual.map { UnsafePointer(f.value($0)) }, ldr: outFeatures)
        Gemm.sgemm(m: rows, a: f.value(input), lda: inFeatures, packed: PackedB(f.constant(weight), n: outFeatures, k: inFeatures),
                   c: y, ldc: outFeatures, epilogue: epilogue, threads: f.threads(threads))
    }
}

/// gMLP's token projection with its gate, per example: out [n, e] = gate ⊙ (W [n, n] x [n, e] + b),
/// W packed once as `PackedA`, its per-token bias the GEMM's row bias; the gate is read in place
/// (the first half of the unit's input, rows `ldGate` apart).
public struct TokenMixCall: KernelCallProtocol {
    public var batch = 0, tokens = 0, width = 0
    public var input = 0, output = 0
    public var weight = 0, bias: Int? = nil
    public var gate: Int? = nil, ldGate = 0
    public var threads = 1

    public init(batch: Int = 0, tokens: Int = 0, width: Int = 0, input: Int = 0, output: Int = 0, weight: Int = 0, bias: Int? = nil,
                gate: Int? = nil, ldGate: Int = 0, threads: Int = 1) {
        self.batch = batch; self.tokens = tokens; self.width = width; self.input = input; self.output = output; self.weight = weight
        self.bias = bias; self.gate = gate; self.ldGate = ldGate; self.threads = threads
    }

    public var reads: [Int] { [input] + (gate.map { [$0] } ?? []) }

    public func run(_ f: Frame) {
        let w = PackedA(f.constant(weight), m: tokens, k: tokens)
        let block = tokens * width
        for b in 0..<batch {
            let epilogue = Epilogue(bias: .perRow, f.constant(bias), multiplier: gate.map { UnsafePointer(f.value($0)) + b * tokens * ldGate },
                                    ldm: ldGate)
            Gemm.sgemm(packed: w, n: width, b: f.value(input) + b * block, ldb: width, c: f.value(output) + b * block, ldc: width,
                       epilogue: epilogue, threads: f.threads(threads))
        }
    }
}

/// A gated unit's gate: out [rows, width] = activation(a) ⊙ b, where each input row holds a then b
/// ([rows, 2 width]: the two projections of a SwiGLU computed as one GEMM).
public struct GateCall: KernelCallProtocol {
    public var rows = 0, width = 0
    public var input = 0, output = 0
    public var activation = Activation.silu

    public init(rows: Int = 0, width: Int = 0, input: Int = 0, output: Int = 0, activation: Activation = Activation.silu) {
        self.rows = rows; self.width = width; self.input = input; self.output = output; self.activation = activation
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) { gate(f.value(input), f.value(output)) }
}

/// Token embedding: out [tokens, dim] = table[ids] (+ base, the running tensor, for BERT's token
/// types). Ids arrive as floats; one outside the vocabulary is an error.
public struct EmbeddingCall: KernelCallProtocol {
    public var tokens = 0, vocab = 0, dim = 0
    public var ids = 0, output = 0
    public var base: Int? = nil
    public var table = 0

    public init(tokens: Int = 0, vocab: Int = 0, dim: Int = 0, ids: Int = 0, output: Int = 0, base: Int? = nil, table: Int = 0) {
        self.tokens = tokens; self.vocab = vocab; self.dim = dim; self.ids = ids; self.output = output; self.base = base
        self.table = table
    }

    public var reads: [Int] { [ids] + (base.map { [$0] } ?? []) }
    public static var canFail: Bool { true }

    public func run(_ f: Frame) throws {
        let idv = f.value(ids), t = f.constant(table), y = f.value(output), b = f.value(base)
        for i in 0..<tokens {
            let id = idv[i]
            guard id.isFinite, id >= 0, id < Float(vocab), Float(Int(id)) == id else {
                throw KernelError("token id \(id) is outside the vocabulary of \(vocab)")
            }
            let row = t + Int(id) * dim, o = y + i * dim
            if let b { let x = b + i * dim; for j in 0..<dim { o[j] = x[j] + row[j] } } else { o.update(from: row, count: dim) }
        }
    }
}

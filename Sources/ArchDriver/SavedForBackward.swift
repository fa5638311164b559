import ArchSemantics

/// One tensor PyTorch's eager autograd keeps from the forward pass for the backward pass.
public struct SavedTensor: Sendable, Equatable {
    /// Where its bytes live: a value of the graph (a view keeps its base's storage alive, so a
    /// value stands for its base) or a tensor the op makes inside (a mask, statistics, q, k, v).
    public enum Storage: Hashable, Sendable {
        case value(Int)
        case own(node: Int, index: Int)
        /// A tensor every layer of the network shares (rotary cos and sin, computed once per forward).
        case shared(String)
    }
    /// The element type: `activation` is the `--dtype` the network trains in.
    public enum Element: String, Sendable {
        case activation, f32, int64, bool
    }
    public var storage: Storage
    /// What it is, for the JSON: "input", "output", "mask", "mean", "q", ...
    public var what: String
    public var shape: [Int]
    public var element: Element
}

/// How a value's memory lies, as far as the saved tensors care: a linear layer reading a value that
/// is not contiguous saves the copy matmul makes of it, and reshape copies it.
enum TensorLayout: Equatable {
    case contiguous
    /// In another order than its shape (a transpose not yet copied): elementwise ops keep that order.
    case permuted
    /// A slice or index whose gaps do not fold into rows of its last dimension (x[:, 1:4] of
    /// [b, t, c]): elementwise ops write it out contiguous.
    case gapped
}

/// What one node does to autograd's saved tensors, and how its output relates to its input's storage.
struct BackwardEffect {
    var saved: [SavedTensor] = []
    /// The output is a view of the first input (flatten, transpose, dropout 0): it shares its storage.
    var view = false
    var layout = TensorLayout.contiguous
}

/// The per-op rule: which tensors each op saves for the backward pass, as PyTorch eager autograd does
/// in training mode (its `derivatives.yaml`, and the modules archc's ops stand for):
/// linear and conv save their input; relu, sigmoid, tanh and softmax their output; gelu, silu,
/// relu6 (hardtanh) and hardswish their input; norms their input and f32 statistics; max pools
/// their input and int64 indices; dropout a bool mask (the fused kernel's); views, slices, add, sub,
/// concat, sum, mean, unfold and fold nothing; amax its input and output; mul and div the operands
/// their gradients need; attention as F.scaled_dot_product_attention's flash kernel.
/// The switch is exhaustive: a new op makes the compiler ask for its rule here.
struct SavedForBackward {
    let graph: Graph
    let nodeIndex: Int
    var node: Graph.Node { graph.nodes[nodeIndex] }
    /// Per input: its layout, and whether autograd tracks it.
    let inputLayout: [TensorLayout]
    let inputRequiresGrad: [Bool]
    var effect = BackwardEffect()

    init(graph: Graph, node: Int, inputLayout: [TensorLayout], inputRequiresGrad: [Bool]) {
        self.graph = graph
        self.nodeIndex = node
        self.inputLayout = inputLayout
        self.inputRequiresGrad = inputRequiresGrad
    }

    // MARK: Building blocks

    func shape(_ value: Int) throws -> [Int] {
        try graph.values[value].shape.map { d in
            guard let n = d.value else { throw TrainingMemoryError.unbound(d.symbols) }
            return n
        }
    }
    var x: Int { node.inputs[0] }
    func arg(_ name: String) -> Value? { node.args[name] }
    func int(_ name: String) -> Int? { if case .int(let n)? = arg(name) { return n } else { return nil } }
    func word(_ name: String) -> String? { if case .word(let w)? = arg(name) { return w } else { return nil } }
    func flag(_ name: String) -> Bool { if case .bool(let b)? = arg(name) { return b } else { return false } }

    /// A value of the graph saved as it is (its storage counted once, however many ops save it).
    mutating func save(_ value: Int, _ what: String) {
        effect.saved.append(SavedTensor(storage: .value(value), what: what, shape: [], element: .activation))
    }
    /// A tensor the op makes and keeps.
    mutating func own(_ what: String, _ shape: [Int], _ element: SavedTensor.Element = .activation) {
        let i = effect.saved.count
        effect.saved.append(SavedTensor(storage: .own(node: nodeIndex, index: i), what: what, shape: shape, element: element))
    }
    /// A tensor the network computes once and every layer that needs it shares.
    mutating func shared(_ key: String, _ what: String, _ shape: [Int]) {
        effect.saved.append(SavedTensor(storage: .shared(key), what: what, shape: shape, element: .activation))
    }
    /// A linear layer's input: the value itself, or the contiguous copy matmul makes of a permuted or
    /// gapped one (each of `readers` linear layers reading it makes its own).
    mutating func saveLinearInput(_ i: Int, _ what: String = "input", readers: Int = 1) throws {
        let v = node.inputs[i]
        guard inputLayout[i] != .contiguous else { return save(v, what) }
        for _ in 0..<readers { own(what + " (contiguous copy)", try shape(v)) }
    }
    /// nn.LayerNorm / F.layer_norm over the last dimension of `shape`: mean and rstd per row, f32.
    mutating func rowStatistics(_ shape: [Int], _ prefix: String = "") {
        let rows = Array(shape.dropLast()) + [1]
        own(prefix + "mean", rows, .f32)
        own(prefix + "rstd", rows, .f32)
    }
    /// nn.RMSNorm as PyTorch's eager decomposition runs it, in f32 whatever the dtype: the input
    /// upcast to f32 (the input itself in f32), rsqrt per row and the normalised tensor that meets
    /// the weight (cast back to the dtype after). `input` nil: a view of a tensor saved already (q or
    /// k inside attention).
    mutating func rmsNorm(input: Int?, shape: [Int], low: Bool, _ prefix: String = "") {
        if low { own(prefix + "input (f32)", shape, .f32) } else if let input { save(input, prefix + "input") }
        own(prefix + "rsqrt", Array(shape.dropLast()) + [1], .f32)
        own(prefix + "normalised", shape, .f32)
    }

    // MARK: The rule

    /// `lowPrecision`: the network trains in bf16 or f16 (RMSNorm then saves an f32 copy of its input).
    mutating func run(lowPrecision low: Bool) throws {
        let n = node
        switch n.op {
        case .linear, .conv, .convt, .avgpool:
            if n.op == .linear { try saveLinearInput(0) } else { save(x, "input") }
        case .patch:
            save(x, "input")
            effect.layout = .permuted  // conv output flattened and transposed to tokens: a view
        case .embed:
            save(n.inputs.count > 1 ? n.inputs[1] : x, "token ids")
        case .mlp: try mlp()
        case .swiglu: try swiglu()
        case .moe: try moe()
        case .maxpool, .adaptive_maxpool:
            save(x, "input")
            own("indices", try shape(n.output), .int64)
        case .adaptive_avgpool:
            // A 1x1 output is a mean, which keeps nothing; otherwise the input.
            if try shape(n.output).dropFirst(2).contains(where: { $0 != 1 }) { save(x, "input") }
        case .globalpool:
            if word("mode") == "max" { save(x, "input"); save(n.output, "output") }  // amax keeps both
        case .upsample, .concat, .cls, .identity:
            effect.view = n.op == .identity
        case .add, .sub, .rsub, .sum, .mean, .unfold, .fold:
            break  // their backward needs only sizes: summed to each operand's shape, negated, expand, col2im, im2col
        case .mul: try mul()
        case .div: try div()
        case .max:
            save(x, "input"); save(n.output, "output")  // amax: the gradient goes where input == output
        case .batchnorm, .layernorm, .rmsnorm, .groupnorm:
            try norm(low: low)
        case .relu, .sigmoid, .tanh, .softmax:
            save(n.output, "output")
        case .relu6, .gelu, .silu, .hardswish:
            save(x, "input")
        case .dropout:
            if case .float(let p)? = arg("p"), p > 0 { own("mask", try shape(x), .bool) } else { effect.view = true }
        case .flatten, .reshape, .view:
            effect.view = inputLayout[0] == .contiguous  // reshape copies a permuted or gapped tensor
        case .transpose, .permute:
            effect.view = true
            effect.layout = try inputLayout[0] != .contiguous || movesData(try shape(x)) ? .permuted : .contiguous
        case .pos:
            if word("kind") == "table" { own("position ids", [1, try shape(x)[1]], .int64) }
        case .slice, .index: try select()
        case .take:
            effect.view = word("which") != "mean"  // x[:, 0] is a view; mean keeps nothing
        case .attention:
            if int("window") != nil { try windowAttention() } else { try attention(low: low) }
        case .sgu: try spatialGating()
        case .patchmerge:
            let out = try shape(n.output), merged = Array(out.dropLast()) + [2 * out.last!]
            own("concatenated", merged); rowStatistics(merged); own("normalised", merged)
        case .rnn, .lstm, .gru: try recurrent()
        case .seq, .residual, .parallel:
            break  // structure: never a node
        }
        // An elementwise op writes its output in its (first) input's memory order.
        if [.relu, .relu6, .gelu, .silu, .sigmoid, .tanh, .hardswish, .dropout, .add, .sub, .rsub, .mul, .div].contains(n.op) {
            effect.layout = inputLayout[0] == .permuted ? .permuted : .contiguous
        }
    }

    /// The norm kernels keep their input and f32 statistics: per channel (batchnorm), per row
    /// (layernorm), per example and group (groupnorm). RMSNorm is decomposed into pow, mean, rsqrt
    /// and products: on an input autograd does not track, only the product with the weight is recorded.
    /// A layer or RMS norm over another dimension than the last runs on the input with that
    /// dimension moved last (a view, kept as the input) and moves it back: its output is permuted.
    mutating func norm(low: Bool) throws {
        let s = try shape(x)
        switch node.op {
        case .batchnorm: save(x, "input"); own("mean", [s[1]], .f32); own("invstd", [s[1]], .f32)
        case .groupnorm: save(x, "input"); own("mean", [s[0], int("groups") ?? 1], .f32); own("rstd", [s[0], int("groups") ?? 1], .f32)
        case .rmsnorm:
            let rows = movedLast(s)
            if inputRequiresGrad[0] { rmsNorm(input: x, shape: rows.shape, low: low) } else { own("normalised", rows.shape, .f32) }
            effect.layout = rows.moves ? .permuted : .contiguous
        default:
            let rows = movedLast(s)
            save(x, "input"); rowStatistics(rows.shape)
            effect.layout = rows.moves ? .permuted : .contiguous
        }
    }

    /// The shape a layer or RMS norm normalises as rows (its `dim` moved last, as `movedim(dim, -1)`),
    /// and whether moving the result back leaves it in another order than its shape.
    func movedLast(_ s: [Int]) -> (shape: [Int], moves: Bool) {
        let a = int("dim") ?? -1, d = a < 0 ? a + s.count : a
        guard s.indices.contains(d), d != s.count - 1 else { return (s, false) }
        var moved = s
        moved.append(moved.remove(at: d))
        return (moved, s[d] > 1 && s[(d + 1)...].contains { $0 > 1 })
    }

    /// Whether a transpose or permute leaves memory in another order (moves a dimension larger than 1).
    func movesData(_ input: [Int]) throws -> Bool {
        let rank = input.count
        func norm(_ a: Int) -> Int { a < 0 ? a + rank : a }
        var perm = Array(0..<rank)
        if node.op == .transpose, let a = int("a"), let b = int("b"), (0..<rank).contains(norm(a)), (0..<rank).contains(norm(b)) {
            perm.swapAt(norm(a), norm(b))
        } else if case .list(let dims)? = arg("dims") {
            perm = dims.compactMap { if case .int(let d) = $0 { return norm(d) } else { return nil } }
        }
        let moved = perm.filter { $0 < rank && input[$0] > 1 }
        return moved != moved.sorted()
    }
}

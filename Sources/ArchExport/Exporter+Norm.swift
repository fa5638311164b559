import ArchSemantics
import ArchIR

/// The activations archc computes, written with opset 18's ops (GELU by its formula: the Gelu op
/// came in opset 20).
enum ExportActivation {
    case relu, relu6, gelu, geluTanh, silu, sigmoid, tanh, hardswish
}

/// Normalisation, activations, softmax.
extension Exporter {
    /// An activation by its name in the language (`mlp act`, `decoder act`: an op's name or `gelu_tanh`).
    static func activation(named name: String) throws -> ExportActivation {
        switch name {
        case "relu": return .relu
        case "relu6": return .relu6
        case "gelu": return .gelu
        case "gelu_tanh": return .geluTanh
        case "silu": return .silu
        case "sigmoid": return .sigmoid
        case "tanh": return .tanh
        case "hardswish": return .hardswish
        default:
            throw ExportError("internal error: '\(name)' is not an activation", notes: ["this is a bug in archc; please report it with the spec"])
        }
    }

    @discardableResult
    mutating func activation(_ a: ExportActivation, _ x: String, into y: String? = nil) -> String {
        switch a {
        case .relu: return b.op("Relu", [x], out: y)
        case .relu6: return b.op("Clip", [x, b.scalar(0), b.scalar(6)], out: y)
        case .sigmoid: return b.op("Sigmoid", [x], out: y)
        case .tanh: return b.op("Tanh", [x], out: y)
        case .hardswish: return b.op("HardSwish", [x], out: y)
        case .silu: return b.op("Mul", [x, b.op("Sigmoid", [x])], out: y)
        case .gelu:
            // 0.5 x (1 + erf(x / sqrt 2))
            let erf = b.op("Erf", [b.op("Mul", [x, b.scalar(0.707_106_781_186_547_52)])])
            return b.op("Mul", [b.op("Mul", [x, b.scalar(0.5)]), b.op("Add", [erf, b.scalar(1)])], out: y)
        case .geluTanh:
            // 0.5 x (1 + tanh(sqrt(2 / pi) (x + 0.044715 x^3)))
            let cube = b.op("Mul", [b.op("Mul", [x, x]), x])
            let inner = b.op("Add", [x, b.op("Mul", [cube, b.scalar(0.044_715)])])
            let t = b.op("Tanh", [b.op("Mul", [inner, b.scalar(0.797_884_560_8)])])
            return b.op("Mul", [b.op("Mul", [x, b.scalar(0.5)]), b.op("Add", [t, b.scalar(1)])], out: y)
        }
    }

    /// A constant of `count` ones or zeros for a norm without its affine parameters.
    mutating func filled(_ value: Float, _ count: Int, _ what: String) -> String {
        b.floats(Array(repeating: value, count: count), dims: [count], name: "\(what)[\(count)]")
    }

    /// The size of dimension `axis` of the node's input, which a parameter's shape fixes.
    func channels(_ n: Graph.Node, axis: Int) throws -> Int {
        let s = shape(n.inputs[0])
        let a = axis < 0 ? axis + s.count : axis
        guard let c = s[a].value else { return try known(n.inputs[0], "the channels", from: a)[0] }
        return c
    }

    /// Inference batchnorm with the running statistics: BatchNormalization, unfolded.
    mutating func batchnorm(_ n: Graph.Node) throws {
        let c = try channels(n, axis: 1)
        let scale = param("weight") ?? filled(1, c, "ones")
        let shift = param("bias") ?? filled(0, c, "zeros")
        b.op("BatchNormalization", [try input(n), scale, shift, try required("running_mean"), try required("running_var")],
             [.f("epsilon", try arg(n.float("eps"), "eps"))], out: out)
    }

    /// LayerNormalization over the last dimension; over another (`dim 1`: LayerNorm2d), between two
    /// Transposes that move that dimension last and back, as archc computes it.
    mutating func layernorm(_ n: Graph.Node) throws {
        let rank = shape(n.inputs[0]).count, axis = n.axis("dim", rank: rank, default: -1)
        let d = try channels(n, axis: axis)
        let scale = param("weight") ?? filled(1, d, "ones")
        let bias = param("bias").map { [$0] } ?? []
        let eps = AttributeProto.f("epsilon", try arg(n.float("eps"), "eps"))
        guard axis != rank - 1 else {
            b.op("LayerNormalization", [try input(n), scale] + bias, [.i("axis", -1), eps], out: out)
            return
        }
        let (toLast, back) = Self.moveLast(axis, rank: rank)
        let y = b.op("LayerNormalization", [transpose(try input(n), toLast), scale] + bias, [.i("axis", -1), eps])
        transpose(y, back, out: out)
    }

    /// The permutation that moves dimension `axis` last, and its inverse.
    static func moveLast(_ axis: Int, rank: Int) -> (toLast: [Int], back: [Int]) {
        var toLast = Array(0..<rank), back = Array(0..<rank)
        toLast.append(toLast.remove(at: axis))
        back.insert(back.removeLast(), at: axis)
        return (toLast, back)
    }

    /// `rmsnorm [dim D]`: the weight spread along dimension D ([d, 1, 1] for the channels of an image).
    mutating func rmsnorm(_ n: Graph.Node) throws {
        let rank = shape(n.inputs[0]).count, axis = n.axis("dim", rank: rank, default: -1)
        var weight = param("weight")
        if let w = weight, axis != rank - 1 { weight = reshape(w, [try channels(n, axis: axis)] + Array(repeating: 1, count: rank - 1 - axis)) }
        try rmsnorm(try input(n), eps: try arg(n.float("eps"), "eps"), weight: weight, axis: axis == rank - 1 ? -1 : axis, into: out)
    }

    /// x / sqrt(mean(x^2) + eps) * weight over dimension `axis` (RMSNormalization came in opset 23).
    @discardableResult
    mutating func rmsnorm(_ x: String, eps: Float, weight: String?, axis: Int = -1, into y: String?) throws -> String {
        let meanSquare = b.op("ReduceMean", [b.op("Mul", [x, x]), b.ints([axis])], [.i("keepdims", 1)])
        let rms = b.op("Sqrt", [b.op("Add", [meanSquare, b.scalar(eps)])])
        guard let weight else { return b.op("Div", [x, rms], out: y) }
        return b.op("Mul", [b.op("Div", [x, rms]), weight], out: y)
    }

    /// Groups normalised by InstanceNormalization on [b, groups, rest], then the per-channel affine.
    /// (Opset 18's GroupNormalization scales per group, not per channel, and the ONNX checker
    /// rejects it as deprecated.)
    mutating func groupnorm(_ n: Graph.Node) throws {
        let x = try input(n), s = shape(n.inputs[0]), groups = try arg(n.int("groups"), "groups")
        let grouped = reshape(x, [0, groups, -1])
        let normed = b.op("InstanceNormalization", [grouped, filled(1, groups, "ones"), filled(0, groups, "zeros")],
                          [.f("epsilon", try arg(n.float("eps"), "eps"))])
        var y = b.op("Reshape", [normed, b.op("Shape", [x])])
        let c = try channels(n, axis: 1), spread = [c] + Array(repeating: 1, count: s.count - 2)
        let weight = param("weight"), bias = param("bias")
        if let weight { y = b.op("Mul", [y, reshape(weight, spread)], out: bias == nil ? out : nil) }
        if let bias { y = b.op("Add", [y, reshape(bias, spread)], out: out) }
        if weight == nil && bias == nil { b.op("Identity", [y], out: out) }
    }

    mutating func softmax(_ n: Graph.Node) throws {
        let axis = n.axis("dim", rank: shape(n.inputs[0]).count, default: -1)
        b.op("Softmax", [try input(n)], [.i("axis", axis)], out: out)
    }

    /// Dropout with its ratio (the identity at inference; Netron shows the layer).
    mutating func dropout(_ n: Graph.Node) throws {
        let p = Float(n.float("p") ?? 0.5)
        b.op("Dropout", [try input(n), b.scalar(p)], out: out)
    }
}

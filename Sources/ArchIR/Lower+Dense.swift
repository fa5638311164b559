import ArchSemantics
import ArchKernels

/// Dense layers: linear, embedding, MLP, SwiGLU, mixture of experts.
extension Lowering {
    mutating func lowerLinear(_ n: Graph.Node) throws {
        let x = n.inputs[0], d = shape(x).last!
        linear(x, rows: count(x) / d, inFeatures: d, outFeatures: shape(n.output).last!, weight: try required("weight"), bias: param("bias"),
               into: n.output)
    }

    mutating func lowerEmbedding(_ n: Graph.Node) throws {
        let ids = n.inputs.count > 1 ? n.inputs[1] : n.inputs[0]
        emit(.embedding(EmbeddingCall(tokens: count(ids), vocab: n.int("vocab")!, dim: n.int("dim")!, ids: ids, output: n.output,
                                      base: n.inputs.count > 1 ? n.inputs[0] : nil, table: try required("weight"))))
    }

    /// fc1 with its activation as the GEMM's epilogue, then fc2.
    mutating func lowerMLP(_ n: Graph.Node) throws {
        let x = n.inputs[0], inShape = shape(x), d = inShape.last!, rows = count(x) / d, hidden = n.int("hidden")!
        let mid = value(Array(inShape.dropLast()) + [hidden])
        linear(x, rows: rows, inFeatures: d, outFeatures: hidden, weight: try required("fc1.weight"), bias: param("fc1.bias"), into: mid,
               activation: try Self.activation(named: n.word("act") ?? "gelu"))
        linear(mid, rows: rows, inFeatures: hidden, outFeatures: shape(n.output).last!, weight: try required("fc2.weight"),
               bias: param("fc2.bias"), into: n.output)
    }

    /// y = activation(x Wᵀ + b): one GEMM.
    mutating func linear(_ x: Int, rows: Int, inFeatures: Int, outFeatures: Int, weight: Int, bias: Int?, into y: Int,
                         activation: Activation = .none) {
        emit(.linear(LinearCall(rows: rows, inFeatures: inFeatures, outFeatures: outFeatures, input: x, output: y, weight: weight,
                                bias: bias, activation: activation)))
    }

    /// w2(silu(w1 x) ⊙ w3 x): w1 and w3 as one GEMM (their weights side by side), the gate, then w2.
    /// w2(silu(w1 x) * w3 x): the gate and up projections as one GEMM (their weights side by side),
    /// the gate, the down projection.
    mutating func swiglu(_ x: Int, names: SwiGLUNames, hidden: Int, into y: Int) throws {
        let d = shape(x).last!, rows = count(x) / d, path = current.path.joined(separator: ".")
        let (gate, up, down) = (names.gate, names.up, names.down)
        let w13 = concatenated([try required(gate + ".weight"), try required(up + ".weight")], name: "\(path).\(gate)|\(up).weight")
        let b1 = param(gate + ".bias"), b3 = param(up + ".bias")
        let b13 = b1.flatMap { b1 in b3.map { concatenated([b1, $0], name: "\(path).\(gate)|\(up).bias") } }
        let both = value([rows, 2 * hidden]), gated = value([rows, hidden])
        linear(x, rows: rows, inFeatures: d, outFeatures: 2 * hidden, weight: w13, bias: b13, into: both)
        emit(.gate(GateCall(rows: rows, width: hidden, input: both, output: gated, activation: .silu)))
        linear(gated, rows: rows, inFeatures: hidden, outFeatures: shape(y).last!, weight: try required(down + ".weight"),
               bias: param(down + ".bias"), into: y)
    }

    mutating func lowerMoE(_ n: Graph.Node) throws {
        let x = n.inputs[0], d = shape(x).last!, experts = n.int("experts")!, hidden = n.int("hidden")!
        let kind: MoECall.Expert = n.word("expert") == "mlp" ? .mlp : .swiglu
        var call = MoECall(rows: count(x) / d, width: d, experts: experts, top: n.int("top") ?? 2, hidden: hidden, expert: kind,
                           input: x, output: n.output, router: try required("gate.weight"))
        let path = n.path.joined(separator: ".")
        for e in 0..<experts {
            let p = "experts.\(e)."
            switch kind {
            case .swiglu:
                call.first.append(concatenated([try required(p + "w1.weight"), try required(p + "w3.weight")], name: "\(path).\(p)w1|w3.weight"))
                call.firstBias.append(nil)
                call.second.append(try required(p + "w2.weight"))
                call.secondBias.append(nil)
            case .mlp:
                call.first.append(try required(p + "fc1.weight"))
                call.firstBias.append(param(p + "fc1.bias"))
                call.second.append(try required(p + "fc2.weight"))
                call.secondBias.append(param(p + "fc2.bias"))
            }
        }
        emit(.moe(call))
    }

    /// An activation by its name in the language (an op's name, or `gelu_tanh` for GELU's tanh
    /// approximation, as `mlp act` and `decoder act` take it).
    static func activation(named name: String) throws -> Activation {
        if name == "gelu_tanh" { return .geluTanh }
        guard let op = OpKind(rawValue: name), let a = activation(of: op, approximate: false) else {
            throw IRError("internal error: '\(name)' is not an activation", notes: ["this is a bug in archc; please report it with the spec"])
        }
        return a
    }

    /// The activation an op computes, or nil for ops that are not activations.
    static func activation(of op: OpKind, approximate: Bool) -> Activation? {
        switch op {
        case .relu: return .relu
        case .relu6: return .relu6
        case .gelu: return approximate ? .geluTanh : .gelu
        case .silu: return .silu
        case .sigmoid: return .sigmoid
        case .tanh: return .tanh
        case .hardswish: return .hardswish
        case .linear, .embed, .mlp, .swiglu, .moe, .conv, .convt, .maxpool, .avgpool, .adaptive_avgpool, .adaptive_maxpool, .globalpool,
             .upsample, .patch, .batchnorm, .layernorm, .rmsnorm, .groupnorm, .identity, .softmax, .dropout, .flatten, .reshape,
             .transpose, .permute, .pos, .cls, .take, .sum, .mean, .max, .slice, .index, .view, .unfold, .fold, .attention, .sgu, .patchmerge, .rnn, .lstm, .gru, .add, .sub, .mul, .div, .rsub, .concat,
             .seq, .residual, .parallel:
            return nil
        }
    }
}

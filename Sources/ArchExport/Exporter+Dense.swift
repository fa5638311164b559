import ArchSemantics
import ArchIR

/// Dense layers: linear, embedding, MLP, SwiGLU, mixture of experts.
extension Exporter {
    mutating func linearLayer(_ n: Graph.Node) throws {
        linear(try input(n), rank: shape(n.inputs[0]).count, weight: try required("weight"), bias: param("bias"),
               layout: WeightLayout(n.args), into: out)
    }

    /// y = x Wᵀ + b on the last dimension: Gemm on a matrix, else MatMul by the weight transposed
    /// (one Transpose per weight, shared by its uses; ONNX Runtime folds it when it loads the model).
    /// A weight stored [in, out] (`weights conv1d`, transformers' Conv1D) is multiplied as it is.
    @discardableResult
    mutating func linear(_ x: String, rank: Int, weight: String, bias: String?, layout: WeightLayout = .linear, into y: String? = nil) -> String {
        let stored: Bool
        switch layout {
        case .linear: stored = false
        case .conv1d: stored = true
        }
        if rank == 2 { return b.op("Gemm", [x, weight] + (bias.map { [$0] } ?? []), [.i("transB", stored ? 0 : 1)], out: y) }
        let product = b.op("MatMul", [x, stored ? weight : transposed(weight)], out: bias == nil ? y : nil)
        guard let bias else { return product }
        return b.op("Add", [product, bias], out: y)
    }

    /// A weight [out, in] as [in, out].
    mutating func transposed(_ weight: String) -> String {
        let key = "transposed \(weight)"
        if let t = shared[key] { return t }
        let t = transpose(weight, [1, 0], out: b.reserve("\(weight)^T"))
        shared[key] = t
        return t
    }

    /// A lookup of token ids in the table; with `from`, the vectors of another input's ids added to the running tensor.
    mutating func embed(_ n: Graph.Node) throws {
        let table = try required("weight")
        guard n.inputs.count > 1 else {
            b.op("Gather", [table, try input(n)], out: out)
            return
        }
        let looked = b.op("Gather", [table, try name(n.inputs[1])])
        b.op("Add", [try input(n), looked], out: out)
    }

    /// fc2(act(fc1 x)), under the names the spec gives the projections (GPT-2's c_fc, c_proj) and in its weight layout.
    mutating func mlp(_ n: Graph.Node) throws {
        let rank = shape(n.inputs[0]).count, layout = WeightLayout(n.args)
        let names: MLPNames
        do { names = try MLPNames(n.args["names"]?.words) } catch {
            throw ExportError("internal error: \(n.op) at \(n.loc.description) has names its check refused", notes: ["this is a bug in archc; please report it with the spec"])
        }
        let hidden = linear(try input(n), rank: rank, weight: try required(names.first + ".weight"), bias: param(names.first + ".bias"), layout: layout)
        let act = try Self.activation(named: n.word("act") ?? "gelu")
        let h = activation(act, hidden)
        linear(h, rank: rank, weight: try required(names.second + ".weight"), bias: param(names.second + ".bias"), layout: layout, into: out)
    }

    /// The gate, up and down projections' names (w1, w3, w2 unless `names` gives others).
    func swigluNames(_ n: Graph.Node) throws -> SwiGLUNames {
        do { return try SwiGLUNames(n.args["names"]?.words) } catch {
            throw ExportError("internal error: \(n.op) at \(n.loc.description) has names its check refused", notes: ["this is a bug in archc; please report it with the spec"])
        }
    }

    /// down(silu(gate x) * up x): w2(silu(w1 x) * w3 x) by default.
    @discardableResult
    mutating func swiglu(_ x: String, prefix: String = "", names: SwiGLUNames, into y: String?) throws -> String {
        let rank = shape(current.inputs[0]).count
        let (gate, up, down) = (prefix + names.gate, prefix + names.up, prefix + names.down)
        let a = linear(x, rank: rank, weight: try required(gate + ".weight"), bias: param(gate + ".bias"))
        let g = linear(x, rank: rank, weight: try required(up + ".weight"), bias: param(up + ".bias"))
        let gated = b.op("Mul", [activation(.silu, a), g])
        return linear(gated, rank: rank, weight: try required(down + ".weight"), bias: param(down + ".bias"), into: y)
    }

    /// Mixtral's sparse mixture, computed densely with archc's numerics: the router's softmax, the
    /// top k probabilities renormalised to sum to one (ties to the lower expert, as TopK orders them)
    /// and scattered into a gate per expert (zero for the experts not chosen); every expert runs on
    /// every token and the outputs are summed weighted by their gates.
    mutating func moe(_ n: Graph.Node) throws {
        let x = try input(n), rank = shape(n.inputs[0]).count
        let experts = try arg(n.int("experts"), "experts"), top = n.int("top") ?? 2
        let logits = linear(x, rank: rank, weight: try required("gate.weight"), bias: nil)
        let probs = b.op("Softmax", [logits], [.i("axis", -1)])
        let best = b.add("TopK", [probs, b.ints([top])], [.i("axis", -1), .i("largest", 1), .i("sorted", 1)], outputs: 2)
        let total = b.op("ReduceSum", [best[0], b.ints([-1])], [.i("keepdims", 1)])
        let weights = b.op("Div", [best[0], total])
        let zeros = b.op("ConstantOfShape", [b.op("Shape", [probs])])
        let gates = b.op("ScatterElements", [zeros, best[1], weights], [.i("axis", -1)])
        var terms: [String] = []
        for e in 0..<experts {
            let p = "experts.\(e)."
            let y: String
            if n.word("expert") == "mlp" {
                let h = linear(x, rank: rank, weight: try required(p + "fc1.weight"), bias: param(p + "fc1.bias"))
                y = linear(activation(.gelu, h), rank: rank, weight: try required(p + "fc2.weight"), bias: param(p + "fc2.bias"))
            } else {
                y = try swiglu(x, prefix: p, names: SwiGLUNames(), into: nil)
            }
            let gate = b.op("Slice", [gates, b.ints([e]), b.ints([e + 1]), b.ints([-1])])
            terms.append(b.op("Mul", [y, gate]))
        }
        b.op("Sum", terms, out: out)
    }
}

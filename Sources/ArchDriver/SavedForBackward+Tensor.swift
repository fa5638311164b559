import ArchSemantics

/// The saved tensors of arithmetic with an operand (an earlier tensor, a number or a learned tensor)
/// and of slices, as PyTorch's autograd records `x * other`, `x / other`, `x[:, a:b]`, `x.select(d, i)`.
extension SavedForBackward {
    /// The second operand of `mul` or `div`: an earlier tensor (its input index), a learned tensor
    /// (a parameter: its storage is counted with the weights), or a number (autograd keeps a Python
    /// number as a number, not a tensor).
    enum Operand {
        case value(Int), learned, number
    }
    var operand: Operand {
        if node.inputs.count > 1 { return .value(1) }
        return node.params.contains { !graph.params[$0].isBuffer } ? .learned : .number
    }

    /// a * b keeps b for a's gradient (when a needs one) and a for b's; a chain a * b * c (parallel
    /// mul) keeps its partial products too.
    mutating func mul() throws {
        switch operand {
        case .number: return
        case .learned: save(x, "input")  // for the learned tensor's gradient
        case .value:
            let ins = node.inputs
            if inputRequiresGrad[1] { save(ins[0], "operand") }
            if inputRequiresGrad[0] { save(ins[1], "operand") }
            for i in 2..<max(2, ins.count) {
                own("partial product", try shape(node.output))
                save(ins[i], "operand")
            }
        }
    }

    /// a / b (derivatives.yaml's div.Tensor): a's gradient is grad / b, b's is -grad * a / b²: b is kept
    /// when either needs a gradient, a when b does. A learned divisor is a parameter (not counted here).
    mutating func div() throws {
        switch operand {
        case .number: return
        case .learned: save(x, "dividend")
        case .value(let i):
            let b = node.inputs[i]
            if inputRequiresGrad[i] { save(x, "dividend") }
            if inputRequiresGrad[0] || inputRequiresGrad[i] { save(b, "divisor") }
        }
    }

    /// A slice or index is a view that keeps nothing. Of a contiguous input it stays contiguous along
    /// its last dimension; whether its other dimensions still fold into rows (a reshape to
    /// [rows, last] a view) decides whether a linear layer reading it saves a copy.
    mutating func select() throws {
        effect.view = true
        let s = try shape(x), a = int("dim") ?? 1, d = a < 0 ? a + s.count : a
        effect.layout = inputLayout[0]
        guard inputLayout[0] == .contiguous, s.indices.contains(d) else { return }
        var strides = s.indices.map { s[($0 + 1)...].reduce(1, *) }
        if node.op == .index {
            strides.remove(at: d)
        } else {
            strides[d] *= max(1, int("step") ?? 1)
        }
        let sizes = try shape(node.output)
        guard sizes.count == strides.count else { return }
        let kept = sizes.indices.dropLast().filter { sizes[$0] > 1 }
        let folds = zip(kept, kept.dropFirst()).allSatisfy { strides[$0] == sizes[$1] * strides[$1] }
        effect.layout = folds ? .contiguous : .gapped
    }
}

import ArchSemantics
import ArchKernels

/// Layout and sequence ops: permutations, positions, tokens, combining tensors.
extension Lowering {
    mutating func lowerPermute(_ n: Graph.Node) {
        let s = shape(n.inputs[0])
        var perm = Array(0..<s.count)
        if n.op == .transpose {
            perm.swapAt(n.axis("a", rank: s.count, default: 0), n.axis("b", rank: s.count, default: 0))
        } else if case .list(let vs)? = n.args["dims"] {
            perm = vs.compactMap { if case .int(let d) = $0 { return d < 0 ? d + s.count : d } else { return nil } }
        }
        emit(.permute(PermuteCall(shape: s, perm: perm, input: n.inputs[0], output: n.output)))
    }

    /// Learned positions (a bare tensor), the first rows of a longer table, or sinusoids (a table the
    /// prepare pass makes from the sizes alone).
    mutating func lowerPositions(_ n: Graph.Node) throws {
        let s = shape(n.inputs[0]), (tokens, width) = (s[1], s[2])
        let kind = n.word("kind") ?? "learned"
        let table = kind == "sinusoidal" ? derived("sinusoid(\(tokens), \(width))", count: tokens * width, .sinusoid(positions: tokens, width: width))
                  : try required(kind == "table" ? "weight" : "")
        emit(.positions(PositionsCall(batch: s[0], count: tokens * width, table: table, input: n.inputs[0], output: n.output)))
    }

    mutating func lowerTake(_ n: Graph.Node) {
        let s = shape(n.inputs[0])
        let which: TakeCall.Which = n.word("which") == "mean" ? .mean : n.word("which") == "last" ? .last : .first
        emit(.take(TakeCall(batch: s[0], tokens: s.dropFirst().dropLast().reduce(1, *), width: s.last!, which: which,
                            input: n.inputs[0], output: n.output)))
    }

    /// Arithmetic, broadcasting as PyTorch does. Of tensors (a layer's operand, or the branches of
    /// `parallel add|mul`), pairwise: the first operand is one with the output's shape where there
    /// is one, so the step can write over it (a non-commutative op then runs reversed). Of a learned
    /// tensor or a number: the constant is the right operand.
    mutating func lowerArithmetic(_ n: Graph.Node, _ operation: BinaryCall.Op) {
        let out = shape(n.output), x = n.inputs[0]
        var op = operation
        if n.inputs.count == 1 {
            let (constant, operand): (Int, [Int])
            if let id = n.params.first {
                (constant, operand) = (parameter(id), graph.params[id].shape)
            } else {
                let number = n.float("other") ?? 0
                (constant, operand) = (derived("\(number)", count: 1, .number(number)), [])
            }
            emit(.binary(BinaryCall(op: op, shape: out, lhsStrides: BinaryCall.strides(of: shape(x), broadcastTo: out),
                                    rhsStrides: BinaryCall.strides(of: operand, broadcastTo: out), lhs: x, rhs: x, output: n.output,
                                    constant: constant)))
            return
        }
        var operands = n.inputs
        if let full = operands.firstIndex(where: { shape($0) == out }), full != 0 {
            operands.swapAt(0, full)
            op = Self.reversed(op)
        }
        var acc = operands[0]
        for (k, other) in operands.dropFirst().enumerated() {
            let last = k == operands.count - 2
            let target = last ? n.output : value(out)
            emit(.binary(BinaryCall(op: op, shape: out, lhsStrides: BinaryCall.strides(of: shape(acc), broadcastTo: out),
                                    rhsStrides: BinaryCall.strides(of: shape(other), broadcastTo: out), lhs: acc, rhs: other, output: target)))
            acc = target
        }
    }

    /// The op with its operands swapped: a - b = rsub(b, a).
    static func reversed(_ op: BinaryCall.Op) -> BinaryCall.Op {
        switch op {
        case .add, .mul: return op
        case .sub: return .rsub
        case .rsub: return .sub
        case .div: return .rdiv
        case .rdiv: return .div
        }
    }

    mutating func lowerConcat(_ n: Graph.Node) {
        let out = shape(n.output), axis = n.axis("dim", rank: out.count, default: 1)
        emit(.concat(ConcatCall(outer: out[..<axis].reduce(1, *), inner: out[(axis + 1)...].reduce(1, *),
                                sizes: n.inputs.map { shape($0)[axis] }, inputs: n.inputs, output: n.output)))
    }
}

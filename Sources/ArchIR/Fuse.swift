import ArchKernels

/// Folds what follows a producer into it, so each activation is written once:
/// - a batchnorm right after a convolution is folded into it (the prepare pass makes the folded
///   weights and bias);
/// - an activation becomes the epilogue of the GEMM, convolution, norm, affine or add before it;
/// - a residual add becomes the epilogue of the GEMM or convolution that computes one of its
///   operands, when the other is ready before it (ResNet's `relu(conv2 + shortcut)`, a transformer's
///   `x + proj(attention)`): the GEMM then starts from the residual instead of zero.
/// Only a value with a single reader is fused away, and never the program's output.
public enum Fuse {
    public static let name = "fuse"

    public static func run(_ program: Program) -> Program {
        var fusion = Fusion(program)
        while fusion.fuseOnce() {}
        var p = fusion.program
        p.steps = fusion.steps.compactMap { $0 }
        p.passes.append(name)
        return p
    }
}

struct Fusion {
    var program: Program
    /// The steps, nil where one was absorbed.
    var steps: [Program.Step?]

    init(_ p: Program) {
        program = p
        steps = p.steps
    }

    /// One fusion anywhere in the program; false when there is none left.
    mutating func fuseOnce() -> Bool {
        var readers = [[Int]](repeating: [], count: program.values.count)
        var producer = [Int?](repeating: nil, count: program.values.count)
        for (i, s) in steps.enumerated() {
            guard let s else { continue }
            for v in Set(s.reads).sorted() { readers[v].append(i) }
            producer[s.output] = i
        }
        for (c, consumer) in steps.enumerated() {
            guard let consumer else { continue }
            var seen = Set<Int>()
            for v in consumer.reads where seen.insert(v).inserted {
                guard let p = producer[v], readers[v] == [c], v != program.output, let producerStep = steps[p] else { continue }
                if let fused = fuse(producerStep, into: consumer, through: v, at: p, producer: producer) {
                    steps[p] = fused
                    steps[c] = nil
                    return true
                }
            }
        }
        return false
    }

    /// The producer with the consumer folded in, or nil when they do not fuse.
    func fuse(_ p: Program.Step, into c: Program.Step, through v: Int, at index: Int, producer: [Int?]) -> Program.Step? {
        var fused = p
        fused.nodes += c.nodes
        if case .channelAffine = c.kind, let bn = c.batchnorm {
            guard case .conv(let conv) = p.kind, p.batchnorm == nil, conv.activation == .none, conv.residual == nil else { return nil }
            fused.batchnorm = bn
        } else if case .activation(let a) = c.kind {
            guard p.kind.epilogueActivation == Activation.none else { return nil }
            fused.kind = p.kind.applying(a.activation)
        } else if case .binary(let add) = c.kind, add.op == .add, add.activation == .none,
                  add.lhsStrides == add.rhsStrides, add.lhsStrides == BinaryCall.strides(of: add.shape, broadcastTo: add.shape) {
            let other = add.lhs == v ? add.rhs : add.lhs
            // The other operand must be ready before the producer runs.
            guard other != v, p.kind.residual == .some(nil), p.kind.epilogueActivation == Activation.none,
                  (producer[other] ?? -1) < index else { return nil }
            fused.kind = p.kind.adding(residual: other)
        } else {
            return nil
        }
        fused.kind.output = c.output
        return fused
    }
}

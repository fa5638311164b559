import ArchKernels

/// Folds what follows a producer into it, so each activation is written once:
/// - a batchnorm right after a convolution is folded into it (the prepare pass makes the folded
///   weights and bias);
/// - an activation becomes the epilogue of the GEMM, convolution, norm, affine or add before it;
/// - a residual add becomes the epilogue of the GEMM, convolution or window merge that computes
///   one of its operands, when the other is ready before it (ResNet's `relu(conv2 + shortcut)`, a
///   transformer's `x + proj(attention)`, Swin's `x + merge(windows)`): the GEMM then starts from
///   the residual instead of zero.
/// Only a value with a single reader is fused away, and never the program's output; a view of the
/// same shape in between (a dropout) is fused away with it. One pass over the steps in order
/// (chains such as conv, batchnorm, add, relu fold one step at a time).
public enum Fuse {
    public static let name = "fuse"

    public static func run(_ program: Program) -> Program {
        var fusion = Fusion(program)
        fusion.fuseAll()
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
    /// Each value's readers (step indices) and producer, kept up to date as steps merge.
    var readers: [[Int]]
    var producer: [Int?]

    init(_ p: Program) {
        program = p
        steps = p.steps
        readers = [[Int]](repeating: [], count: p.values.count)
        producer = [Int?](repeating: nil, count: p.values.count)
        for (i, s) in p.steps.enumerated() {
            for v in Set(s.reads).sorted() { readers[v].append(i) }
            producer[s.output] = i
        }
    }

    mutating func fuseAll() {
        for c in steps.indices {
            guard let consumer = steps[c] else { continue }
            var seen = Set<Int>()
            for v in consumer.reads where seen.insert(v).inserted {
                guard var p = producer[v], readers[v] == [c], v != program.output else { continue }
                let view = identityView(p)
                if let view { p = view.producer }
                guard let producerStep = steps[p], var fused = fuse(producerStep, into: consumer, through: v, at: p) else { continue }
                if let view {
                    fused.nodes = producerStep.nodes + view.nodes + consumer.nodes
                    readers[view.input] = []
                    steps[view.step] = nil
                }
                merge(c, into: p, fused, through: v)
                break
            }
        }
    }

    /// Step `s` when it is a view of the same shape (a dropout or identity, which the lowering
    /// leaves between a transformer's projections and their residual adds) whose input only it
    /// reads: the step that computes that input, through which a consumer of the view fuses.
    func identityView(_ s: Int) -> (step: Int, nodes: [Int], input: Int, producer: Int)? {
        guard let step = steps[s], case .view(let view) = step.kind, readers[view.input] == [s], view.input != program.output,
              program.values[view.input].shape == program.values[view.output].shape, let p = producer[view.input] else { return nil }
        return (s, step.nodes, view.input, p)
    }

    /// Replaces the producer by the fused step and removes the consumer, keeping the maps right.
    mutating func merge(_ c: Int, into p: Int, _ fused: Program.Step, through v: Int) {
        for r in Set(steps[c]!.reads) where r != v {
            readers[r].removeAll { $0 == c }
            if !readers[r].contains(p) { readers[r].append(p) }
        }
        readers[v] = []
        producer[fused.output] = p
        steps[p] = fused
        steps[c] = nil
    }

    /// The producer with the consumer folded in, or nil when they do not fuse.
    func fuse(_ p: Program.Step, into c: Program.Step, through v: Int, at index: Int) -> Program.Step? {
        var fused = p
        fused.nodes += c.nodes
        if case .channelAffine = c.kind, let bn = c.batchnorm {
            guard case .conv(let conv) = p.kind, p.batchnorm == nil, conv.activation == .none, conv.residual == nil else { return nil }
            fused.batchnorm = bn
        } else if case .activation(let a) = c.kind {
            guard p.kind.epilogueActivation == Activation.none else { return nil }
            fused.kind = p.kind.applying(a.activation)
        } else if case .binary(let add) = c.kind, add.op == .add, add.activation == .none, add.constant == nil,
                  add.lhsStrides == add.rhsStrides, add.lhsStrides == BinaryCall.strides(of: add.shape, broadcastTo: add.shape) {
            let other = add.lhs == v ? add.rhs : add.lhs
            // The other operand must be ready before the producer runs.
            guard other != v, p.kind.residual == .some(nil), (p.kind.epilogueActivation ?? Activation.none) == Activation.none,
                  (producer[other] ?? -1) < index else { return nil }
            fused.kind = p.kind.adding(residual: other)
        } else {
            return nil
        }
        fused.kind.output = c.output
        return fused
    }
}

import ArchSemantics
import ArchIR

/// Elementwise arithmetic. ONNX's Add, Sub, Mul and Div broadcast as PyTorch does (shapes aligned at
/// their last dimension), so an operand of another shape needs no Expand.
extension Exporter {
    /// The running tensor x and its operand (a labelled tensor, a learned tensor or a number), or the
    /// branches of `parallel add|mul`, combined left to right by `opType` (Add, Sub, Mul, Div);
    /// `reversed` puts the operand first (`rsub`: other - x).
    mutating func arithmetic(_ n: Graph.Node, _ opType: String, reversed: Bool = false) throws {
        var xs = try n.inputs.map { try name($0) }
        if xs.count == 1 {
            // A learned operand is an initializer named as in the weights file; a number a 0-d constant.
            xs.append(try n.params.first.map { initializer($0) } ?? b.scalar(try arg(n.float("other"), "other")))
        }
        if reversed {
            guard xs.count == 2 else {
                throw ExportError("internal error: \(n.op) of \(xs.count) tensors", notes: ["this is a bug in archc; please report it with the spec"])
            }
            xs.swapAt(0, 1)
        }
        if opType == "Add" && xs.count > 2 {
            b.op("Sum", xs, out: out)
            return
        }
        var acc = xs[0]
        for (k, other) in xs.dropFirst().enumerated() {
            acc = b.op(opType, [acc, other], out: k == xs.count - 2 ? out : nil)
        }
    }
}

import ArchSemantics
import ArchIR

/// nn.RNN / nn.LSTM / nn.GRU as ONNX's RNN, LSTM and GRU ops, one per layer, on [t, b, features].
/// The weights stay PyTorch's tensors under their names; the graph reorders their gate blocks into
/// ONNX's order (LSTM: i f g o -> i o f c; GRU: r z n -> z r h, with linear_before_reset as PyTorch
/// computes n) and stacks the directions, which ONNX Runtime folds when it loads the model.
extension Exporter {
    mutating func recurrent(_ n: Graph.Node) throws {
        let hidden = try arg(n.int("hidden"), "hidden"), layers = n.int("layers") ?? 1, directions = n.bool("bidirectional") ? 2 : 1
        let (opType, order): (String, [Int])
        var attributes: [AttributeProto] = [.i("hidden_size", hidden), .s("direction", directions == 2 ? "bidirectional" : "forward")]
        switch n.op {
        case .lstm: (opType, order) = ("LSTM", [0, 3, 1, 2])
        case .gru:
            (opType, order) = ("GRU", [1, 0, 2])
            attributes.append(.i("linear_before_reset", 1))
        default: (opType, order) = ("RNN", [0])
        }
        var x = transpose(try input(n), [1, 0, 2])
        for l in 0..<layers {
            var w: [String] = [], r: [String] = [], biases: [String] = []
            for dir in 0..<directions {
                let suffix = "_l\(l)" + (dir == 1 ? "_reverse" : "")
                w.append(gates(try required("weight_ih" + suffix), order, hidden))
                r.append(gates(try required("weight_hh" + suffix), order, hidden))
                if let bi = param("bias_ih" + suffix), let bh = param("bias_hh" + suffix) {
                    biases.append(b.op("Concat", [gates(bi, order, hidden), gates(bh, order, hidden)], [.i("axis", 0)]))
                }
            }
            let inputs = [x, stack(w), stack(r)] + (biases.isEmpty ? [] : [stack(biases)])
            let y = b.op(opType, inputs, attributes)
            x = reshape(transpose(y, [0, 2, 1, 3]), [0, 0, -1])
        }
        if n.bool("last") {
            b.op("Gather", [x, b.intScalar(-1)], [.i("axis", 0)], out: out)
        } else {
            transpose(x, [1, 0, 2], out: out)
        }
    }

    /// A weight or bias with its gate blocks (each `hidden` rows) in ONNX's order.
    mutating func gates(_ t: String, _ order: [Int], _ hidden: Int) -> String {
        guard order != Array(0..<order.count) else { return t }
        let blocks = b.add("Split", [t, b.ints(Array(repeating: hidden, count: order.count))], [.i("axis", 0)], outputs: order.count)
        return b.op("Concat", order.map { blocks[$0] }, [.i("axis", 0)])
    }

    /// The directions' tensors stacked on a new first axis.
    mutating func stack(_ ts: [String]) -> String {
        let unsqueezed = ts.map { b.op("Unsqueeze", [$0, b.ints([0])]) }
        return unsqueezed.count == 1 ? unsqueezed[0] : b.op("Concat", unsqueezed, [.i("axis", 0)])
    }
}

import ArchSemantics
import ArchKernels

extension Lowering {
    /// nn.RNN / nn.LSTM / nn.GRU: one call; its weights per layer and direction, in PyTorch's names.
    mutating func lowerRecurrent(_ n: Graph.Node) throws {
        let s = shape(n.inputs[0])
        let cell: RecurrentCall.Cell = n.op == .lstm ? .lstm : n.op == .gru ? .gru : .rnn
        var call = RecurrentCall(cell: cell, batch: s[0], steps: s[1], inputWidth: s[2], hidden: n.int("hidden")!, layers: n.int("layers") ?? 1,
                                 directions: n.bool("bidirectional") ? 2 : 1, last: n.bool("last"), input: n.inputs[0], output: n.output)
        for l in 0..<call.layers { for dir in 0..<call.directions {
            let suffix = "_l\(l)" + (dir == 1 ? "_reverse" : "")
            call.inputWeights.append(try required("weight_ih" + suffix))
            call.hiddenWeights.append(try required("weight_hh" + suffix))
            call.inputBiases.append(param("bias_ih" + suffix))
            call.hiddenBiases.append(param("bias_hh" + suffix))
        } }
        emit(.recurrent(call))
    }
}

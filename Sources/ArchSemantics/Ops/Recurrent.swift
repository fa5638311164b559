/// Recurrent layers with PyTorch's parameter layout (batch_first).
extension OpSpec {
    static func recurrent(_ name: OpKind, gates: Int, _ summary: String) -> OpSpec {
        OpSpec(name, summary,
               positional: [ArgSpec("hidden", .int(min: 1))],
               options: [ArgSpec("layers", .int(min: 1), .int(1)), ArgSpec("bidirectional", .flag, .bool(false)), bias,
                         ArgSpec("last", .flag, .bool(false), "return only the last time step: [b, hidden]")],
               shape: "[b, t, in] -> [b, t, hidden * directions] (or [b, hidden * directions] with last)",
               params: "per layer l and direction: weight_ih_l{l} [\(gates) hidden, in], weight_hh_l{l} [\(gates) hidden, hidden], bias_ih_l{l}, bias_hh_l{l} [\(gates) hidden]; '_reverse' for the backward direction",
               macs: "per layer and direction: t x \(gates) hidden x (in + hidden)") { ctx in
            let (b, t, inF) = try tokens(ctx)
            let h = ctx.int("hidden")
            let dirs = ctx.bool("bidirectional") ? 2 : 1
            let g = try checkedMul(gates, h)
            try ctx.reserveTensors(ctx.int("layers").multipliedReportingOverflow(by: 8).overflow ? Int.max : ctx.int("layers") * 8, "\(ctx.int("layers")) layers")
            var width = inF
            for l in 0..<ctx.int("layers") {
                for dir in 0..<dirs {
                    let sfx = "_l\(l)" + (dir == 1 ? "_reverse" : "")
                    try ctx.param("weight_ih" + sfx, [g, width])
                    try ctx.param("weight_hh" + sfx, [g, h])
                    if ctx.bool("bias") { try ctx.param("bias_ih" + sfx, [g]); try ctx.param("bias_hh" + sfx, [g]) }
                    try ctx.addMACs([b, t, Dim(g), Dim(try checkedAdd(width, h))])
                    try ctx.addOther([b, t, Dim(g)])
                }
                width = try checkedMul(h, dirs)
            }
            ctx.output.shape = ctx.bool("last") ? [b, Dim(width)] : [b, t, Dim(width)]
        }
    }

    static let recurrentOps: [OpSpec] = [
        recurrent(.rnn, gates: 1, "Elman RNN with tanh (nn.RNN)"),
        recurrent(.lstm, gates: 4, "long short-term memory (nn.LSTM)"),
        recurrent(.gru, gates: 3, "gated recurrent unit (nn.GRU)"),
    ]
}

/// Elementwise arithmetic with broadcasting: the running tensor and an operand that is an earlier
/// tensor (by label), a number, or a learned tensor of any shape (`param SHAPE`).
extension OpSpec {
    static func arithmetic(_ kind: OpKind, _ summary: String, _ formula: String, neutral: String) -> OpSpec {
        OpSpec(kind, summary,
               positional: [ArgSpec("other", .operand, nil, "an earlier tensor's label, or a number", optional: true)],
               options: [ArgSpec("param", .shape, nil, "a learned tensor of this shape as the operand instead (fixed sizes that broadcast to the input)"),
                         ArgSpec("name", .name, nil, "the learned tensor's name: LABEL.NAME (default: the label names it)"),
                         ArgSpec("init", .initializer, nil, "how 'archc init' fills the learned tensor (default: \(neutral))")],
               shape: "\(formula); the broadcast of both shapes (PyTorch's rules; a param keeps the input's shape)",
               params: "with param: [SHAPE], named by the label (a bare nn.Parameter), or LABEL.NAME with name (NAME in the enclosing group when unlabelled)",
               storage: .inPlace) { ctx in try arithmeticRule(&ctx) }
    }

    static let arithmeticOps: [OpSpec] = [
        arithmetic(.add, "add an earlier tensor, a number or a learned tensor", "x + other", neutral: "zeros"),
        arithmetic(.sub, "subtract an earlier tensor, a number or a learned tensor", "x - other", neutral: "zeros"),
        arithmetic(.mul, "multiply by an earlier tensor, a number or a learned tensor (layer scale)", "x * other", neutral: "ones"),
        arithmetic(.div, "divide by an earlier tensor, a number or a learned tensor", "x / other", neutral: "ones"),
        arithmetic(.rsub, "subtract from an earlier tensor, a number or a learned tensor: 'rsub 1' is 1 - x", "other - x", neutral: "zeros"),
    ]

    static func arithmeticRule(_ ctx: inout OpContext) throws {
        let name = ctx.op.name
        switch (ctx.has("other"), ctx.has("param")) {
        case (false, false):
            throw OpError("'\(name)' needs an operand: the label of an earlier tensor, a number, or 'param SHAPE'",
                          notes: [.init("for example: \(name) x, \(name) 0.5 or \(name) param [64]")], showsInput: false)
        case (true, true):
            throw OpError("'\(name)' takes one operand: a label or a number, or 'param SHAPE', not both", argument: "param", showsInput: false)
        default: break
        }
        if !ctx.has("param"), let extra = ["name", "init"].first(where: ctx.has) {
            throw OpError("'\(extra)' describes a learned operand: give it with 'param SHAPE'", argument: extra, showsInput: false)
        }
        if let other = ctx.refs["other"] {
            guard let s = broadcast(ctx.input.shape, other.shape) else {
                throw OpError("cannot \(name) \(describe(ctx.input.shape)) and \(describe(other.shape)) ('\(ctx.word("other") ?? "")')",
                              notes: [.init("sizes must be equal or 1, counted from the last dimension")], argument: "other")
            }
            ctx.output.shape = s
        } else if ctx.has("param") {
            let shape = try learnedShape(ctx)
            guard shape.count <= ctx.input.rank, broadcast(ctx.input.shape, shape.map(Dim.init)) == ctx.input.shape else {
                throw OpError("param \(shape) does not broadcast to the input \(describe(ctx.input.shape))",
                              notes: [.init("each size must be 1 or the input's size in that place, counted from the last dimension")],
                              argument: "param")
            }
            try ctx.learned(ctx.word("name") ?? "", shape)
        }
        try ctx.addOther(ctx.output.shape)
    }

    /// The sizes of a `param SHAPE`: fixed, at least 1.
    static func learnedShape(_ ctx: OpContext) throws -> [Int] {
        guard case .list(let items)? = ctx.args["param"] else { return [] }
        return try items.map { item in
            guard case .int(let n) = item else {
                throw OpError("a learned tensor has fixed sizes, but \(item) is symbolic", argument: "param", showsInput: false)
            }
            guard n >= 1 else { throw OpError("a learned tensor's sizes must be at least 1, got \(n)", argument: "param", showsInput: false) }
            return n
        }
    }
}

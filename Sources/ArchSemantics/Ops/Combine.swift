/// Concatenation with a labelled earlier tensor, and the structural ops with bodies.
extension OpSpec {
    /// PyTorch's broadcasting: shapes aligned at their last dimension, each pair of sizes equal or
    /// one of them 1 (a missing leading dimension counts as 1).
    static func broadcast(_ a: Shape, _ b: Shape) -> Shape? {
        let rank = max(a.count, b.count)
        let pa = Array(repeating: Dim(1), count: rank - a.count) + a, pb = Array(repeating: Dim(1), count: rank - b.count) + b
        var out: Shape = []
        for (x, y) in zip(pa, pb) {
            if x == y { out.append(x) } else if x == Dim(1) { out.append(y) } else if y == Dim(1) { out.append(x) } else { return nil }
        }
        return out
    }

    static let combining: [OpSpec] = [
        OpSpec(.concat, "concatenate an earlier tensor along a dimension (U-Net skips)",
               positional: [ArgSpec("other", .ref)],
               options: [ArgSpec("dim", .int(min: Int.min), .int(1), "the dimension (1 = channels)")],
               shape: "sizes along dim add up; the others must match") { ctx in
            let other = ctx.refs["other"]!
            let d = try axis(ctx.int("dim"), rank: ctx.input.rank, "dim")
            guard other.rank == ctx.input.rank,
                  zip(ctx.input.shape, other.shape).enumerated().allSatisfy({ $0.offset == d || $0.element.0 == $0.element.1 }) else {
                throw OpError("cannot concatenate \(describe(ctx.input.shape)) and \(describe(other.shape)) along dimension \(d)", argument: "other")
            }
            ctx.output.shape[d] = try ctx.input.shape[d] + other.shape[d]
        },
        OpSpec(.seq, "a named group of layers run in order (nn.Sequential)", body: .sequence,
               shape: "the last layer's output") { _ in },
        OpSpec(.residual, "x + body(x); with 'shortcut { ... }' the second term is shortcut(x)", body: .residual,
               shape: "unchanged (the body must keep the shape, or the shortcut must match it)") { _ in },
        OpSpec(.parallel, "run each line of the body on the same input and combine the results",
               positional: [ArgSpec("combine", .choice(["add", "mul", "concat"]), .word("add"))],
               options: [ArgSpec("dim", .int(min: Int.min), .int(1), "concat dimension")],
               body: .parallel, shape: "add/mul: the common shape; concat: sizes along dim add up") { _ in },
    ]
}

/// Layout and sequence ops: flatten, reshape, transpose, permute, positions, class token, take.
extension OpSpec {
    static func axis(_ a: Int, rank: Int, _ arg: String) throws -> Int {
        let r = a < 0 ? a + rank : a
        guard r >= 0 && r < rank else { throw OpError("dimension \(a) is out of range for a rank-\(rank) tensor", argument: arg) }
        return r
    }

    static func tokens(_ ctx: OpContext) throws -> (b: Dim, n: Dim, d: Int) {
        try ctx.requireFloat()
        try ctx.requireRank(3...3, "tokens [batch, sequence, width]")
        return (ctx.input.shape[0], ctx.input.shape[1], try ctx.known(ctx.input.shape[2], "token width"))
    }

    static let tensorOps: [OpSpec] = [
        OpSpec(.flatten, "merge dimensions start...end into one (nn.Flatten)",
               options: [ArgSpec("start", .int(min: Int.min), .int(1)), ArgSpec("end", .int(min: Int.min), .int(-1))],
               shape: "[b, c, h, w] -> [b, c h w]", storage: .view) { ctx in
            let s = try axis(ctx.int("start"), rank: ctx.input.rank, "start")
            let e = try axis(ctx.int("end"), rank: ctx.input.rank, "end")
            guard s <= e else { throw OpError("flatten start \(s) comes after end \(e)", argument: "start") }
            var merged = Dim(1)
            for d in ctx.input.shape[s...e] { merged = try merged * d }
            ctx.output.shape = Array(ctx.input.shape[..<s]) + [merged] + Array(ctx.input.shape[(e + 1)...])
        },
        OpSpec(.reshape, "reshape every example; the batch dimension is kept (one size may be -1)",
               positional: [ArgSpec("shape", .shape)],
               shape: "[b, ...] -> [b, *shape]", storage: .view) { ctx in
            guard case .list(let items) = ctx.args["shape"] else { return }
            let dims = items.compactMap(\.asDim)
            let rest = Array(ctx.input.shape.dropFirst())
            var total = Dim(1)
            for d in rest { total = try total * d }
            let holes = dims.filter { $0 == Dim(-1) }.count
            guard holes <= 1 else { throw OpError("reshape may leave only one size as -1", argument: "shape") }
            if dims.contains(where: { $0 != Dim(-1) && ($0.value ?? 1) < 1 }) {
                throw OpError("reshape sizes must be positive or -1", argument: "shape")
            }
            var known = Dim(1)
            for d in dims where d != Dim(-1) { known = try known * d }
            var out = dims
            if holes == 1 {
                guard let t = total.value, let k = known.value, k > 0, t % k == 0 else {
                    throw OpError("cannot infer the -1 in reshape: \(total) elements do not split into \(known)", argument: "shape")
                }
                out = dims.map { $0 == Dim(-1) ? Dim(t / k) : $0 }
            } else if known != total {
                throw OpError("reshape to \(describe(dims)) needs \(known) elements per example, but the input \(describe(ctx.input.shape)) has \(total)", argument: "shape")
            }
            ctx.output.shape = [ctx.input.shape[0]] + out
        },
        OpSpec(.transpose, "swap two dimensions (numbered as in PyTorch, batch = 0)",
               positional: [ArgSpec("a", .int(min: Int.min)), ArgSpec("b", .int(min: Int.min))],
               shape: "swaps dimensions a and b") { ctx in
            let a = try axis(ctx.int("a"), rank: ctx.input.rank, "a"), b = try axis(ctx.int("b"), rank: ctx.input.rank, "b")
            ctx.output.shape.swapAt(a, b)
        },
        OpSpec(.permute, "reorder dimensions (numbered as in PyTorch, batch = 0)",
               positional: [ArgSpec("dims", .ints)],
               shape: "[d0, d1, ...] -> [d_p0, d_p1, ...]") { ctx in
            guard case .list(let vs) = ctx.args["dims"] else { return }
            let perm = vs.compactMap { v -> Int? in if case .int(let n) = v { return n } else { return nil } }
            guard perm.sorted() == Array(0..<ctx.input.rank) else {
                throw OpError("permute \(perm.map(String.init).joined(separator: " ")) is not an ordering of the \(ctx.input.rank) dimensions 0...\(ctx.input.rank - 1)", argument: "dims")
            }
            ctx.output.shape = perm.map { ctx.input.shape[$0] }
        },
        OpSpec(.pos, "position information added to tokens: learned (a parameter), table (an nn.Embedding) or sinusoidal",
               positional: [ArgSpec("kind", .choice(["learned", "table", "sinusoidal"]), .word("learned"))],
               options: [ArgSpec("max", .int(min: 1), nil, "longest sequence (table: required; learned: default the sequence length)")],
               bareTensorName: "pos_embed",
               shape: "unchanged", params: "learned: [1, max, d] named by the label; table: weight [max, d]; sinusoidal: none",
               storage: .inPlace) { ctx in
            let (_, n, d) = try tokens(ctx)
            let kind = ctx.word("kind") ?? "learned"
            var maxLen = ctx.optionalInt("max")
            if kind == "table" && maxLen == nil {
                throw OpError("pos table needs 'max N', the longest sequence", notes: [.init("for example: pos table max 512")])
            }
            if kind != "sinusoidal" && maxLen == nil { maxLen = try ctx.known(n, "sequence length") }
            if let m = maxLen, let v = n.value, v > m {
                throw OpError("the sequence has \(v) positions but pos allows at most \(m)", argument: "max")
            }
            if kind == "learned" { try ctx.param("", [1, maxLen!, d]) }
            if kind == "table" { try ctx.param("weight", [maxLen!, d]) }
            try ctx.addOther(ctx.input.shape)
        },
        OpSpec(.cls, "prepend a learned class token to the sequence (ViT)",
               positional: [ArgSpec("what", .choice(["token"]), .word("token"))],
               bareTensorName: "cls_token",
               shape: "[b, n, d] -> [b, n + 1, d]", params: "[1, 1, d] named by the label") { ctx in
            let (b, n, d) = try tokens(ctx)
            try ctx.param("", [1, 1, d])
            ctx.output.shape = [b, try n.plus(1), Dim(d)]
        },
        OpSpec(.take, "reduce the sequence to one vector: the class token, the first or last token, or the mean",
               positional: [ArgSpec("which", .choice(["cls", "first", "last", "mean"]))],
               shape: "[b, ..., d] -> [b, d]") { ctx in
            try ctx.requireRank(3...5, "[batch, tokens..., width]")
            if ctx.word("which") == "mean" { try ctx.addOther(ctx.input.shape) }
            ctx.output.shape = [ctx.input.shape[0], ctx.input.shape.last!]
        },
    ]
}

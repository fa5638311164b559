/// Ops that select, reduce or regroup positions: sum/mean/max over dimensions, slice, index and
/// view (a reshape with the whole shape, batch included).
extension OpSpec {
    static let dimOption = ArgSpec("dim", .int(min: Int.min), nil, "the dimension, numbered as in PyTorch (batch = 0; negative counts from the end; required)")

    /// A dimension the op needs, other than the batch's.
    static func requiredAxis(_ ctx: OpContext, _ what: String) throws -> Int {
        guard let d = ctx.optionalInt("dim") else {
            throw OpError("'\(ctx.op.name)' needs 'dim D', the dimension to \(what)", notes: [.init("for example: \(ctx.op.name) dim 1")], showsInput: false)
        }
        let a = try axis(d, rank: ctx.input.rank, "dim")
        guard a != 0 else { throw OpError("'\(ctx.op.name)' cannot \(what) the batch dimension 0", argument: "dim") }
        return a
    }

    static func reduction(_ kind: OpKind, _ summary: String) -> OpSpec {
        OpSpec(kind, summary,
               options: [ArgSpec("dim", .axes, nil, "the dimensions reduced, numbered as in PyTorch (batch = 0; required): dim 2 3"),
                         ArgSpec("keep", .flag, .bool(false), "keep them as size 1 (keepdim)")],
               shape: "the dimensions removed (size 1 with keep)") { ctx in
            try ctx.requireFloat()
            guard case .list(let ds)? = ctx.args["dim"], !ds.isEmpty else {
                throw OpError("'\(kind)' needs 'dim D', the dimensions to reduce", notes: [.init("for example: \(kind) dim 2 3")], showsInput: false)
            }
            var axes: [Int] = []
            for v in ds {
                guard case .int(let d) = v else { continue }
                let a = try axis(d, rank: ctx.input.rank, "dim")
                guard a != 0 else { throw OpError("'\(kind)' cannot reduce the batch dimension 0", argument: "dim") }
                guard !axes.contains(a) else { throw OpError("dimension \(a) is reduced twice", argument: "dim") }
                axes.append(a)
            }
            try ctx.addOther(ctx.input.shape)
            let keep = ctx.bool("keep")
            ctx.output.shape = ctx.input.shape.enumerated().compactMap { i, d in axes.contains(i) ? (keep ? Dim(1) : nil) : d }
        }
    }

    static let indexingOps: [OpSpec] = [
        reduction(.sum, "the sum over dimensions (torch.sum)"),
        reduction(.mean, "the mean over dimensions (torch.mean)"),
        reduction(.max, "the largest value over dimensions (torch.amax)"),
        OpSpec(.slice, "positions start, start + step, ... before end along one dimension (x[:, start:end:step])",
               options: [dimOption, ArgSpec("start", .int(min: Int.min), .int(0), "the first position; negative counts from the end"),
                         ArgSpec("end", .int(min: Int.min), nil, "one past the last position (default: the size); negative counts from the end"),
                         ArgSpec("step", .int(min: 1), .int(1))],
               shape: "[..., n, ...] -> [..., ceil((end - start) / step), ...]") { ctx in
            let d = try requiredAxis(ctx, "slice")
            ctx.output.shape[d] = try sliceLength(ctx, size: ctx.input.shape[d], dim: d)
        },
        OpSpec(.index, "one position along a dimension, which goes (x[:, i])",
               options: [dimOption, ArgSpec("at", .int(min: Int.min), nil, "the position; negative counts from the end (required)")],
               shape: "[..., n, ...] -> [..., ...]") { ctx in
            let d = try requiredAxis(ctx, "index")
            guard let at = ctx.optionalInt("at") else {
                throw OpError("'index' needs 'at I', the position to take", notes: [.init("for example: index dim 1 at 0")], showsInput: false)
            }
            if let n = ctx.input.shape[d].value, at >= n || at < -n {
                throw OpError("index \(at) is outside dimension \(d) of size \(n)", notes: [.init("positions are 0...\(n - 1), or -\(n)...-1 from the end")], argument: "at")
            }
            ctx.output.shape.remove(at: d)
        },
        OpSpec(.view, "reshape with the whole shape written out, batch included (x.view): fold a dimension into the batch and back",
               positional: [ArgSpec("shape", .shape, nil, "the new shape, batch first, as expressions of batch and the sizes: [batch * 196, 3, 16, 16]; one size may be -1")],
               shape: "[...] -> shape, with as many elements", storage: .view) { ctx in
            try viewRule(&ctx)
        },
    ]

    /// The length of a slice of a dimension of `size`: its bounds checked where the size is known.
    static func sliceLength(_ ctx: OpContext, size n: Dim, dim d: Int) throws -> Dim {
        let start = ctx.int("start"), end = ctx.optionalInt("end"), step = max(1, ctx.int("step"))
        if let size = n.value {
            let s = start < 0 ? start + size : start, e = end.map { $0 < 0 ? $0 + size : $0 } ?? size
            guard s >= 0 && s < size else {
                throw OpError("slice start \(start) is outside dimension \(d) of size \(size)", notes: [.init("positions are 0...\(size - 1), or -\(size)...-1 from the end")], argument: "start")
            }
            guard e >= 0 && e <= size else {
                throw OpError("slice end \(end ?? size) is past the end of dimension \(d) of size \(size)",
                              notes: [.init("end is at most \(size) (one past the last position), or -\(size)...-1 from the end")], argument: "end")
            }
            guard e > s else {
                throw OpError("slice \(start):\(end.map(String.init) ?? "") of dimension \(d) (size \(size)) is empty", argument: "end")
            }
            return Dim((e - s + step - 1) / step)
        }
        let s = start < 0 ? try n.plus(start) : Dim(start)
        let e = try end.map { $0 < 0 ? try n.plus($0) : Dim($0) } ?? n
        let length = try e + s.times(-1)
        if let l = length.value, l <= 0 {
            throw OpError("slice \(start):\(end.map(String.init) ?? "") of dimension \(d) (size \(n)) is empty", argument: "end")
        }
        return step == 1 ? length : try length.dividedCeil(by: step)
    }

    /// a / b where it is a whole size for every binding: b known and dividing each of a's terms, or
    /// both multiples of the same size (`3072*batch / 3*batch` = 1024).
    static func exactQuotient(_ a: Dim, _ b: Dim) -> Dim? {
        if let k = b.value { return k > 0 && a.isMultiple(of: k) ? a.dividedFloor(by: k) : nil }
        guard a.constant == 0, b.constant == 0, a.terms.count == 1, b.terms.count == 1, let (s, x) = a.terms.first, let y = b.terms[s],
              y > 0, x % y == 0 else { return nil }
        return Dim(x / y)
    }

    /// Whether two element counts differ for every binding: both known, or both a multiple of the
    /// same size (`3072*batch` and `1536*batch`). Others are compared once their sizes are bound.
    static func provablyDifferent(_ a: Dim, _ b: Dim) -> Bool {
        if let x = a.value, let y = b.value { return x != y }
        guard a.constant == 0, b.constant == 0, a.terms.count == 1, b.terms.count == 1, let (s, x) = a.terms.first, let y = b.terms[s] else { return false }
        return x != y
    }

    /// `view SHAPE`: the whole new shape; its element count must be the input's (where both are known).
    static func viewRule(_ ctx: inout OpContext) throws {
        guard case .list(let items)? = ctx.args["shape"] else { return }
        let dims = items.compactMap(\.asDim)
        guard dims.count == items.count else { throw OpError("a view's sizes are whole numbers or sizes", argument: "shape") }
        guard dims.filter({ $0 == Dim(-1) }).count <= 1 else { throw OpError("a view may leave only one size as -1", argument: "shape") }
        if let bad = dims.first(where: { $0 != Dim(-1) && ($0.value ?? 1) < 1 }) {
            throw OpError("a view's sizes must be positive or -1, got \(bad)", argument: "shape")
        }
        var total = Dim(1), known = Dim(1)
        for d in ctx.input.shape { total = try total * d }
        for d in dims where d != Dim(-1) { known = try known * d }
        var out = dims
        if let hole = dims.firstIndex(of: Dim(-1)) {
            guard let q = exactQuotient(total, known) else {
                throw OpError("cannot infer the -1 of the view: \(total) elements do not split into \(known)",
                              notes: [.init("write every size, or bind the symbols with --set")], argument: "shape")
            }
            out[hole] = q
        } else if provablyDifferent(total, known) {
            throw OpError("a view as \(describe(dims)) has \(known) elements, but the input \(describe(ctx.input.shape)) has \(total)", argument: "shape")
        }
        ctx.output.shape = out
    }
}

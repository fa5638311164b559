/// Convolutions, pooling, resampling and patch embedding on [batch, channels, spatial...] tensors.
extension OpSpec {
    static let convOptions: [ArgSpec] = [
        ArgSpec("stride", .size, .int(1)),
        ArgSpec("pad", .sizeOrChoice(["same"]), .int(0), "zero padding on each side, or 'same'"),
        ArgSpec("dilation", .size, .int(1)),
        ArgSpec("groups", .intOrChoice(min: 1, ["depthwise"]), .int(1), "channel groups; 'depthwise' = one per channel"),
        bias,
    ]

    /// Output length of a sliding window: floor((n + 2p - d(k-1) - 1) / s) + 1 (ceil with `ceil`).
    static func slide(_ n: Dim, k: Int, s: Int, p: Int, d: Int, ceil: Bool = false, axis: Int) throws -> Dim {
        let span = try checkedAdd(try checkedMul(d, k - 1), 1)
        let shifted = try n.plus(try checkedSub(try checkedMul(2, p), span))
        if let v = shifted.value, v < 0 {
            throw OpError("the kernel spans \(span) positions, more than the \(try n.plus(2 * p)) of the padded input (spatial axis \(axis))",
                          notes: [.init("use a smaller kernel, more padding, or remove a downsampling layer before this one")], argument: "kernel")
        }
        var out = try (ceil ? shifted.dividedCeil(by: s) : shifted.dividedFloor(by: s)).plus(1)
        // PyTorch's ceil mode: the last window must start inside the input or its left padding.
        if ceil, let o = out.value, let len = n.value, (o - 1) * s >= len + p { out = Dim(o - 1) }
        return out
    }

    static func spatialCount(_ ctx: OpContext) throws -> Int {
        try ctx.requireRank(3...5, "[batch, channels, length] or [batch, channels, height, width]")
        return ctx.input.rank - 2
    }

    static func groupsAndChannels(_ ctx: OpContext, out: Int, inChannels c: Int) throws -> Int {
        let g = ctx.word("groups") == "depthwise" ? c : ctx.int("groups")
        guard c % g == 0 else {
            throw OpError("groups \(g) does not divide the \(c) input channels",
                          notes: [.init("channel counts that groups \(g) divides: \(nearbyMultiples(of: g, around: c))")], argument: "groups")
        }
        guard out % g == 0 else {
            throw OpError("groups \(g) does not divide the \(out) output channels",
                          notes: [.init("output channels that groups \(g) divides: \(nearbyMultiples(of: g, around: out))")], argument: "out")
        }
        return g
    }

    static func pool(_ name: OpKind, _ summary: String) -> OpSpec {
        OpSpec(name, summary, positional: [ArgSpec("kernel", .size)],
               options: [ArgSpec("stride", .size, nil, "default: the kernel size"), ArgSpec("pad", .padding, .int(0)),
                         ArgSpec("ceil", .flag, .bool(false), "round the output size up")],
               shape: "[b, c, *spatial] -> [b, c, *floor((n + 2 pad - kernel) / stride + 1)]") { ctx in
            let n = try spatialCount(ctx)
            let k = try ctx.sizes("kernel", n)
            let s = ctx.has("stride") ? try ctx.sizes("stride", n) : k
            let p = try ctx.sizes("pad", n)
            for i in 0..<n where p[i] * 2 > k[i] {
                throw OpError("pad \(p[i]) is more than half the kernel \(k[i])", notes: [.init("PyTorch rejects this; use pad \(k[i] / 2)")], argument: "pad", showsInput: false)
            }
            for i in 0..<n {
                ctx.output.shape[2 + i] = try slide(ctx.input.shape[2 + i], k: k[i], s: s[i], p: p[i], d: 1, ceil: ctx.bool("ceil"), axis: i)
            }
            try ctx.addOther(ctx.output.shape + k.map(Dim.init))
        }
    }

    static func adaptive(_ name: OpKind, _ summary: String) -> OpSpec {
        OpSpec(name, summary, positional: [ArgSpec("size", .size, nil, "output size")],
               shape: "[b, c, *spatial] -> [b, c, *size]") { ctx in
            let n = try spatialCount(ctx)
            let sz = try ctx.sizes("size", n)
            for i in 0..<n { ctx.output.shape[2 + i] = Dim(sz[i]) }
            try ctx.addOther(ctx.input.shape)
        }
    }

    static let convolution: [OpSpec] = [
        OpSpec(.conv, "convolution, 1-d or 2-d by the input's rank (nn.Conv1d, nn.Conv2d)",
               positional: [ArgSpec("kernel", .size), ArgSpec("out", .int(min: 1), nil, "output channels")],
               options: convOptions,
               shape: "[b, c, *n] -> [b, out, *floor((n + 2 pad - dilation (kernel - 1) - 1) / stride + 1)]",
               params: "weight [out, c / groups, *kernel], bias [out]", macs: "elements of the output x (c / groups) x kernel elements") { ctx in
            try ctx.requireFloat()
            let n = try spatialCount(ctx)
            let c = try ctx.known(ctx.input.shape[1], "channel count")
            let out = ctx.int("out")
            let k = try ctx.sizes("kernel", n), s = try ctx.sizes("stride", n), d = try ctx.sizes("dilation", n)
            let g = try groupsAndChannels(ctx, out: out, inChannels: c)
            ctx.output.shape[1] = Dim(out)
            if ctx.word("pad") == "same" {
                guard s.allSatisfy({ $0 == 1 }) else {
                    throw OpError("pad same needs stride 1", notes: [.init("give the padding as a number, e.g. pad \(k[0] / 2)")], argument: "pad", showsInput: false)
                }
                if k.contains(where: { $0 % 2 == 0 }) {
                    ctx.warn("pad same with an even kernel pads one side more than the other", argument: "pad")
                }
            } else {
                let p = try ctx.sizes("pad", n)
                for i in 0..<n {
                    ctx.output.shape[2 + i] = try slide(ctx.input.shape[2 + i], k: k[i], s: s[i], p: p[i], d: d[i], axis: i)
                }
            }
            try ctx.param("weight", [out, c / g] + k)
            if ctx.bool("bias") { try ctx.param("bias", [out]) }
            try ctx.addMACs(ctx.output.shape + [Dim(c / g)] + k.map(Dim.init))
        },
        OpSpec(.convt, "transposed convolution (nn.ConvTranspose1d, nn.ConvTranspose2d)",
               positional: [ArgSpec("kernel", .size), ArgSpec("out", .int(min: 1), nil, "output channels")],
               options: [ArgSpec("stride", .size, .int(1)), ArgSpec("pad", .padding, .int(0)), ArgSpec("outpad", .padding, .int(0), "output_padding"),
                         ArgSpec("dilation", .size, .int(1)), ArgSpec("groups", .intOrChoice(min: 1, ["depthwise"]), .int(1)), bias],
               shape: "[b, c, *n] -> [b, out, *((n - 1) stride - 2 pad + dilation (kernel - 1) + outpad + 1)]",
               params: "weight [c, out / groups, *kernel], bias [out]", macs: "elements of the input x (out / groups) x kernel elements") { ctx in
            try ctx.requireFloat()
            let n = try spatialCount(ctx)
            let c = try ctx.known(ctx.input.shape[1], "channel count")
            let out = ctx.int("out")
            let k = try ctx.sizes("kernel", n), s = try ctx.sizes("stride", n), d = try ctx.sizes("dilation", n)
            let p = try ctx.sizes("pad", n), op = try ctx.sizes("outpad", n)
            let g = try groupsAndChannels(ctx, out: out, inChannels: c)
            ctx.output.shape[1] = Dim(out)
            for i in 0..<n {
                guard op[i] < max(s[i], d[i]) else {
                    throw OpError("outpad \(op[i]) must be smaller than the stride or the dilation", argument: "outpad")
                }
                let grow = try checkedAdd(try checkedSub(try checkedMul(d[i], k[i] - 1), try checkedMul(2, p[i])), op[i] + 1)
                let r = try ctx.input.shape[2 + i].plus(-1).times(s[i]).plus(grow)
                if let v = r.value, v < 1 { throw OpError("output size \(v) along spatial axis \(i) is not positive", argument: "pad") }
                ctx.output.shape[2 + i] = r
            }
            try ctx.param("weight", [c, out / g] + k)
            if ctx.bool("bias") { try ctx.param("bias", [out]) }
            try ctx.addMACs(ctx.input.shape + [Dim(out / g)] + k.map(Dim.init))
        },
        pool(.maxpool, "max pooling (nn.MaxPool1d/2d)"),
        pool(.avgpool, "average pooling (nn.AvgPool1d/2d)"),
        adaptive(.adaptive_avgpool, "adaptive average pooling to a fixed size (nn.AdaptiveAvgPool2d)"),
        adaptive(.adaptive_maxpool, "adaptive max pooling to a fixed size (nn.AdaptiveMaxPool2d)"),
        OpSpec(.globalpool, "pool all spatial positions: [b, c, h, w] -> [b, c]",
               positional: [ArgSpec("mode", .choice(["avg", "max"]), .word("avg"))],
               options: [ArgSpec("keep", .flag, .bool(false), "keep the spatial dimensions as size 1")],
               shape: "[b, c, *spatial] -> [b, c] (or [b, c, 1, 1] with keep)") { ctx in
            _ = try spatialCount(ctx)
            try ctx.addOther(ctx.input.shape)
            ctx.output.shape = ctx.bool("keep") ? Array(ctx.input.shape.prefix(2)) + Array(repeating: Dim(1), count: ctx.input.rank - 2)
                                                : Array(ctx.input.shape.prefix(2))
        },
        OpSpec(.upsample, "nearest or bilinear upsampling by an integer factor (nn.Upsample)",
               positional: [ArgSpec("scale", .int(min: 1))],
               options: [ArgSpec("mode", .choice(["nearest", "bilinear"]), .word("nearest"))],
               shape: "[b, c, *n] -> [b, c, *(n scale)]") { ctx in
            let n = try spatialCount(ctx)
            if ctx.word("mode") == "bilinear" && n != 2 {
                throw OpError("bilinear upsampling needs an image [batch, channels, height, width], but the input has shape \(describe(ctx.input.shape))",
                              notes: [.init("use mode nearest for \(n)-d inputs")], argument: "mode")
            }
            for i in 0..<n { ctx.output.shape[2 + i] = try ctx.input.shape[2 + i].times(ctx.int("scale")) }
            try ctx.addOther(ctx.output.shape)
        },
        OpSpec(.patch, "patch embedding: a conv with kernel = stride = size, then tokens (ViT, Mixer, Swin)",
               positional: [ArgSpec("size", .size, nil, "patch size")],
               options: [ArgSpec("dim", .int(min: 1), nil, "embedding width (required)"),
                         ArgSpec("grid", .flag, .bool(false), "keep the patch grid: [b, h, w, dim] (Swin)"), bias],
               shape: "[b, c, h, w] -> [b, (h / size) (w / size), dim], or [b, h / size, w / size, dim] with grid",
               params: "weight [dim, c, size, size], bias [dim]", macs: "patches x dim x c x size x size") { ctx in
            try ctx.requireFloat()
            try ctx.requireRank(4...4, "an image [batch, channels, height, width]")
            guard let dim = ctx.optionalInt("dim") else {
                throw OpError("patch needs 'dim N', the embedding width", notes: [.init("for example: patch 16 dim 768")])
            }
            let c = try ctx.known(ctx.input.shape[1], "channel count")
            let p = try ctx.sizes("size", 2)
            var grid: [Dim] = []
            for i in 0..<2 {
                let n = ctx.input.shape[2 + i]
                if let v = n.value, v % p[i] != 0 || v < p[i] {
                    throw OpError("image size \(v) is not a multiple of the patch size \(p[i])",
                                  notes: [.init("image sizes that are: \(nearbyMultiples(of: p[i], around: v))")], argument: "size")
                }
                grid.append(n.dividedFloor(by: p[i]))
            }
            try ctx.param("weight", [dim, c, p[0], p[1]])
            if ctx.bool("bias") { try ctx.param("bias", [dim]) }
            let b = ctx.input.shape[0]
            ctx.output.shape = ctx.bool("grid") ? [b, grid[0], grid[1], Dim(dim)] : [b, try grid[0] * grid[1], Dim(dim)]
            try ctx.addMACs([b, grid[0], grid[1], Dim(dim), Dim(c), Dim(p[0]), Dim(p[1])])
        },
    ]
}

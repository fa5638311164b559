/// Sliding blocks of an image as columns and back (nn.Unfold, nn.Fold): TNT's pixel patches.
extension OpSpec {
    static let blockOptions: [ArgSpec] = [ArgSpec("stride", .size, .int(1)), ArgSpec("pad", .padding, .int(0), "zero padding on each side"),
                                          ArgSpec("dilation", .size, .int(1))]

    /// The positions of the kernel's block over an image of `size` (rows, columns).
    static func blockGrid(_ ctx: OpContext, size: [Dim]) throws -> (kernel: [Int], grid: [Dim]) {
        let k = try ctx.sizes("kernel", 2), s = try ctx.sizes("stride", 2), p = try ctx.sizes("pad", 2), d = try ctx.sizes("dilation", 2)
        let grid = try (0..<2).map { try slide(size[$0], k: k[$0], s: s[$0], p: p[$0], d: d[$0], axis: $0) }
        return (k, grid)
    }

    static let blockOps: [OpSpec] = [
        OpSpec(.unfold, "every block of kernel positions of an image as a column (nn.Unfold, im2col)",
               positional: [ArgSpec("kernel", .size)], options: blockOptions,
               shape: "[b, c, h, w] -> [b, c kh kw, blocks], blocks = the conv output's h x w") { ctx in
            try ctx.requireFloat()
            try ctx.requireRank(4...4, "an image [batch, channels, height, width]")
            let c = try ctx.known(ctx.input.shape[1], "channel count")
            let (k, grid) = try blockGrid(ctx, size: Array(ctx.input.shape[2...]))
            ctx.output.shape = [ctx.input.shape[0], Dim(try checkedProduct([c, k[0], k[1]], "column height")), try grid[0] * grid[1]]
        },
        OpSpec(.fold, "columns of blocks summed back into an image (nn.Fold, col2im)",
               positional: [ArgSpec("size", .size, nil, "the image's height and width"), ArgSpec("kernel", .size)], options: blockOptions,
               shape: "[b, c kh kw, blocks] -> [b, c, h, w]") { ctx in
            try ctx.requireFloat()
            try ctx.requireRank(3...3, "columns [batch, channels x kernel, blocks]")
            let size = try ctx.sizes("size", 2)
            let (k, grid) = try blockGrid(ctx, size: size.map(Dim.init))
            let rows = try ctx.known(ctx.input.shape[1], "column height")
            guard rows % (k[0] * k[1]) == 0 else {
                throw OpError("fold's columns have \(rows) rows, not a multiple of the kernel's \(k[0] * k[1]) positions", argument: "kernel")
            }
            let blocks = try grid[0] * grid[1]
            if let n = ctx.input.shape[2].value, let want = blocks.value, n != want {
                throw OpError("fold into \(size[0])x\(size[1]) takes \(want) blocks of \(k[0])x\(k[1]), but the input has \(n)",
                              notes: [.init("the blocks are the positions of the kernel over the padded image, with the stride")], argument: "size")
            }
            ctx.output.shape = [ctx.input.shape[0], Dim(rows / (k[0] * k[1])), Dim(size[0]), Dim(size[1])]
            try ctx.addOther(ctx.input.shape)
        },
    ]
}

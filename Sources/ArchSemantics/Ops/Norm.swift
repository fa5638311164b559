/// Normalisation layers.
extension OpSpec {
    /// PyTorch's default eps of each kind of norm: 1e-5 for nn.BatchNorm, nn.LayerNorm and nn.GroupNorm;
    /// float32's epsilon for nn.RMSNorm (its `eps=None`). The one definition: the binder fills it in
    /// and lowering uses it for norms without an argument of their own (attention's q/k norms).
    public static let layerNormEps = 1e-5
    public static let rmsNormEps = Double(Float.ulpOfOne)

    static func eps(_ value: Double) -> ArgSpec {
        ArgSpec("eps", .float(min: 0, max: 1), .float(value), "added to the variance")
    }
    static let eps = eps(layerNormEps)

    static let normDim = ArgSpec("dim", .int(min: Int.min), nil,
                                 "the dimension normalised (default: the last; 1: the channels of [b, c, h, w], as torchvision's and timm's LayerNorm2d)")

    /// The size of the dimension a layer or RMS norm normalises (never the batch's).
    static func normalisedWidth(_ ctx: OpContext) throws -> Int {
        let d = try axis(ctx.optionalInt("dim") ?? -1, rank: ctx.input.rank, "dim")
        guard d != 0 else { throw OpError("'\(ctx.op.name)' cannot normalise over the batch dimension 0", argument: "dim") }
        return try ctx.known(ctx.input.shape[d], "normalised width")
    }

    static func channelNorm(_ ctx: inout OpContext) throws -> Int {
        try ctx.requireFloat()
        try ctx.requireRank(2...5, "[batch, channels, ...]")
        try ctx.addOther(ctx.input.shape)
        return try ctx.known(ctx.input.shape[1], "channel count")
    }

    static let normalization: [OpSpec] = [
        OpSpec(.batchnorm, "batch normalisation over dimension 1 (nn.BatchNorm1d/2d)",
               options: [eps, ArgSpec("momentum", .float(min: 0, max: 1)), ArgSpec("affine", .bool, .bool(true))],
               shape: "unchanged",
               params: "weight [c], bias [c]; buffers running_mean [c], running_var [c], num_batches_tracked []", storage: .inPlace) { ctx in
            let c = try channelNorm(&ctx)
            if ctx.bool("affine") { try ctx.param("weight", [c]); try ctx.param("bias", [c]) }
            try ctx.buffer("running_mean", [c])
            try ctx.buffer("running_var", [c])
            try ctx.buffer("num_batches_tracked", [], integer: true)
        },
        OpSpec(.layernorm, "layer normalisation over the last dimension, or another (nn.LayerNorm; dim 1: LayerNorm2d)",
               options: [eps, bias, ArgSpec("affine", .bool, .bool(true)), normDim],
               shape: "unchanged", params: "weight [d], bias [d]; d: the size of dim", storage: .inPlace) { ctx in
            try ctx.requireFloat()
            let d = try normalisedWidth(ctx)
            if ctx.bool("affine") {
                try ctx.param("weight", [d])
                if ctx.bool("bias") { try ctx.param("bias", [d]) }
            }
            try ctx.addOther(ctx.input.shape)
        },
        OpSpec(.rmsnorm, "root-mean-square normalisation over the last dimension, or another (nn.RMSNorm)",
               options: [eps(rmsNormEps), normDim], shape: "unchanged", params: "weight [d]; d: the size of dim", storage: .inPlace) { ctx in
            try ctx.requireFloat()
            try ctx.param("weight", [try normalisedWidth(ctx)])
            try ctx.addOther(ctx.input.shape)
        },
        OpSpec(.groupnorm, "group normalisation over dimension 1 (nn.GroupNorm)",
               positional: [ArgSpec("groups", .int(min: 1))], options: [eps],
               shape: "unchanged", params: "weight [c], bias [c]") { ctx in
            let c = try channelNorm(&ctx)
            let g = ctx.int("groups")
            guard c % g == 0 else {
                throw OpError("groups \(g) does not divide the \(c) channels",
                              notes: [.init("group counts that divide \(c): \(divisors(of: c, near: g))")], argument: "groups")
            }
            try ctx.param("weight", [c]); try ctx.param("bias", [c])
        },
    ]

    static func divisors(of n: Int, near g: Int) -> String {
        let ds = (1...max(1, min(n, 4096))).filter { n % $0 == 0 }
        return ds.sorted { abs($0 - g) < abs($1 - g) }.prefix(2).sorted().map(String.init).joined(separator: ", ")
    }
}

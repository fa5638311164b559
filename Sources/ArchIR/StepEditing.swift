import ArchKernels

/// What the passes change in a kernel call without caring which kernel it is: where it writes, the
/// activation it applies as it writes, a residual it adds, and its scratch and threads. Every switch
/// here is exhaustive: a new kernel must say what it supports.
extension KernelCall {
    /// The value the call writes.
    var output: Int {
        get { call.output }
        set {
            switch self {
            case .linear(var c): c.output = newValue; self = .linear(c)
            case .tokenMix(var c): c.output = newValue; self = .tokenMix(c)
            case .gate(var c): c.output = newValue; self = .gate(c)
            case .embedding(var c): c.output = newValue; self = .embedding(c)
            case .moe(var c): c.output = newValue; self = .moe(c)
            case .conv(var c): c.output = newValue; self = .conv(c)
            case .convTranspose(var c): c.output = newValue; self = .convTranspose(c)
            case .patchify(var c): c.output = newValue; self = .patchify(c)
            case .pool(var c): c.output = newValue; self = .pool(c)
            case .adaptivePool(var c): c.output = newValue; self = .adaptivePool(c)
            case .upsample(var c): c.output = newValue; self = .upsample(c)
            case .norm(var c): c.output = newValue; self = .norm(c)
            case .groupNorm(var c): c.output = newValue; self = .groupNorm(c)
            case .channelAffine(var c): c.output = newValue; self = .channelAffine(c)
            case .activation(var c): c.output = newValue; self = .activation(c)
            case .softmax(var c): c.output = newValue; self = .softmax(c)
            case .binary(var c): c.output = newValue; self = .binary(c)
            case .view(var c): c.output = newValue; self = .view(c)
            case .permute(var c): c.output = newValue; self = .permute(c)
            case .concat(var c): c.output = newValue; self = .concat(c)
            case .positions(var c): c.output = newValue; self = .positions(c)
            case .prependToken(var c): c.output = newValue; self = .prependToken(c)
            case .take(var c): c.output = newValue; self = .take(c)
            case .patchMergeGather(var c): c.output = newValue; self = .patchMergeGather(c)
            case .attention(var c): c.output = newValue; self = .attention(c)
            case .rotary(var c): c.output = newValue; self = .rotary(c)
            case .windowPartition(var c): c.output = newValue; self = .windowPartition(c)
            case .windowAttention(var c): c.output = newValue; self = .windowAttention(c)
            case .windowMerge(var c): c.output = newValue; self = .windowMerge(c)
            case .recurrent(var c): c.output = newValue; self = .recurrent(c)
            case .invertedResidual(var c): c.output = newValue; self = .invertedResidual(c)
            case .reduce(var c): c.output = newValue; self = .reduce(c)
            case .slice(var c): c.output = newValue; self = .slice(c)
            case .unfold(var c): c.output = newValue; self = .unfold(c)
            }
        }
    }

    /// The activation the call applies as it writes its output, for calls that can apply one (nil: cannot).
    var epilogueActivation: Activation? {
        switch self {
        case .linear(let c): return c.activation
        case .conv(let c): return c.activation
        case .norm(let c): return c.activation
        case .groupNorm(let c): return c.activation
        case .channelAffine(let c): return c.activation
        case .binary(let c): return c.activation
        case .activation, .tokenMix, .gate, .embedding, .moe, .convTranspose, .patchify, .pool, .adaptivePool, .upsample, .softmax, .view,
             .permute, .concat, .positions, .prependToken, .take, .patchMergeGather, .attention, .rotary, .windowPartition, .windowAttention,
             .windowMerge, .recurrent, .invertedResidual, .reduce, .slice, .unfold:
            return nil
        }
    }

    /// The call applying `activation` as it writes (only where `epilogueActivation` is not nil).
    func applying(_ activation: Activation) -> KernelCall {
        switch self {
        case .linear(var c): c.activation = activation; return .linear(c)
        case .conv(var c): c.activation = activation; return .conv(c)
        case .norm(var c): c.activation = activation; return .norm(c)
        case .groupNorm(var c): c.activation = activation; return .groupNorm(c)
        case .channelAffine(var c): c.activation = activation; return .channelAffine(c)
        case .binary(var c): c.activation = activation; return .binary(c)
        case .activation, .tokenMix, .gate, .embedding, .moe, .convTranspose, .patchify, .pool, .adaptivePool, .upsample, .softmax, .view,
             .permute, .concat, .positions, .prependToken, .take, .patchMergeGather, .attention, .rotary, .windowPartition, .windowAttention,
             .windowMerge, .recurrent, .invertedResidual, .reduce, .slice, .unfold:
            return self
        }
    }

    /// For calls that can add a residual before their activation (GEMMs, convolutions, the window
    /// merge): the one they add now, as `.some(nil)` when none yet; nil when they cannot.
    var residual: Int?? {
        switch self {
        case .linear(let c): return .some(c.residual)
        case .conv(let c): return .some(c.residual)
        case .windowMerge(let c): return .some(c.residual)
        case .activation, .tokenMix, .gate, .embedding, .moe, .convTranspose, .patchify, .pool, .adaptivePool, .upsample, .norm, .groupNorm,
             .channelAffine, .softmax, .binary, .view, .permute, .concat, .positions, .prependToken, .take, .patchMergeGather, .attention, .rotary,
             .windowPartition, .windowAttention, .recurrent, .invertedResidual, .reduce, .slice, .unfold:
            return nil
        }
    }

    func adding(residual r: Int) -> KernelCall {
        switch self {
        case .linear(var c): c.residual = r; return .linear(c)
        case .conv(var c): c.residual = r; return .conv(c)
        case .windowMerge(var c): c.residual = r; return .windowMerge(c)
        case .activation, .tokenMix, .gate, .embedding, .moe, .convTranspose, .patchify, .pool, .adaptivePool, .upsample, .norm, .groupNorm,
             .channelAffine, .softmax, .binary, .view, .permute, .concat, .positions, .prependToken, .take, .patchMergeGather, .attention, .rotary,
             .windowPartition, .windowAttention, .recurrent, .invertedResidual, .reduce, .slice, .unfold:
            return self
        }
    }

    /// The read operand the output may overwrite (the planner then writes in place): elementwise
    /// calls over their input, GEMMs and convolutions over their residual, an embedding over its base.
    var overwritable: Int? {
        switch self {
        case .activation(let c): return c.input
        case .norm(let c): return c.inputOffset == c.outputOffset && c.shape.lds == c.shape.ldd ? c.input : nil
        case .groupNorm(let c): return c.input
        case .channelAffine(let c): return c.input
        case .softmax(let c): return c.input
        case .positions(let c): return c.input
        case .binary(let c): return c.lhsStrides == BinaryCall.strides(of: c.shape, broadcastTo: c.shape) ? c.lhs : nil
        case .linear(let c): return c.residual
        case .conv(let c): return c.residual
        case .windowMerge(let c): return c.residual
        case .embedding(let c): return c.base
        case .rotary(let c): return c.inputOffset == 0 && c.ld == c.shape.heads * c.shape.dh ? c.input : nil
        case .tokenMix, .gate, .moe, .convTranspose, .patchify, .pool, .adaptivePool, .upsample, .view, .permute, .concat, .prependToken,
             .take, .patchMergeGather, .attention, .windowPartition, .windowAttention, .recurrent, .invertedResidual, .reduce, .slice, .unfold:
            return nil
        }
    }
}

extension KernelCall {
    /// The constants the call reads.
    var constants: [Int] {
        switch self {
        case .linear(let c): return [c.weight] + (c.bias.map { [$0] } ?? [])
        case .tokenMix(let c): return [c.weight] + (c.bias.map { [$0] } ?? [])
        case .embedding(let c): return [c.table]
        case .moe(let c): return [c.router] + c.first + c.second + c.firstBias.compactMap { $0 } + c.secondBias.compactMap { $0 }
        case .conv(let c): return [c.weight] + (c.bias.map { [$0] } ?? [])
        case .convTranspose(let c): return [c.weight] + (c.bias.map { [$0] } ?? [])
        case .norm(let c): return [c.weight, c.bias].compactMap { $0 }
        case .groupNorm(let c): return [c.weight, c.bias].compactMap { $0 }
        case .channelAffine(let c): return [c.scale, c.shift]
        case .positions(let c): return [c.table]
        case .prependToken(let c): return [c.token]
        case .windowAttention(let c): return c.bias.map { [$0] } ?? []
        case .rotary(let c): return [c.table]
        case .recurrent(let c):
            return c.inputWeights + c.hiddenWeights + c.inputBiases.compactMap { $0 } + c.hiddenBiases.compactMap { $0 }
        case .invertedResidual(let c):
            return [c.expandWeight, c.expandBias, c.depthwiseWeight, c.depthwiseBias, c.projectWeight, c.projectBias].compactMap { $0 }
        case .binary(let c): return c.constant.map { [$0] } ?? []
        case .gate, .patchify, .pool, .adaptivePool, .upsample, .activation, .softmax, .view, .permute, .concat, .take,
             .patchMergeGather, .attention, .windowPartition, .windowMerge, .reduce, .slice, .unfold:
            return []
        }
    }
}

extension KernelCall {
    /// The kernel's name as `archc ir` prints it (the case name: `conv`, `linear`, ...).
    public var name: String { Mirror(reflecting: self).children.first?.label ?? "\(self)" }

    /// Whether the call needs scratch memory of its own (the schedule gives it).
    var needsScratch: Bool {
        switch self {
        case .attention, .windowAttention, .convTranspose, .moe, .recurrent, .invertedResidual: return true
        case .conv(let c): return Conv.scratchCount(c.geometry, c.algorithm, batch: c.batch, threads: c.threads) > 0
        case .linear, .tokenMix, .gate, .embedding, .patchify, .pool, .adaptivePool, .upsample, .norm, .groupNorm, .channelAffine,
             .activation, .softmax, .binary, .view, .permute, .concat, .positions, .prependToken, .take, .patchMergeGather,
             .windowPartition, .windowMerge, .rotary, .reduce, .slice, .unfold:
            return false
        }
    }
}

extension KernelCall {
    /// Multiply-accumulates of the GEMM-like kernels (the direct definition's, for a convolution
    /// computed by Winograd's method); 0 for the rest.
    public var macs: Int {
        switch self {
        case .linear(let c): return c.rows * c.inFeatures * c.outFeatures
        case .tokenMix(let c): return c.batch * c.tokens * c.tokens * c.width
        case .conv(let c): return c.batch * c.geometry.macs
        case .convTranspose(let c): return c.batch * c.geometry.macs
        case .attention(let c): return 2 * c.shape.batch * c.shape.heads * c.shape.n * c.shape.m * c.shape.dh
        case .windowAttention(let c): return 2 * c.grid.windows * c.grid.tokens * c.grid.tokens * c.grid.channels
        case .moe(let c):
            let expert = c.expert == .swiglu ? 3 * c.width * c.hidden : 2 * c.width * c.hidden
            return c.rows * (c.width * c.experts + c.top * expert)
        case .recurrent(let c):
            let gates = c.cell == .lstm ? 4 : c.cell == .gru ? 3 : 1
            return c.layers * c.directions * c.batch * c.steps * gates * c.hidden * (c.inputWidth + c.hidden)
        case .invertedResidual(let c):
            let s = c.shape, out = s.outHeight * s.outWidth
            return c.batch * ((c.expandWeight == nil ? 0 : s.inChannels * s.hidden * s.height * s.width) + 9 * s.hidden * out + s.hidden * s.outChannels * out)
        case .gate, .embedding, .patchify, .pool, .adaptivePool, .upsample, .norm, .groupNorm, .channelAffine, .activation, .softmax,
             .binary, .view, .permute, .concat, .positions, .prependToken, .take, .patchMergeGather, .windowPartition, .windowMerge, .rotary,
             .reduce, .slice, .unfold:
            return 0
        }
    }

    /// The kernel with what it fuses: `conv/winograd+residual+relu`, `linear+gelu`.
    public var label: String {
        var s = name
        if case .conv(let c) = self { s += "/" + c.algorithm.rawValue }
        if case .some(.some) = residual { s += "+residual" }
        if let a = epilogueActivation, a != .none { s += "+" + a.rawValue }
        return s
    }
}

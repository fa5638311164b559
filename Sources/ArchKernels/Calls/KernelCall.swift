/// The closed set of kernel calls: every step of a program is one of them. The interpreter runs a
/// list of these; `archc build` prints the same values as Swift source (each field written out), so
/// the generated program and the interpreter run the same kernels with the same arguments.
public enum KernelCall: Sendable, Equatable {
    case linear(LinearCall)
    case tokenMix(TokenMixCall)
    case gate(GateCall)
    case embedding(EmbeddingCall)
    case moe(MoECall)
    case conv(ConvCall)
    case convTranspose(ConvTransposeCall)
    case patchify(PatchifyCall)
    case pool(PoolCall)
    case adaptivePool(AdaptivePoolCall)
    case upsample(UpsampleCall)
    case norm(NormCall)
    case groupNorm(GroupNormCall)
    case channelAffine(ChannelAffineCall)
    case activation(ActivationCall)
    case softmax(SoftmaxCall)
    case binary(BinaryCall)
    case view(ViewCall)
    case permute(PermuteCall)
    case concat(ConcatCall)
    case positions(PositionsCall)
    case prependToken(PrependTokenCall)
    case take(TakeCall)
    case patchMergeGather(PatchMergeGatherCall)
    case attention(AttentionCall)
    case rotary(RotaryCall)
    case windowPartition(WindowPartitionCall)
    case windowAttention(WindowAttentionCall)
    case windowMerge(WindowMergeCall)
    case recurrent(RecurrentCall)
    case invertedResidual(InvertedResidualCall)
    case reduce(ReduceCall)
    case slice(SliceCall)
    case unfold(UnfoldCall)

    /// The call as its protocol: operands and `run`.
    public var call: any KernelCallProtocol {
        switch self {
        case .linear(let c): return c
        case .tokenMix(let c): return c
        case .gate(let c): return c
        case .embedding(let c): return c
        case .moe(let c): return c
        case .conv(let c): return c
        case .convTranspose(let c): return c
        case .patchify(let c): return c
        case .pool(let c): return c
        case .adaptivePool(let c): return c
        case .upsample(let c): return c
        case .norm(let c): return c
        case .groupNorm(let c): return c
        case .channelAffine(let c): return c
        case .activation(let c): return c
        case .softmax(let c): return c
        case .binary(let c): return c
        case .view(let c): return c
        case .permute(let c): return c
        case .concat(let c): return c
        case .positions(let c): return c
        case .prependToken(let c): return c
        case .take(let c): return c
        case .patchMergeGather(let c): return c
        case .attention(let c): return c
        case .rotary(let c): return c
        case .windowPartition(let c): return c
        case .windowAttention(let c): return c
        case .windowMerge(let c): return c
        case .recurrent(let c): return c
        case .invertedResidual(let c): return c
        case .reduce(let c): return c
        case .slice(let c): return c
        case .unfold(let c): return c
        }
    }

    @inline(__always)
    public func run(_ f: Frame) throws { try call.run(f) }
}

/// The geometry of a 2-d convolution of one example (1-d convolutions have height 1). Layouts are
/// PyTorch's: input [c, h, w], weight [out, c / groups, kh, kw], output [out, oh, ow].
public struct ConvGeometry: Sendable, Hashable {
    public var inChannels: Int, outChannels: Int, groups: Int
    public var inH: Int, inW: Int, outH: Int, outW: Int
    public var kernelH: Int, kernelW: Int
    public var strideH: Int, strideW: Int
    public var padTop: Int, padLeft: Int
    public var dilationH: Int, dilationW: Int

    public init(inChannels: Int, outChannels: Int, groups: Int, inH: Int, inW: Int, outH: Int, outW: Int,
                kernelH: Int, kernelW: Int, strideH: Int, strideW: Int, padTop: Int, padLeft: Int, dilationH: Int, dilationW: Int) {
        self.inChannels = inChannels; self.outChannels = outChannels; self.groups = groups
        self.inH = inH; self.inW = inW; self.outH = outH; self.outW = outW
        self.kernelH = kernelH; self.kernelW = kernelW; self.strideH = strideH; self.strideW = strideW
        self.padTop = padTop; self.padLeft = padLeft; self.dilationH = dilationH; self.dilationW = dilationW
    }

    /// A convolution of nothing (the default of a call not yet filled in).
    public static var zero: ConvGeometry {
        ConvGeometry(inChannels: 0, outChannels: 0, groups: 1, inH: 0, inW: 0, outH: 0, outW: 0,
                     kernelH: 1, kernelW: 1, strideH: 1, strideW: 1, padTop: 0, padLeft: 0, dilationH: 1, dilationW: 1)
    }

    public var inputCount: Int { inChannels * inH * inW }
    public var outputCount: Int { outChannels * outH * outW }
    /// Multiply-accumulates of the direct definition.
    public var macs: Int { outputCount * inChannels / groups * kernelH * kernelW }
    public var isDepthwise: Bool { groups == inChannels && groups == outChannels }
    public var isPointwise: Bool {
        kernelH == 1 && kernelW == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0 && groups == 1
    }
}

/// How a convolution is computed; chosen per step by the schedule pass.
public enum ConvAlgorithm: String, Sendable, CaseIterable {
    /// A GEMM of the weights and the image's patches, packed straight from the image (implicit im2col).
    case gemm
    /// A 1x1 stride-1 convolution: the image [c, h w] is the GEMM's B as it is.
    case pointwise
    /// A GEMM with the output positions as rows and the channels as columns (`SpatialGemm`): for
    /// small maps, whose positions fill the GEMM's 32-wide panels poorly.
    case spatialGemm
    /// A 1x1 convolution with the output positions as rows of 7 and the channels as columns of 32
    /// (`PointwiseRows`): for small maps, whose 7 x 2^k positions fill panels of 7 exactly.
    case pointwiseRows
    /// Winograd's F(2x2, 3x3) for 3x3 stride-1 convolutions.
    case winograd
    /// Winograd's F(4x4, 3x3) for 3x3 stride-1 convolutions: fewer multiplies, larger tiles.
    case winograd4
    /// One filter per channel, over phase planes.
    case depthwise
    /// Few products per output (the stems): the micro-kernel reads the taps in place from phase
    /// planes, no patches packed (`DirectConv`).
    case direct

    /// Whether the kernel splits its work across all the threads it is given itself (not by the GEMM's split).
    public var splitsItsOwnWork: Bool {
        switch self {
        case .winograd, .winograd4, .depthwise, .direct: return true
        case .gemm, .pointwise, .spatialGemm, .pointwiseRows: return false
        }
    }

    /// Whether the algorithm computes this geometry.
    public func applies(to g: ConvGeometry) -> Bool {
        switch self {
        case .gemm: return true
        case .pointwise: return g.isPointwise
        case .spatialGemm: return SpatialGemm.applies(g)
        case .pointwiseRows: return PointwiseRows.applies(g)
        case .winograd: return Winograd.applies(g)
        case .winograd4: return Winograd4.applies(g)
        case .depthwise: return g.isDepthwise
        case .direct: return DirectConv.applies(g)
        }
    }
}

/// Convolution of one example by each algorithm, with the weights prepared once by `prepare`.
public enum Conv {
    /// Floats of the weights as `algorithm` reads them.
    public static func preparedCount(_ g: ConvGeometry, _ algorithm: ConvAlgorithm) -> Int {
        let cout = g.outChannels / g.groups, k = g.inChannels / g.groups * g.kernelH * g.kernelW
        switch algorithm {
        case .gemm, .pointwise: return g.groups * Gemm.packedACount(m: cout, k: k)
        case .spatialGemm: return SpatialGemm.preparedCount(g)
        case .pointwiseRows: return PointwiseRows.preparedCount(g)
        case .winograd: return Winograd.preparedCount(g)
        case .winograd4: return Winograd4.preparedCount(g)
        case .depthwise: return g.outChannels * g.kernelH * g.kernelW
        case .direct: return DirectConv.preparedCount(g)
        }
    }

    /// The weights [out, in / groups, kh, kw] as `algorithm` reads them: packed per group for the
    /// GEMM, transformed for Winograd, as they are for depthwise convolution.
    public static func prepare(_ g: ConvGeometry, _ algorithm: ConvAlgorithm, weight: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>) {
        let cout = g.outChannels / g.groups, k = g.inChannels / g.groups * g.kernelH * g.kernelW
        switch algorithm {
        case .gemm, .pointwise:
            let per = Gemm.packedACount(m: cout, k: k)
            for grp in 0..<g.groups { Gemm.packA(weight + grp * cout * k, lda: k, m: cout, k: k, into: out + grp * per) }
        case .spatialGemm: SpatialGemm.prepare(g, weight: weight, into: out)
        case .pointwiseRows: PointwiseRows.prepare(g, weight: weight, into: out)
        case .winograd: Winograd.prepare(g, weight: weight, into: out)
        case .winograd4: Winograd4.prepare(g, weight: weight, into: out)
        case .depthwise: out.update(from: weight, count: g.outChannels * g.kernelH * g.kernelW)
        case .direct: DirectConv.prepare(g, weight: weight, into: out)
        }
    }

    /// Floats of scratch `forward` needs with `threads` workers, for `batch` examples.
    public static func scratchCount(_ g: ConvGeometry, _ algorithm: ConvAlgorithm, batch: Int = 1, threads: Int) -> Int {
        switch algorithm {
        case .gemm: return PhasePlanes.apply(to: g) ? PhasePlanes.count(g) : 0
        case .pointwise: return 0
        case .spatialGemm: return SpatialGemm.scratchCount(g, batch: batch)
        case .pointwiseRows: return PointwiseRows.scratchCount(g, batch: batch)
        case .winograd: return Winograd.scratchCount(g, threads: threads)
        case .winograd4: return Winograd4.scratchCount(g, threads: threads)
        case .depthwise: return Depthwise.scratchCount(g, threads: threads)
        case .direct: return DirectConv.scratchCount(g)
        }
    }

    /// `batch` examples: out = activation(conv(in) + bias + residual), residual laid out as the
    /// output. The positions-as-rows GEMMs take the whole batch at once (their rows are every
    /// example's positions, the weights read once); the others run example by example.
    public static func forward(_ g: ConvGeometry, _ algorithm: ConvAlgorithm, batch: Int = 1, input: UnsafePointer<Float>,
                               weights: UnsafePointer<Float>, bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?,
                               activation: Activation, output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>?,
                               threads: Int) {
        switch algorithm {
        case .spatialGemm:
            SpatialGemm.forward(g, batch: batch, input: input, prepared: weights, bias: bias, residual: residual, activation: activation,
                                output: output, scratch: scratch!, threads: threads)
            return
        case .pointwiseRows:
            PointwiseRows.forward(g, batch: batch, input: input, prepared: weights, bias: bias, residual: residual, activation: activation,
                                  output: output, scratch: scratch!, threads: threads)
            return
        case .gemm, .pointwise, .winograd, .winograd4, .depthwise, .direct: break
        }
        for n in 0..<batch {
            forwardOne(g, algorithm, input: input + n * g.inputCount, weights: weights, bias: bias,
                       residual: residual.map { $0 + n * g.outputCount }, activation: activation, output: output + n * g.outputCount,
                       scratch: scratch, threads: threads)
        }
    }

    static func forwardOne(_ g: ConvGeometry, _ algorithm: ConvAlgorithm, input: UnsafePointer<Float>, weights: UnsafePointer<Float>,
                           bias: UnsafePointer<Float>?, residual: UnsafePointer<Float>?, activation: Activation,
                           output: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>?, threads: Int) {
        switch algorithm {
        case .spatialGemm:
            SpatialGemm.forward(g, batch: 1, input: input, prepared: weights, bias: bias, residual: residual, activation: activation,
                                output: output, scratch: scratch!, threads: threads)
        case .pointwiseRows:
            PointwiseRows.forward(g, batch: 1, input: input, prepared: weights, bias: bias, residual: residual, activation: activation,
                                  output: output, scratch: scratch!, threads: threads)
        case .winograd:
            Winograd.forward(g, input: input, prepared: weights, bias: bias, residual: residual, activation: activation, output: output,
                             scratch: scratch!, threads: threads)
        case .winograd4:
            Winograd4.forward(g, input: input, prepared: weights, bias: bias, residual: residual, activation: activation, output: output,
                              scratch: scratch!, threads: threads)
        case .depthwise:
            Depthwise.forward(g, input: input, weight: weights, bias: bias, residual: residual, activation: activation, output: output,
                              scratch: scratch!, threads: threads)
        case .direct:
            DirectConv.forward(g, input: input, prepared: weights, bias: bias, residual: residual, activation: activation, output: output,
                               scratch: scratch!, threads: threads)
        case .gemm, .pointwise:
            let cin = g.inChannels / g.groups, cout = g.outChannels / g.groups
            let n = g.outH * g.outW, k = cin * g.kernelH * g.kernelW
            let per = Gemm.packedACount(m: cout, k: k)
            // A strided convolution's patches are packed from the input's phase planes.
            let phases = algorithm == .gemm && PhasePlanes.apply(to: g) ? PhasePlanes(g) : nil
            if let phases { phases.fill(g, input: input, into: scratch!, threads: threads) }
            for grp in 0..<g.groups {
                let src = phases.map { UnsafePointer(scratch!) + grp * cin * $0.perChannel } ?? input + grp * cin * g.inH * g.inW
                let dst = output + grp * cout * n
                let a = PackedA(weights + grp * per, m: cout, k: k)
                let epilogue = Epilogue(bias: .perRow, bias.map { $0 + grp * cout }, activation: activation,
                                        residual: residual.map { $0 + grp * cout * n }, ldr: n)
                if algorithm == .pointwise {
                    Gemm.sgemm(packed: a, n: n, b: src, ldb: n, c: dst, ldc: n, epilogue: epilogue, threads: threads)
                } else {
                    var one = g
                    (one.inChannels, one.outChannels, one.groups) = (cin, cout, 1)
                    Gemm.sgemm(packed: a, image: src, geometry: one, phases: phases, c: dst, ldc: n, epilogue: epilogue, threads: threads)
                }
            }
        }
    }
}

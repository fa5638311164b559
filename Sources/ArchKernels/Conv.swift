import Dispatch

/// Convolution as a GEMM over the image's patches, packed straight from the image (implicit im2col),
/// per group; a direct kernel for depthwise convolution.
/// Layouts are PyTorch's: input [c, h, w] per example, weight [out, c / groups, kh, kw].
public struct ConvGeometry: Sendable {
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
}

/// A convolution's weights prepared once: per group packed for the GEMM, or transformed for
/// Winograd's F(2x2, 3x3); nothing for depthwise convolutions (they read the weights directly).
public struct PackedConv: @unchecked Sendable {
    let groups: [Gemm.PackedA]
    let winograd: Bool
}

public enum Conv {
    public static func pack(_ g: ConvGeometry, weight: UnsafePointer<Float>) -> PackedConv {
        if isDepthwise(g) { return PackedConv(groups: [], winograd: false) }
        if Winograd.applies(g) { return PackedConv(groups: Winograd.pack(g, weight: weight), winograd: true) }
        let cout = g.outChannels / g.groups, k = g.inChannels / g.groups * g.kernelH * g.kernelW
        return PackedConv(groups: (0..<g.groups).map { Gemm.PackedA(weight + $0 * cout * k, lda: k, m: cout, k: k) }, winograd: false)
    }

    static func isDepthwise(_ g: ConvGeometry) -> Bool { g.groups == g.inChannels && g.groups == g.outChannels }

    /// Floats of scratch `forward` needs for one example (Winograd's transformed tiles), else 0.
    public static func scratchCount(_ g: ConvGeometry) -> Int { Winograd.applies(g) && !isDepthwise(g) ? Winograd.scratchCount(g) : 0 }

    /// One example: out[outC, outH, outW] = conv(in[inC, inH, inW]) + bias, then the activation.
    /// `packed` from `pack` (made here when not given); `scratch` of `scratchCount` floats.
    public static func forward(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                               output: UnsafeMutablePointer<Float>, activation: Epilogue.Activation = .none, packed: PackedConv? = nil,
                               scratch: UnsafeMutablePointer<Float>? = nil) {
        if isDepthwise(g) {
            depthwise(g, input: input, weight: weight, bias: bias, output: output, activation: activation)
            return
        }
        let weights = packed ?? pack(g, weight: weight)
        if weights.winograd {
            let own = scratch == nil ? UnsafeMutablePointer<Float>.allocate(capacity: Winograd.scratchCount(g)) : nil
            defer { own?.deallocate() }
            Winograd.forward(g, input: input, packed: weights.groups, bias: bias, output: output, activation: activation, scratch: scratch ?? own!)
            return
        }
        let cin = g.inChannels / g.groups, cout = g.outChannels / g.groups
        let n = g.outH * g.outW
        let pointwise = g.kernelH == 1 && g.kernelW == 1 && g.strideH == 1 && g.strideW == 1 && g.padTop == 0 && g.padLeft == 0
        let epilogue = Epilogue(bias: bias == nil ? .none : .perRow, activation: activation)
        for grp in 0..<g.groups {
            let src = input + grp * cin * g.inH * g.inW, dst = output + grp * cout * n, b = bias.map { $0 + grp * cout }
            if pointwise {
                // The image [c, h w] is already the GEMM's B.
                Gemm.sgemm(packed: weights.groups[grp], n: n, b: src, ldb: n, c: dst, ldc: n, bias: b, epilogue: epilogue)
            } else {
                Gemm.sgemm(packed: weights.groups[grp], image: src, geometry: g, c: dst, ldc: n, bias: b, epilogue: epilogue)
            }
        }
    }

    /// One filter per channel, computed directly: for each kernel tap, a whole output row is
    /// updated over the range of positions where the tap lands inside the input (a loop the compiler
    /// vectorises; strided inputs are first split into phases). Channels are split across the cores.
    static func depthwise(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                          output: UnsafeMutablePointer<Float>, activation: Epilogue.Activation) {
        let workers = g.inChannels * g.outH * g.outW >= 1 << 14 ? min(g.inChannels, Gemm.defaultThreads) : 1
        let addrs = (Int(bitPattern: input), Int(bitPattern: weight), bias.map { Int(bitPattern: $0) } ?? 0, Int(bitPattern: output))
        DispatchQueue.concurrentPerform(iterations: workers) { wk in
            let input = UnsafePointer<Float>(bitPattern: addrs.0)!, weight = UnsafePointer<Float>(bitPattern: addrs.1)!
            let bias = UnsafePointer<Float>(bitPattern: addrs.2), output = UnsafeMutablePointer<Float>(bitPattern: addrs.3)!
            for c in (g.inChannels * wk / workers)..<(g.inChannels * (wk + 1) / workers) {
                depthwiseChannel(g, plane: input + c * g.inH * g.inW, filter: weight + c * g.kernelH * g.kernelW,
                                 bias: bias?[c] ?? 0, out: output + c * g.outH * g.outW, activation: activation)
            }
        }
    }

    @inline(__always)
    static func depthwiseChannel(_ g: ConvGeometry, plane: UnsafePointer<Float>, filter: UnsafePointer<Float>, bias: Float,
                                 out: UnsafeMutablePointer<Float>, activation: Epilogue.Activation) {
        let sw = g.strideW
        let phaseLength = (g.inW + sw - 1) / sw
        out.update(repeating: bias, count: g.outH * g.outW)
        // For stride > 1 each input row is split into `sw` phases (phase p holds columns p, p + sw, ...),
        // so every tap reads its phase contiguously and the loop vectorises as for stride 1.
        withUnsafeTemporaryAllocation(of: Float.self, capacity: sw > 1 ? sw * phaseLength : 1) { phases in
            for oy in 0..<g.outH {
                let orow = out + oy * g.outW
                for ky in 0..<g.kernelH {
                    let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                    if iy < 0 || iy >= g.inH { continue }
                    let irow = plane + iy * g.inW
                    if sw > 1 {
                        for p in 0..<sw {
                            let dst = phases.baseAddress! + p * phaseLength
                            var ix = p, j = 0
                            while ix < g.inW { dst[j] = irow[ix]; ix += sw; j += 1 }
                        }
                    }
                    for kx in 0..<g.kernelW {
                        let wv = filter[ky * g.kernelW + kx]
                        let offset = kx * g.dilationW - g.padLeft
                        // Output positions whose input ox * stride + offset lies in [0, inW).
                        let lo = offset >= 0 ? 0 : (-offset + sw - 1) / sw
                        let last = g.inW - 1 - offset
                        let hi = last < 0 ? 0 : min(g.outW, last / sw + 1)
                        if lo >= hi { continue }
                        let src: UnsafePointer<Float>
                        if sw == 1 {
                            src = irow + offset
                        } else {
                            // Column ox * sw + offset is in phase p = offset mod sw, at ox + (offset - p) / sw.
                            let p = ((offset % sw) + sw) % sw
                            src = UnsafePointer(phases.baseAddress! + p * phaseLength + (offset - p) / sw)
                        }
                        for ox in lo..<hi { orow[ox] += wv * src[ox] }
                    }
                }
            }
        }
        switch activation {
        case .none: break
        case .relu: for i in 0..<(g.outH * g.outW) { out[i] = max(out[i], 0) }
        case .relu6: for i in 0..<(g.outH * g.outW) { out[i] = min(max(out[i], 0), 6) }
        case .gelu: Elementwise.geluInPlace(out, count: g.outH * g.outW)
        }
    }
}

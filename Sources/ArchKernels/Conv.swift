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

    /// One filter per channel, computed directly (see `PhasePlanes`). Channels are split across the cores.
    static func depthwise(_ g: ConvGeometry, input: UnsafePointer<Float>, weight: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                          output: UnsafeMutablePointer<Float>, activation: Epilogue.Activation) {
        let workers = g.inChannels * g.outH * g.outW >= 1 << 14 ? min(g.inChannels, Gemm.defaultThreads) : 1
        let addrs = (Int(bitPattern: input), Int(bitPattern: weight), bias.map { Int(bitPattern: $0) } ?? 0, Int(bitPattern: output))
        DispatchQueue.concurrentPerform(iterations: workers) { wk in
            let input = UnsafePointer<Float>(bitPattern: addrs.0)!, weight = UnsafePointer<Float>(bitPattern: addrs.1)!
            let bias = UnsafePointer<Float>(bitPattern: addrs.2), output = UnsafeMutablePointer<Float>(bitPattern: addrs.3)!
            let phases = PhasePlanes(g)
            defer { phases.deallocate() }
            for c in (g.inChannels * wk / workers)..<(g.inChannels * (wk + 1) / workers) {
                phases.convolve(g, plane: input + c * g.inH * g.inW, filter: weight + c * g.kernelH * g.kernelW, bias: bias?[c] ?? 0,
                                out: output + c * g.outH * g.outW, activation: activation)
            }
        }
    }

    /// Depthwise convolution of one plane as long contiguous multiply-adds. The zero-padded plane is
    /// split into stride x stride phases (phase (ry, rx) holds padded rows ry, ry + stride, ... and
    /// likewise columns; one phase for stride 1), each of row width W. Output (oy, ox) under tap
    /// (ky, kx) reads phase ((ky d) mod s, (kx d) mod s) at row oy + (ky d) / s, column ox + (kx d) / s,
    /// so with the output laid out at width W too every tap is one multiply-add over the whole output
    /// (the extra columns are computed and dropped), in cache, with no per-row bookkeeping.
    struct PhasePlanes {
        let rows: Int, width: Int, phaseSize: Int
        let data: UnsafeMutablePointer<Float>, acc: UnsafeMutablePointer<Float>

        init(_ g: ConvGeometry) {
            let paddedH = (g.outH - 1) * g.strideH + g.dilationH * (g.kernelH - 1) + 1
            let paddedW = (g.outW - 1) * g.strideW + g.dilationW * (g.kernelW - 1) + 1
            rows = (paddedH + g.strideH - 1) / g.strideH
            width = (paddedW + g.strideW - 1) / g.strideW
            phaseSize = rows * width + width  // a spare row: the last taps read past the last row's end
            data = .allocate(capacity: g.strideH * g.strideW * phaseSize)
            acc = .allocate(capacity: g.outH * width)
            // Only the input's cells are ever written: the padding stays zero for every channel.
            data.initialize(repeating: 0, count: g.strideH * g.strideW * phaseSize)
        }

        func deallocate() { data.deallocate(); acc.deallocate() }

        func convolve(_ g: ConvGeometry, plane src: UnsafePointer<Float>, filter: UnsafePointer<Float>, bias: Float,
                      out: UnsafeMutablePointer<Float>, activation: Epilogue.Activation) {
            let (sh, sw) = (g.strideH, g.strideW)
            for y in 0..<g.inH {
                let py = y + g.padTop
                let (ry, i) = (py % sh, py / sh)
                guard i < rows else { break }
                let line = src + y * g.inW
                for rx in 0..<sw {
                    let dst = data + (ry * sw + rx) * phaseSize + i * width
                    // Padded columns rx, rx + sw, ... that hold input: x = j sw + rx - padLeft in [0, inW).
                    var j = max(0, (g.padLeft - rx + sw - 1) / sw)
                    var x = j * sw + rx - g.padLeft
                    while x < g.inW && j < width { dst[j] = line[x]; j += 1; x += sw }
                }
            }
            let n = g.outH * width
            acc.update(repeating: bias, count: n)
            for ky in 0..<g.kernelH { for kx in 0..<g.kernelW {
                let (dy, dx) = (ky * g.dilationH, kx * g.dilationW)
                let phase = data + ((dy % sh) * sw + dx % sw) * phaseSize
                let p = UnsafePointer(phase + (dy / sh) * width + dx / sw)
                let w = filter[ky * g.kernelW + kx]
                for i in 0..<n { acc[i] += w * p[i] }
            } }
            for oy in 0..<g.outH {
                let row = acc + oy * width, dst = out + oy * g.outW
                switch activation {
                case .none: for x in 0..<g.outW { dst[x] = row[x] }
                case .relu: for x in 0..<g.outW { dst[x] = max(row[x], 0) }
                case .relu6: for x in 0..<g.outW { dst[x] = min(max(row[x], 0), 6) }
                case .gelu: for x in 0..<g.outW { dst[x] = Elementwise.gelu(row[x]) }
                }
            }
        }
    }
}

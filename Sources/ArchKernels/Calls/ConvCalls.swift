/// A convolution of a batch, by the algorithm the schedule chose, with its epilogue:
/// out = activation(conv(x) + bias + residual). The weights are prepared for the algorithm
/// (`Prepare`'s `convWeights`), with any batchnorm folded in.
public struct ConvCall: KernelCallProtocol {
    public var batch = 0
    public var geometry = ConvGeometry.zero
    public var algorithm = ConvAlgorithm.gemm
    public var input = 0, output = 0
    public var weight = 0, bias: Int? = nil
    public var residual: Int? = nil
    public var activation = Activation.none
    public var scratch: Int? = nil
    public var threads = 1

    public init(batch: Int = 0,
                geometry: ConvGeometry = ConvGeometry.zero,
                algorithm: ConvAlgorithm = ConvAlgorithm.gemm, input: Int = 0, output: Int = 0, weight: Int = 0, bias: Int? = nil,
                residual: Int? = nil, activation: Activation = Activation.none, scratch: Int? = nil, threads: Int = 1) {
        self.batch = batch; self.geometry = geometry; self.algorithm = algorithm; self.input = input; self.output = output
        self.weight = weight; self.bias = bias; self.residual = residual; self.activation = activation; self.scratch = scratch
        self.threads = threads
    }

    public var reads: [Int] { [input] + (residual.map { [$0] } ?? []) }
    public var scratchValue: Int? { scratch }

    public func run(_ f: Frame) {
        Conv.forward(geometry, algorithm, batch: batch, input: f.value(input), weights: f.constant(weight), bias: f.constant(bias),
                     residual: f.value(residual).map { UnsafePointer($0) }, activation: activation, output: f.value(output),
                     scratch: f.value(scratch), threads: f.threads(threads))
    }
}

/// A transposed convolution of a batch as a GEMM and a scatter (col2im): per example and group,
/// the columns Wᵀ x [(out kh kw) x (h w)] from the weights transposed and packed once, then each
/// column added into the output positions its kernel tap reaches. The geometry is that of the
/// forward convolution it transposes: input [inChannels, inH, inW] -> output [outChannels, outH, outW].
public struct ConvTransposeCall: KernelCallProtocol {
    public var batch = 0
    public var geometry = ConvGeometry.zero
    public var input = 0, output = 0
    public var scratch: Int? = nil
    public var weight = 0, bias: Int? = nil
    public var threads = 1

    public init(batch: Int = 0,
                geometry: ConvGeometry = ConvGeometry.zero,
                input: Int = 0, output: Int = 0, scratch: Int? = nil, weight: Int = 0, bias: Int? = nil, threads: Int = 1) {
        self.batch = batch; self.geometry = geometry; self.input = input; self.output = output; self.scratch = scratch
        self.weight = weight; self.bias = bias; self.threads = threads
    }

    public var reads: [Int] { [input] }
    public var scratchValue: Int? { scratch }

    /// Rows of the per-group GEMM (output channels of a group times kernel taps).
    public static func columnRows(_ g: ConvGeometry) -> Int { g.outChannels / g.groups * g.kernelH * g.kernelW }
    public static func scratchCount(_ g: ConvGeometry) -> Int { columnRows(g) * g.inH * g.inW }

    public func run(_ f: Frame) {
        let g = geometry, x = f.value(input), y = f.value(output), cols = f.value(scratch)!, b = f.constant(bias)
        let cinG = g.inChannels / g.groups, coutG = g.outChannels / g.groups, rows = Self.columnRows(g), hw = g.inH * g.inW
        let plane = g.outH * g.outW, per = Gemm.packedACount(m: rows, k: cinG)
        for n in 0..<batch {
            for oc in 0..<g.outChannels { (y + (n * g.outChannels + oc) * plane).update(repeating: b?[oc] ?? 0, count: plane) }
            for grp in 0..<g.groups {
                Gemm.sgemm(packed: PackedA(f.constant(weight) + grp * per, m: rows, k: cinG), n: hw, b: x + (n * g.inChannels + grp * cinG) * hw,
                           ldb: hw, c: cols, ldc: hw, threads: f.threads(threads))
                for r in 0..<rows {
                    let oc = grp * coutG + r / (g.kernelH * g.kernelW)
                    scatter(cols + r * hw, tap: r % (g.kernelH * g.kernelW), into: y + (n * g.outChannels + oc) * plane)
                }
            }
        }
    }

    /// One row of columns (one output channel's kernel tap over every input position) added into the output plane.
    func scatter(_ src: UnsafePointer<Float>, tap: Int, into plane: UnsafeMutablePointer<Float>) {
        let g = geometry, ky = tap / g.kernelW, kx = tap % g.kernelW
        for iy in 0..<g.inH {
            let oy = iy * g.strideH - g.padTop + ky * g.dilationH
            if oy < 0 || oy >= g.outH { continue }
            let line = plane + oy * g.outW, row = src + iy * g.inW
            for ix in 0..<g.inW {
                let ox = ix * g.strideW - g.padLeft + kx * g.dilationW
                if ox >= 0 && ox < g.outW { line[ox] += row[ix] }
            }
        }
    }
}

/// Patch embedding's first half: the image [b, c, h, w] cut into non-overlapping p x q patches,
/// each flattened (channel, row, column) into one row: [b, (h / p) (w / q), c p q]. A linear layer
/// on those rows is the patch convolution, with tokens written straight out.
public struct PatchifyCall: KernelCallProtocol {
    public var batch = 0, channels = 0, height = 0, width = 0, patchH = 1, patchW = 1
    public var input = 0, output = 0

    public init(batch: Int = 0, channels: Int = 0, height: Int = 0, width: Int = 0, patchH: Int = 1, patchW: Int = 1, input: Int = 0,
                output: Int = 0) {
        self.batch = batch; self.channels = channels; self.height = height; self.width = width; self.patchH = patchH
        self.patchW = patchW; self.input = input; self.output = output
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) {
        let x = f.value(input), y = f.value(output)
        let gh = height / patchH, gw = width / patchW, row = channels * patchH * patchW
        for b in 0..<batch { for py in 0..<gh { for px in 0..<gw {
            var dst = y + ((b * gh + py) * gw + px) * row
            for c in 0..<channels {
                for i in 0..<patchH {
                    dst.update(from: x + ((b * channels + c) * height + py * patchH + i) * width + px * patchW, count: patchW)
                    dst += patchW
                }
            }
        } } }
    }
}

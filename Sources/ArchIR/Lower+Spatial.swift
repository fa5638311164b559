import ArchSemantics
import ArchKernels

/// Convolutions, patch embedding, pooling and resampling on [batch, channels, spatial...] tensors
/// (1-d tensors as images of height 1).
extension Lowering {
    mutating func lowerConv(_ n: Graph.Node) throws {
        let x = n.inputs[0]
        emit(.conv(ConvCall(batch: shape(x)[0], geometry: convGeometry(n, shape(x), shape(n.output)), input: x, output: n.output,
                            weight: try required("weight"), bias: param("bias"))))
    }

    /// The geometry is that of the forward convolution from the output back to the input, seen from the input.
    mutating func lowerConvTranspose(_ n: Graph.Node) throws {
        let x = n.inputs[0]
        emit(.convTranspose(ConvTransposeCall(batch: shape(x)[0], geometry: convGeometry(n, shape(x), shape(n.output)), input: x,
                                              output: n.output, weight: try required("weight"), bias: param("bias"))))
    }

    /// Cut into patches, then one GEMM: the patch convolution's weight [dim, c, p, p] is a linear
    /// layer's [dim, c p p] as it is stored.
    mutating func lowerPatch(_ n: Graph.Node) throws {
        let x = n.inputs[0], inShape = shape(x)
        let (b, c, h, w) = (inShape[0], inShape[1], inShape[2], inShape[3])
        let p = n.sizes("size", 2, default: 1), dim = n.int("dim")!, row = c * p[0] * p[1]
        let patches = value([b, (h / p[0]) * (w / p[1]), row])
        emit(.patchify(PatchifyCall(batch: b, channels: c, height: h, width: w, patchH: p[0], patchW: p[1], input: x, output: patches)))
        linear(patches, rows: count(patches) / row, inFeatures: row, outFeatures: dim, weight: try required("weight"), bias: param("bias"),
               into: n.output)
    }

    /// The geometry of one example, every default resolved (`pad same`: d (k - 1) / 2 on the leading
    /// side; with an even kernel PyTorch pads the extra row at the end, which the checked output size
    /// and the zero fill past the input's edge give).
    func convGeometry(_ n: Graph.Node, _ inShape: [Int], _ outShape: [Int]) -> ConvGeometry {
        let spatial = inShape.count - 2
        let k = n.sizes("kernel", spatial, default: 1), s = n.sizes("stride", spatial, default: 1), d = n.sizes("dilation", spatial, default: 1)
        let pad = n.word("pad") == "same" ? (0..<spatial).map { d[$0] * (k[$0] - 1) / 2 } : n.sizes("pad", spatial, default: 0)
        let c = inShape[1]
        let groups = n.word("groups") == "depthwise" ? c : (n.int("groups") ?? 1)
        func hw(_ v: [Int]) -> (Int, Int) { spatial == 2 ? (v[0], v[1]) : (1, v[0]) }
        let (h, w) = hw(Array(inShape.dropFirst(2))), (oh, ow) = hw(Array(outShape.dropFirst(2)))
        let (kh, kw) = hw(k), (sh, sw) = hw(s), (dh, dw) = hw(d), (ph, pw) = spatial == 2 ? (pad[0], pad[1]) : (0, pad[0])
        return ConvGeometry(inChannels: c, outChannels: outShape[1], groups: groups, inH: h, inW: w, outH: oh, outW: ow,
                            kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padTop: ph, padLeft: pw, dilationH: dh, dilationW: dw)
    }

    /// Planes of [b, c, h, w] (1-d: height 1) and the output's height and width.
    func planes(_ n: Graph.Node) -> (planes: Int, h: Int, w: Int, oh: Int, ow: Int) {
        let inShape = shape(n.inputs[0]), outShape = shape(n.output)
        let (h, w) = inShape.count == 4 ? (inShape[2], inShape[3]) : (1, inShape[2])
        let (oh, ow) = outShape.count == 4 ? (outShape[2], outShape[3]) : (outShape.count == 3 ? (1, outShape[2]) : (1, 1))
        return (inShape[0] * inShape[1], h, w, oh, ow)
    }

    mutating func lowerPool(_ n: Graph.Node) {
        let spatial = shape(n.inputs[0]).count - 2, p = planes(n)
        let k = n.sizes("kernel", spatial, default: 1)
        let s = n.args["stride"] == nil ? k : n.sizes("stride", spatial, default: 1)
        let pad = n.sizes("pad", spatial, default: 0)
        let window = spatial == 2
            ? Pool.Window(kernelH: k[0], kernelW: k[1], strideH: s[0], strideW: s[1], padTop: pad[0], padLeft: pad[1])
            : Pool.Window(kernelH: 1, kernelW: k[0], strideH: 1, strideW: s[0], padTop: 0, padLeft: pad[0])
        emit(.pool(PoolCall(planes: p.planes, height: p.h, width: p.w, outHeight: p.oh, outWidth: p.ow, window: window,
                            isMax: n.op == .maxpool, input: n.inputs[0], output: n.output)))
    }

    /// Adaptive pooling, and global pooling as adaptive pooling to 1 x 1.
    mutating func lowerAdaptivePool(_ n: Graph.Node) {
        let p = planes(n)
        emit(.adaptivePool(AdaptivePoolCall(planes: p.planes, height: p.h, width: p.w, outHeight: p.oh, outWidth: p.ow,
                                            isMax: n.op == .adaptive_maxpool || n.word("mode") == "max", input: n.inputs[0], output: n.output)))
    }

    mutating func lowerUpsample(_ n: Graph.Node) {
        let p = planes(n)
        emit(.upsample(UpsampleCall(planes: p.planes, height: p.h, width: p.w, outHeight: p.oh, outWidth: p.ow,
                                    bilinear: n.word("mode") == "bilinear", input: n.inputs[0], output: n.output)))
    }
}

import ArchSemantics
import ArchKernels

extension Interpreter {
    /// conv (1-d or 2-d) and patch embedding, one example at a time through im2col + GEMM.
    func conv(_ node: Graph.Node, _ inShape: [Int], _ outShape: [Int]) throws -> [Float] {
        let isPatch = node.op == "patch"
        let spatial = inShape.count - 2
        guard spatial == 1 || spatial == 2 else { throw RuntimeError("only 1-d and 2-d convolutions run in the interpreter") }
        let c = inShape[1]
        let k = sizes(node, isPatch ? "size" : "kernel", spatial, default: 1)
        let s = isPatch ? k : sizes(node, "stride", spatial, default: 1)
        let d = isPatch ? [1, 1] : sizes(node, "dilation", spatial, default: 1)
        var pad = isPatch ? [0, 0] : sizes(node, "pad", spatial, default: 0)
        if word(node, "pad") == "same" { pad = (0..<spatial).map { d[$0] * (k[$0] - 1) / 2 } }
        let groups = word(node, "groups") == "depthwise" ? c : (int(node, "groups") ?? 1)
        let out = isPatch ? int(node, "dim")! : outShape[1]
        let h = spatial == 2 ? inShape[2] : 1, w = inShape[spatial == 2 ? 3 : 2]
        let kh = spatial == 2 ? k[0] : 1, kw = k[spatial - 1]
        let sh = spatial == 2 ? s[0] : 1, sw = s[spatial - 1]
        let dh = spatial == 2 ? d[0] : 1, dw = d[spatial - 1]
        let ph = spatial == 2 ? pad[0] : 0, pw = pad[spatial - 1]
        let oh = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, ow = (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1
        let g = ConvGeometry(inChannels: c, outChannels: out, groups: groups, inH: h, inW: w, outH: oh, outW: ow,
                             kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padTop: ph, padLeft: pw, dilationH: dh, dilationW: dw)
        let fused = fusion.convs[current]
        let x = input(node), weight = fused?.weight ?? param(node, "weight")!, bias = fused?.bias ?? param(node, "bias")
        let activation = fused?.activation ?? .none
        let batch = inShape[0], inSize = c * h * w, outSize = out * oh * ow
        if packedConvs[current] == nil {
            packedConvs[current] = weight.withUnsafeBufferPointer { Conv.pack(g, weight: $0.baseAddress!) }
        }
        let packed = packedConvs[current]!
        var y = [Float](repeating: 0, count: batch * outSize)
        x.withUnsafeBufferPointer { xp in weight.withUnsafeBufferPointer { wp in y.withUnsafeMutableBufferPointer { yp in
            for n in 0..<batch {
                if let bias {
                    bias.withUnsafeBufferPointer { bp in
                        Conv.forward(g, input: xp.baseAddress! + n * inSize, weight: wp.baseAddress!, bias: bp.baseAddress, output: yp.baseAddress! + n * outSize,
                                     activation: activation, packed: packed)
                    }
                } else {
                    Conv.forward(g, input: xp.baseAddress! + n * inSize, weight: wp.baseAddress!, bias: nil, output: yp.baseAddress! + n * outSize,
                                 activation: activation, packed: packed)
                }
            }
        } } }
        guard isPatch else { return y }
        // [b, dim, gh, gw] -> tokens [b, gh gw, dim] or a grid [b, gh, gw, dim].
        return Self.permute(y, [batch, out, oh * ow], [0, 2, 1])
    }

    /// Max and average pooling as PyTorch computes them (average pooling counts the zero padding).
    func pool(_ node: Graph.Node, _ inShape: [Int], _ outShape: [Int]) -> [Float] {
        let spatial = inShape.count - 2
        let k = sizes(node, "kernel", spatial, default: 1)
        let s = node.args["stride"] == nil ? k : sizes(node, "stride", spatial, default: 1)
        let p = sizes(node, "pad", spatial, default: 0)
        let h = spatial == 2 ? inShape[2] : 1, w = inShape.last!
        let oh = spatial == 2 ? outShape[2] : 1, ow = outShape.last!
        let kh = spatial == 2 ? k[0] : 1, kw = k.last!, sh = spatial == 2 ? s[0] : 1, sw = s.last!
        let ph = spatial == 2 ? p[0] : 0, pw = p.last!
        let isMax = node.op == "maxpool"
        let x = input(node)
        let planes = inShape[0] * inShape[1]
        var y = [Float](repeating: 0, count: planes * oh * ow)
        for pl in 0..<planes {
            let src = pl * h * w, dst = pl * oh * ow
            for oy in 0..<oh { for ox in 0..<ow {
                let y0 = oy * sh - ph, x0 = ox * sw - pw
                let y1 = min(y0 + kh, h + ph), x1 = min(x0 + kw, w + pw)
                let divisor = Float((y1 - y0) * (x1 - x0))
                var acc: Float = isMax ? -.infinity : 0
                for iy in max(y0, 0)..<min(y1, h) { for ix in max(x0, 0)..<min(x1, w) {
                    let v = x[src + iy * w + ix]
                    acc = isMax ? max(acc, v) : acc + v
                } }
                y[dst + oy * ow + ox] = isMax ? acc : acc / divisor
            } }
        }
        return y
    }

    /// Adaptive pooling: output cell i covers input [floor(i n / o), ceil((i + 1) n / o)).
    func adaptivePool(_ x: [Float], _ inShape: [Int], _ outShape: [Int], max isMax: Bool) -> [Float] {
        let h = inShape.count == 4 ? inShape[2] : 1, w = inShape.count >= 3 ? inShape.last! : 1
        let oh = outShape.count == 4 ? outShape[2] : 1, ow = outShape.count >= 3 ? outShape.last! : 1
        let planes = inShape[0] * inShape[1]
        var y = [Float](repeating: 0, count: planes * oh * ow)
        for pl in 0..<planes { for oy in 0..<oh { for ox in 0..<ow {
            let ya = oy * h / oh, yb = ((oy + 1) * h + oh - 1) / oh
            let xa = ox * w / ow, xb = ((ox + 1) * w + ow - 1) / ow
            var acc: Float = isMax ? -.infinity : 0
            for iy in ya..<yb { for ix in xa..<xb {
                let v = x[pl * h * w + iy * w + ix]
                acc = isMax ? max(acc, v) : acc + v
            } }
            y[(pl * oh + oy) * ow + ox] = isMax ? acc : acc / Float((yb - ya) * (xb - xa))
        } } }
        return y
    }

    func upsampleNearest(_ x: [Float], _ inShape: [Int], _ outShape: [Int]) -> [Float] {
        let h = inShape.count == 4 ? inShape[2] : 1, w = inShape.last!
        let oh = outShape.count == 4 ? outShape[2] : 1, ow = outShape.last!
        let planes = inShape[0] * inShape[1]
        var y = [Float](repeating: 0, count: planes * oh * ow)
        for pl in 0..<planes { for oy in 0..<oh { for ox in 0..<ow {
            y[(pl * oh + oy) * ow + ox] = x[pl * h * w + (oy * h / oh) * w + ox * w / ow]
        } } }
        return y
    }
}

import ArchSemantics
import ArchKernels
import ArchIR

extension Interpreter {
    /// conv (1-d or 2-d) and patch embedding, one example at a time as a GEMM over its patches.
    func conv(_ step: Program.Step, _ node: Graph.Node, _ inShape: [Int], _ outShape: [Int], _ out: UnsafeMutableBufferPointer<Float>) throws {
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
        let outC = isPatch ? int(node, "dim")! : outShape[1]
        let h = spatial == 2 ? inShape[2] : 1, w = inShape[spatial == 2 ? 3 : 2]
        let kh = spatial == 2 ? k[0] : 1, kw = k[spatial - 1]
        let sh = spatial == 2 ? s[0] : 1, sw = s[spatial - 1]
        let dh = spatial == 2 ? d[0] : 1, dw = d[spatial - 1]
        let ph = spatial == 2 ? pad[0] : 0, pw = pad[spatial - 1]
        // The checked output size: with 'pad same' and an even kernel PyTorch pads one more at the end
        // than at the start, which the zero fill past the input's edge provides.
        let oh = isPatch ? (h - kh) / sh + 1 : (spatial == 2 ? outShape[2] : 1)
        let ow = isPatch ? (w - kw) / sw + 1 : outShape[spatial + 1]
        let g = ConvGeometry(inChannels: c, outChannels: outC, groups: groups, inH: h, inW: w, outH: oh, outW: ow,
                             kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padTop: ph, padLeft: pw, dilationH: dh, dilationW: dw)
        let fused = folded.convs[current]
        let x = input(node), weight = fused?.weight ?? param(node, "weight")!, bias = fused?.bias ?? param(node, "bias")
        let activation = epilogueActivation(step)
        let batch = inShape[0], inSize = c * h * w, outSize = outC * oh * ow
        if packedConvs[current] == nil {
            packedConvs[current] = weight.withUnsafeBufferPointer { Conv.pack(g, weight: $0.baseAddress!) }
        }
        let packed = packedConvs[current]!
        let work = workspace.buffer(5, Conv.scratchCount(g)).baseAddress
        // A patch embedding writes [b, dim, gh, gw] to scratch, then tokens [b, gh gw, dim] to the output.
        let y = isPatch ? workspace.buffer(4, batch * outSize) : out
        weight.withUnsafeBufferPointer { wp in (bias ?? []).withUnsafeBufferPointer { bp in
            for n in 0..<batch {
                Conv.forward(g, input: x.baseAddress! + n * inSize, weight: wp.baseAddress!, bias: bias == nil ? nil : bp.baseAddress,
                             output: y.baseAddress! + n * outSize, activation: activation, packed: packed, scratch: work)
            }
        } }
        if isPatch { Self.permute(UnsafeBufferPointer(y), [batch, outC, oh * ow], [0, 2, 1], into: out) }
    }

    /// Max and average pooling as PyTorch computes them (average pooling counts the zero padding).
    func pool(_ node: Graph.Node, _ inShape: [Int], _ outShape: [Int], _ y: UnsafeMutableBufferPointer<Float>) {
        let spatial = inShape.count - 2
        let k = sizes(node, "kernel", spatial, default: 1)
        let s = node.args["stride"] == nil ? k : sizes(node, "stride", spatial, default: 1)
        let p = sizes(node, "pad", spatial, default: 0)
        let h = spatial == 2 ? inShape[2] : 1, w = inShape.last!
        let oh = spatial == 2 ? outShape[2] : 1, ow = outShape.last!
        let kh = spatial == 2 ? k[0] : 1, kw = k.last!, sh = spatial == 2 ? s[0] : 1, sw = s.last!
        let ph = spatial == 2 ? p[0] : 0, pw = p.last!
        let window = Pool.Window(kernelH: kh, kernelW: kw, strideH: sh, strideW: sw, padTop: ph, padLeft: pw)
        Pool.forward(planes: inShape[0] * inShape[1], h: h, w: w, oh: oh, ow: ow, window: window, max: node.op == "maxpool",
                     input: input(node).baseAddress!, output: y.baseAddress!)
    }

    /// Adaptive pooling: output cell i covers input [floor(i n / o), ceil((i + 1) n / o)).
    func adaptivePool(_ x: UnsafeBufferPointer<Float>, _ inShape: [Int], _ outShape: [Int], _ y: UnsafeMutableBufferPointer<Float>, max isMax: Bool) {
        let h = inShape.count == 4 ? inShape[2] : 1, w = inShape.count >= 3 ? inShape.last! : 1
        let oh = outShape.count == 4 ? outShape[2] : 1, ow = outShape.count >= 3 ? outShape.last! : 1
        let planes = inShape[0] * inShape[1]
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
    }

    func upsampleNearest(_ x: UnsafeBufferPointer<Float>, _ inShape: [Int], _ outShape: [Int], _ y: UnsafeMutableBufferPointer<Float>) {
        let h = inShape.count == 4 ? inShape[2] : 1, w = inShape.last!
        let oh = outShape.count == 4 ? outShape[2] : 1, ow = outShape.last!
        let planes = inShape[0] * inShape[1]
        for pl in 0..<planes { for oy in 0..<oh { for ox in 0..<ow {
            y[(pl * oh + oy) * ow + ox] = x[pl * h * w + (oy * h / oh) * w + ox * w / ow]
        } } }
    }

    /// Bilinear upsampling as nn.Upsample computes it (align_corners=False): output pixel i samples
    /// the input at (i + 0.5) / scale - 0.5, clamped at the edges.
    func upsampleBilinear(_ x: UnsafeBufferPointer<Float>, _ inShape: [Int], _ outShape: [Int], _ y: UnsafeMutableBufferPointer<Float>) {
        let (h, w, oh, ow) = (inShape[2], inShape[3], outShape[2], outShape[3])
        func taps(_ o: Int, _ n: Int, _ on: Int) -> (Int, Int, Float) {
            let src = max((Float(o) + 0.5) * Float(n) / Float(on) - 0.5, 0)
            let i0 = min(Int(src), n - 1)
            return (i0, min(i0 + 1, n - 1), src - Float(i0))
        }
        let rows = (0..<oh).map { taps($0, h, oh) }, cols = (0..<ow).map { taps($0, w, ow) }
        for pl in 0..<(inShape[0] * inShape[1]) {
            let p = pl * h * w
            for (oy, (y0, y1, ly)) in rows.enumerated() { for (ox, (x0, x1, lx)) in cols.enumerated() {
                let top = x[p + y0 * w + x0] * (1 - lx) + x[p + y0 * w + x1] * lx
                let bottom = x[p + y1 * w + x0] * (1 - lx) + x[p + y1 * w + x1] * lx
                y[(pl * oh + oy) * ow + ox] = top * (1 - ly) + bottom * ly
            } }
        }
    }

    /// Transposed convolution as a GEMM and a scatter (col2im): per example and group, the columns
    /// Wᵀ x [(out kh kw) x (h w)] from the packed, transposed weights, then each column added into
    /// the output positions its kernel tap reaches.
    func convTranspose(_ node: Graph.Node, _ inShape: [Int], _ outShape: [Int], _ y: UnsafeMutableBufferPointer<Float>) {
        let spatial = inShape.count - 2
        let k = sizes(node, "kernel", spatial, default: 1), s = sizes(node, "stride", spatial, default: 1)
        let p = sizes(node, "pad", spatial, default: 0), d = sizes(node, "dilation", spatial, default: 1)
        let cin = inShape[1], cout = outShape[1]
        let groups = word(node, "groups") == "depthwise" ? cin : (int(node, "groups") ?? 1)
        let h = spatial == 2 ? inShape[2] : 1, w = inShape.last!, oh = spatial == 2 ? outShape[2] : 1, ow = outShape.last!
        let kh = spatial == 2 ? k[0] : 1, kw = k.last!, sh = spatial == 2 ? s[0] : 1, sw = s.last!
        let ph = spatial == 2 ? p[0] : 0, pw = p.last!, dh = spatial == 2 ? d[0] : 1, dw = d.last!
        let x = input(node).baseAddress!, bias = param(node, "bias")
        let cinG = cin / groups, coutG = cout / groups, rows = coutG * kh * kw, hw = h * w
        if packedTransposed[current] == nil {
            // weight [cin, cout / groups, kh, kw]: per group a [cinG x rows] block, packed transposed.
            let weight = param(node, "weight")!
            packedTransposed[current] = (0..<groups).map { g in
                var t = [Float](repeating: 0, count: rows * cinG)
                for i in 0..<cinG { for r in 0..<rows { t[r * cinG + i] = weight[(g * cinG + i) * rows + r] } }
                return t.withUnsafeBufferPointer { Gemm.PackedA($0.baseAddress!, lda: cinG, m: rows, k: cinG) }
            }
        }
        let packed = packedTransposed[current]!
        let cols = workspace.buffer(6, rows * hw).baseAddress!
        for n in 0..<inShape[0] {
            for oc in 0..<cout {
                (y.baseAddress! + (n * cout + oc) * oh * ow).update(repeating: bias?[oc] ?? 0, count: oh * ow)
            }
            for g in 0..<groups {
                Gemm.sgemm(packed: packed[g], n: hw, b: x + (n * cin + g * cinG) * hw, ldb: hw, c: cols, ldc: hw)
                for r in 0..<rows {
                    let oc = g * coutG + r / (kh * kw), ky = (r / kw) % kh, kx = r % kw
                    let plane = y.baseAddress! + (n * cout + oc) * oh * ow, src = cols + r * hw
                    for iy in 0..<h {
                        let oy = iy * sh - ph + ky * dh
                        if oy < 0 || oy >= oh { continue }
                        let line = plane + oy * ow, row = src + iy * w
                        for ix in 0..<w {
                            let ox = ix * sw - pw + kx * dw
                            if ox >= 0 && ox < ow { line[ox] += row[ix] }
                        }
                    }
                }
            }
        }
    }
}

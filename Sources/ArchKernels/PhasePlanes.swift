/// A strided convolution's input [c, h, w], zero-padded and split into stride x stride phases:
/// phase (ry, rx) of a channel holds the padded rows ry, ry + s, ry + 2s, ... and likewise the
/// columns. Output (oy, ox) under tap (ky, kx) reads phase ((ky d) mod s, (kx d) mod s) at row
/// oy + (ky d) / s, column ox + (kx d) / s: every tap of a strided convolution becomes a
/// contiguous, in-bounds run, as for stride 1 without padding. The GEMM's implicit im2col packs
/// from these planes (one strided gather of the input instead of one per tap and column block).
public struct PhasePlanes: Sendable {
    /// Rows and columns of one phase plane.
    public let rows: Int, width: Int
    public let strideH: Int, strideW: Int

    public init(_ g: ConvGeometry) {
        let paddedH = (g.outH - 1) * g.strideH + g.dilationH * (g.kernelH - 1) + 1
        let paddedW = (g.outW - 1) * g.strideW + g.dilationW * (g.kernelW - 1) + 1
        rows = (paddedH + g.strideH - 1) / g.strideH
        width = (paddedW + g.strideW - 1) / g.strideW
        (strideH, strideW) = (g.strideH, g.strideW)
    }

    /// Whether the GEMM packs this convolution's patches from phase planes (any stride above 1).
    public static func apply(to g: ConvGeometry) -> Bool { g.strideH > 1 || g.strideW > 1 }

    /// Floats of one channel's phases.
    public var perChannel: Int { strideH * strideW * rows * width }

    /// Floats of the planes of `g`'s input.
    public static func count(_ g: ConvGeometry) -> Int { g.inChannels * PhasePlanes(g).perChannel }

    /// Where a row of the patch matrix (channel, ky, kx) reads: the offset of its phase plane and
    /// the tap's displacement in it.
    @inline(always)
    func tap(channel c: Int, ky: Int, kx: Int, _ g: ConvGeometry) -> (plane: Int, dy: Int, dx: Int) {
        let (dy, dx) = (ky * g.dilationH, kx * g.dilationW)
        return (c * perChannel + ((dy % strideH) * strideW + dx % strideW) * rows * width, dy / strideH, dx / strideW)
    }

    /// Fills the planes of `input` (`count(g)` floats at `out`), channels split across the workers.
    /// Only the phases some tap reads are written (a 1x1 stride-2 convolution reads one of four).
    public func fill(_ g: ConvGeometry, input: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, threads: Int) {
        var used = [Bool](repeating: false, count: strideH * strideW)
        for ky in 0..<g.kernelH { for kx in 0..<g.kernelW { used[(ky * g.dilationH % strideH) * strideW + kx * g.dilationW % strideW] = true } }
        let workers = g.inputCount >= 1 << 14 ? max(1, min(g.inChannels, threads)) : 1
        used.withUnsafeBufferPointer { used in
            Parallel.forEach(g.inChannels, threads: workers) { c, _ in
                for ry in 0..<strideH { for rx in 0..<strideW where used[ry * strideW + rx] {
                    fillPhase(g, ry: ry, rx: rx, plane: input + c * g.inH * g.inW,
                              into: out + c * perChannel + (ry * strideW + rx) * rows * width)
                } }
            }
        }
    }

    /// One phase of one channel: padded row ry + i s is input row ry + i s - padTop (zero outside).
    func fillPhase(_ g: ConvGeometry, ry: Int, rx: Int, plane: UnsafePointer<Float>, into dst: UnsafeMutablePointer<Float>) {
        // Columns j whose input column x = rx + j s - padLeft is in [0, inW).
        let first = min(width, max(0, (g.padLeft - rx + strideW - 1) / strideW))
        let reach = g.inW - 1 + g.padLeft - rx  // the last column's j times the stride, or past it
        let last = reach < 0 ? first : max(first, min(width, reach / strideW + 1))
        for i in 0..<rows {
            let row = dst + i * width, y = ry + i * strideH - g.padTop
            guard y >= 0 && y < g.inH && last > first else { row.update(repeating: 0, count: width); continue }
            row.update(repeating: 0, count: first)
            gather(plane + y * g.inW + rx + first * strideW - g.padLeft, into: row + first, count: last - first)
            (row + last).update(repeating: 0, count: width - last)
        }
    }

    /// out[j] = src[j * strideW] for j in 0..<count. At stride 2 a plain loop, which LLVM vectorises
    /// with vpermt2ps (SIMD32's evenHalf, used before, can be left an out-of-line call by the
    /// inliner, as it was in the fused depthwise convolution).
    @inline(always)
    func gather(_ src: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>, count: Int) {
        var j = 0
        if strideW == 1 {
            out.update(from: src, count: count)
            return
        }
        if strideW == 2 {
            for j in 0..<count { out[j] = src[2 * j] }
            return
        }
        while j < count { out[j] = src[j * strideW]; j += 1 }
    }
}

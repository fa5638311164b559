/// Max and average pooling over [planes, h, w], as PyTorch computes them: windows start at
/// o * stride - pad, average pooling counts the zero padding (count_include_pad) but not the part
/// of a ceil-mode window past the padding, and max pooling passes a NaN on. Planes are split
/// across the cores.
public enum Pool {
    public struct Window: Sendable, Equatable {
        public var kernelH: Int, kernelW: Int, strideH: Int, strideW: Int, padTop: Int, padLeft: Int
        public init(kernelH: Int, kernelW: Int, strideH: Int, strideW: Int, padTop: Int, padLeft: Int) {
            self.kernelH = kernelH; self.kernelW = kernelW; self.strideH = strideH; self.strideW = strideW
            self.padTop = padTop; self.padLeft = padLeft
        }
    }

    public static func forward(planes: Int, h: Int, w: Int, oh: Int, ow: Int, window k: Window, max isMax: Bool,
                               input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>, threads: Int) {
        let workers = planes * oh * ow * k.kernelH * k.kernelW >= 1 << 16 ? max(1, min(planes, threads)) : 1
        let span = rowSpan(w: w, ow: ow, window: k)
        Parallel.forEach(planes, threads: workers) { pl, _ in
            withUnsafeTemporaryAllocation(of: Float.self, capacity: span) { row in
                plane(h: h, w: w, oh: oh, ow: ow, window: k, max: isMax, input: x + pl * h * w, output: y + pl * oh * ow,
                      row: row.baseAddress!)
            }
        }
    }

    /// Floats of the padded row every window of an output row reads: the left padding, the
    /// input row, and whatever the last window reaches past it (right padding, ceil mode).
    /// (32 floats more: the vectorised windows of stride 2 load 32 floats from the last one's start.)
    static func rowSpan(w: Int, ow: Int, window k: Window) -> Int {
        Swift.max(k.padLeft + w, (ow - 1) * k.strideW + k.kernelW, 1) + 32
    }

    /// One plane, output row by output row: the window's input rows reduced into one padded row
    /// (16 columns at a time), then each output the reduction of its `kernelW` neighbours in it,
    /// with no bounds to check (the padding holds -inf for max, 0 for the average).
    static func plane(h: Int, w: Int, oh: Int, ow: Int, window k: Window, max isMax: Bool,
                      input x: UnsafePointer<Float>, output y: UnsafeMutablePointer<Float>, row: UnsafeMutablePointer<Float>) {
        let span = rowSpan(w: w, ow: ow, window: k), fill: Float = isMax ? -.infinity : 0
        row.update(repeating: fill, count: span)
        let inner = row + k.padLeft
        for oy in 0..<oh {
            let y0 = oy * k.strideH - k.padTop
            let y1 = Swift.min(y0 + k.kernelH, h + k.padTop)
            let ya = Swift.max(y0, 0), yb = Swift.min(y1, h)
            if ya >= yb { inner.update(repeating: fill, count: w) }
            else { reduceRows(x + ya * w, rows: yb - ya, width: w, max: isMax, into: inner) }
            let out = y + oy * ow
            // Sixteen outputs at a time, the last few too (the row has room to read past them).
            let vectorised = k.strideW <= 2 ? ow : 0
            for ox in stride(from: 0, to: vectorised, by: 16) {
                if ox + 16 <= ow { out16(row + ox * k.strideW, window: k, max: isMax, into: out + ox); continue }
                var last = SIMD16<Float>()
                withUnsafeMutableBytes(of: &last) { out16(row + ox * k.strideW, window: k, max: isMax, into: $0.baseAddress!.assumingMemoryBound(to: Float.self)) }
                last.store(firstLanes: ow - ox, to: out + ox)
            }
            for ox in vectorised..<ow {
                let window = row + ox * k.strideW
                var acc = window[0]
                for t in 1..<Swift.max(1, k.kernelW) { acc = isMax ? larger(acc, window[t]) : acc + window[t] }
                out[ox] = acc
            }
            if !isMax {
                let rows = Float(y1 - y0)
                for ox in 0..<ow {
                    let x0 = ox * k.strideW - k.padLeft, x1 = Swift.min(x0 + k.kernelW, w + k.padLeft)
                    out[ox] /= rows * Float(x1 - x0)
                }
            }
        }
    }

    /// Sixteen outputs of a row (stride 1 or 2): their windows' columns, 16 at a time (every other
    /// one of 32 for stride 2).
    @inline(always)
    static func out16(_ start: UnsafePointer<Float>, window k: Window, max isMax: Bool, into out: UnsafeMutablePointer<Float>) {
        typealias V = SIMD16<Float>
        @inline(always) func column(_ t: Int) -> V {
            k.strideW == 1 ? UnsafeRawPointer(start + t).loadUnaligned(as: V.self)
                : UnsafeRawPointer(start + t).loadUnaligned(as: SIMD32<Float>.self).evenHalf
        }
        var acc = column(0)
        for t in 1..<Swift.max(1, k.kernelW) {
            let v = column(t)
            acc = isMax ? acc.replacing(with: v, where: (v .> acc) .| (v .!= v)) : acc + v
        }
        UnsafeMutableRawPointer(out).storeBytes(of: acc, as: V.self)
    }

    /// The larger of two floats, a NaN in either winning (PyTorch's max pooling).
    @inline(always)
    static func larger(_ acc: Float, _ v: Float) -> Float { v > acc || v != v ? v : acc }

    /// out[i] = the max (a NaN in any wins) or the sum of `rows` input rows at column i, 16 columns
    /// at a time, each row read once.
    @inline(always)
    static func reduceRows(_ src: UnsafePointer<Float>, rows: Int, width: Int, max isMax: Bool, into out: UnsafeMutablePointer<Float>) {
        typealias V = SIMD16<Float>
        var i = 0
        while i + 16 <= width {
            var a = UnsafeRawPointer(src + i).loadUnaligned(as: V.self)
            for r in 1..<Swift.max(1, rows) {
                let v = UnsafeRawPointer(src + r * width + i).loadUnaligned(as: V.self)
                a = isMax ? a.replacing(with: v, where: (v .> a) .| (v .!= v)) : a + v
            }
            UnsafeMutableRawPointer(out + i).storeBytes(of: a, as: V.self)
            i += 16
        }
        while i < width {
            var a = src[i]
            for r in 1..<Swift.max(1, rows) { a = isMax ? larger(a, src[r * width + i]) : a + src[r * width + i] }
            out[i] = a
            i += 1
        }
    }
}

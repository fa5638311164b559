extension InvertedResidual {
    /// One channel's rows of a stride-1 band, read where the expansion wrote them (row iy of the
    /// image at `plane + iy * width`), without the padded copy (`padRow`) the other layouts take.
    /// Output x reads input columns x - 1, x and x + 1, 16 outputs at a time, as `channel` does; at
    /// a row's edges those reads reach the row before or after, so the first vector of a row drops
    /// lane 0 of its left tap and the last vector the lanes of its right tap past the row (`Edges`:
    /// zeroed bits, so a NaN or infinity next door never reaches an output). The caller guarantees
    /// that the float before the first row and the 16 after the last may be read (the fused block's
    /// scratch: `Shape.rowSlack` on either side of the expanded rows). `zero` is a row of zeros,
    /// `s.paddedWidth` long, for rows outside the image.
    @inline(never)
    static func channelInPlace(_ s: Shape, plane: UnsafePointer<Float>, zero: UnsafePointer<Float>, filter f: UnsafePointer<Float>,
                               bias: Float, clamp: (low: Float, high: Float)?, oy0: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
        rowLoop(InPlaceRows(s, plane: plane, zero: zero, filter: f, bias: bias, clamp: clamp, oy0: oy0), count: count, into: out)
    }

    /// A channel's input rows read where they are (stride 1): a row's first and last vectors with
    /// the lanes of their outer taps masked (`Edges`).
    struct InPlaceRows: ChannelRows {
        let s: Shape, plane: UnsafePointer<Float>, zero: UnsafePointer<Float>, oy0: Int
        let filter: UnsafePointer<Float>, bias: Float, clamp: (low: Float, high: Float)?, window: Window, edges: Edges
        var width: Int { s.width }

        @inline(always)
        init(_ s: Shape, plane: UnsafePointer<Float>, zero: UnsafePointer<Float>, filter: UnsafePointer<Float>, bias: Float,
             clamp: (low: Float, high: Float)?, oy0: Int) {
            (self.s, self.plane, self.zero, self.oy0) = (s, plane, zero, oy0)
            (self.filter, self.bias, self.clamp) = (filter, bias, clamp)
            (window, edges) = (Window(filter: filter, bias: bias, clamp: clamp), Edges(width: s.width))
        }

        /// Tap 0 of output x at column x - 1: each row pointer starts one before its row.
        @inline(always) func taps(_ r: Int) -> Taps { inPlaceTaps(s, plane: plane, zero: zero, row: oy0 + r) }

        @inline(always)
        func outputs(_ t: Taps, _ x: Int) -> V {
            x == 0 || x == edges.last
                ? window.outputs(t, x, keepLeft: x == 0 ? edges.first : edges.all, keepRight: x == edges.last ? edges.right : edges.all)
                : window.outputs(t, x)
        }

        @inline(always)
        func lastOutputs(row r: Int, x: Int, count: Int, into dst: UnsafeMutablePointer<Float>) {
            lastOutputsInPlace(s, plane: plane, zero: zero, row: oy0 + r, x: x, filter: filter, bias: bias, clamp: clamp, count: count, into: dst)
        }
    }

    /// The rows output row `row` reads, each from one before its first column.
    @inline(always)
    static func inPlaceTaps(_ s: Shape, plane: UnsafePointer<Float>, zero: UnsafePointer<Float>, row: Int) -> Taps {
        func input(_ ky: Int) -> UnsafePointer<Float> {
            let iy = row - 1 + ky
            return iy >= 0 && iy < s.height ? plane + iy * s.width - 1 : zero
        }
        return Taps(r0: input(0), r1: input(1), r2: input(2), tap1: 1, tap2: 2)
    }

    /// The lanes a row's edge vectors keep: the first vector's left tap without lane 0 (column -1),
    /// the last vector's right tap without the lanes at and past the row's width.
    struct Edges {
        typealias Bits = SIMD16<UInt32>
    typealias V = SIMD16<Float>
        /// Where the last vector of a row starts.
        let last: Int
        let first: Bits, right: Bits, all = Bits(repeating: ~0)

        @inline(always)
        init(width: Int) {
            last = (width - 1) / 16 * 16
            var first = Bits(repeating: ~0), right = Bits(repeating: ~0)
            first[0] = 0
            for lane in 0..<16 where last + lane + 1 >= width { right[lane] = 0 }
            (self.first, self.right) = (first, right)
        }
    }

    /// A channel's last `count` (< 16) outputs of a row read in place: out of line, as `lastOutputs`.
    @inline(never)
    static func lastOutputsInPlace(_ s: Shape, plane: UnsafePointer<Float>, zero: UnsafePointer<Float>, row: Int, x: Int,
                                   filter: UnsafePointer<Float>, bias: Float, clamp: (low: Float, high: Float)?, count: Int,
                                   into dst: UnsafeMutablePointer<Float>) {
        let edges = Edges(width: s.width), taps = inPlaceTaps(s, plane: plane, zero: zero, row: row)
        let v = Window(filter: filter, bias: bias, clamp: clamp)
            .outputs(taps, x, keepLeft: x == 0 ? edges.first : edges.all, keepRight: x == edges.last ? edges.right : edges.all)
        withUnsafeTemporaryAllocation(of: Float.self, capacity: 16) { lanes in
            UnsafeMutableRawPointer(lanes.baseAddress!).storeBytes(of: v, as: V.self)
            dst.update(from: lanes.baseAddress!, count: count)
        }
    }
}

extension InvertedResidual.Window {
    typealias Bits = SIMD16<UInt32>
    typealias V = SIMD16<Float>

    /// Outputs x..<x+16 of a row with the left tap's lanes kept where `keepLeft` has bits and the
    /// right tap's where `keepRight` has (a row's first and last vectors read in place).
    @inline(always)
    func outputs(_ t: InvertedResidual.Taps, _ x: Int, keepLeft: Bits, keepRight: Bits) -> V {
        @inline(always) func load(_ p: UnsafePointer<Float>, _ keep: Bits) -> V {
            unsafeBitCast(UnsafeRawPointer(p).loadUnaligned(as: Bits.self) & keep, to: V.self)
        }
        var acc = bias
        acc.addProduct(w0, load(t.r0 + x, keepLeft)); acc.addProduct(w1, InvertedResidual.load(t.r0 + x + 1))
        acc.addProduct(w2, load(t.r0 + x + 2, keepRight))
        acc.addProduct(w3, load(t.r1 + x, keepLeft)); acc.addProduct(w4, InvertedResidual.load(t.r1 + x + 1))
        acc.addProduct(w5, load(t.r1 + x + 2, keepRight))
        acc.addProduct(w6, load(t.r2 + x, keepLeft)); acc.addProduct(w7, InvertedResidual.load(t.r2 + x + 1))
        acc.addProduct(w8, load(t.r2 + x + 2, keepRight))
        return acc.atLeast(low).atMost(high)
    }
}

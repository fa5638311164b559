/// Lane-wise minimum and maximum of 16 floats that compile to one vminps/vmaxps.
///
/// The standard library's `pointwiseMin`/`pointwiseMax` are written lane by lane with IEEE
/// minimum/maximum semantics, and LLVM leaves them as about 150 scalar instructions per vector: a
/// ReLU6 clamp in the GEMM's epilogue made a K = 16 expansion layer 10x slower than its
/// multiply-adds. These are comparisons and selects instead. A NaN in `self` stays NaN, as
/// PyTorch's relu, hardtanh and clamp keep it.
extension SIMD16 where Scalar == Float {
    /// max(self, low) per lane.
    @inline(always)
    public func atLeast(_ low: Self) -> Self { replacing(with: low, where: self .< low) }

    /// min(self, high) per lane.
    @inline(always)
    public func atMost(_ high: Self) -> Self { replacing(with: high, where: high .< self) }

    /// The largest lane. The standard library's `max()` compiled to a loop through the stack (151
    /// instructions, called once per row of every softmax: 2.6% of Swin's time at batch 8); compare
    /// and select lane by lane is a short reduction (28). A NaN lane may be passed over; the
    /// softmaxes that use it still give NaN, from the exponentials.
    @inline(always)
    public func maximumLane() -> Float {
        var m = self[0]
        for i in 1..<16 { m = self[i] > m ? self[i] : m }
        return m
    }
}

extension SIMD16 where Scalar == Float {
    /// Stores lanes 0..<count (at most 16) at `p` and nothing past them: 8, 4, 2 and 1 lanes at a
    /// time (at most four stores; taking lanes one by one went through the stack). The halves are
    /// read from the vector's bytes, not by `lowHalf`/`highHalf`, which the inliner left as calls
    /// (48 of them in window attention's score tile). Inlined into a loop of other vector work,
    /// the pieces can make LLVM split that loop's vectors too: see `InvertedResidual.lastOutputs`.
    @inline(always)
    public func store(firstLanes count: Int, to p: UnsafeMutablePointer<Float>) {
        let raw = UnsafeMutableRawPointer(p)
        if count >= 16 { raw.storeBytes(of: self, as: Self.self); return }
        withUnsafeBytes(of: self) { lanes in
            var offset = 0
            if count & 8 != 0 { raw.storeBytes(of: lanes.load(as: SIMD8<Float>.self), as: SIMD8<Float>.self); offset = 32 }
            if count & 4 != 0 { raw.storeBytes(of: lanes.load(fromByteOffset: offset, as: SIMD4<Float>.self), toByteOffset: offset, as: SIMD4<Float>.self); offset += 16 }
            if count & 2 != 0 { raw.storeBytes(of: lanes.load(fromByteOffset: offset, as: SIMD2<Float>.self), toByteOffset: offset, as: SIMD2<Float>.self); offset += 8 }
            if count & 1 != 0 { raw.storeBytes(of: lanes.load(fromByteOffset: offset, as: Float.self), toByteOffset: offset, as: Float.self) }
        }
    }
}

/// Lane-wise minimum and maximum of 16 floats that compile to one vminps/vmaxps.
///
/// The standard library's `pointwiseMin`/`pointwiseMax` are written lane by lane with IEEE
/// minimum/maximum semantics, and LLVM leaves them as about 150 scalar instructions per vector: a
/// ReLU6 clamp in the GEMM's epilogue made a K = 16 expansion layer 10x slower than its
/// multiply-adds. These are comparisons and selects instead. A NaN in `self` stays NaN, as
/// PyTorch's relu, hardtanh and clamp keep it.
extension SIMD16 where Scalar == Float {
    /// max(self, low) per lane.
    @inline(__always)
    public func atLeast(_ low: Self) -> Self { replacing(with: low, where: self .< low) }

    /// min(self, high) per lane.
    @inline(__always)
    public func atMost(_ high: Self) -> Self { replacing(with: high, where: high .< self) }
}

/// The largest |a[i] - b[i]|, infinite where the two differ in length or a difference is NaN (an
/// element left unwritten, or a NaN computed): `max()` of the differences skips NaNs, so a kernel
/// that never stored part of its output passed a check written that way.
func largestDifference(_ a: [Float], _ b: [Float]) -> Float {
    guard a.count == b.count, !a.isEmpty else { return .infinity }
    var worst: Float = 0
    for (x, y) in zip(a, b) {
        let d = abs(x - y)
        if d.isNaN { return .infinity }
        worst = max(worst, d)
    }
    return worst
}

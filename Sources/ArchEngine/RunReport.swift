import Foundation
import ArchIO

/// What `archc run` and a program made by `archc build` print after a run: the output's shape and
/// the time, its first values, and the top-k classes of each row.
public enum RunReport {
    public static func render(_ y: Tensor, milliseconds: Double, repeats: Int, top: Int?) -> String {
        let values = y.floats
        var out = "output \(y.shape) in \(fixed(milliseconds, 1)) ms" + (repeats > 1 ? " (median of \(repeats))" : "") + "\n"
        out += "first values: " + values.prefix(5).map { fixed(Double($0), 5) }.joined(separator: " ") + "\n"
        if let k = top, let last = y.shape.last, last > 0 {
            for row in 0..<(values.count / last) {
                let best = (0..<last).sorted { values[row * last + $0] > values[row * last + $1] }.prefix(k)
                out += "top-\(k)[\(row)]: " + best.map { "\($0) (\(fixed(Double(values[row * last + $0]), 4)))" }.joined(separator: ", ") + "\n"
            }
        }
        return out
    }

    /// A number with `digits` decimals; `nan` and `inf` as such.
    public static func fixed(_ x: Double, _ digits: Int) -> String {
        if x.isNaN { return "nan" }
        if x.isInfinite { return x < 0 ? "-inf" : "inf" }
        return String(format: "%.\(digits)f", x)
    }

    /// The median of some times.
    public static func median(_ times: [Double]) -> Double { times.sorted()[times.count / 2] }
}

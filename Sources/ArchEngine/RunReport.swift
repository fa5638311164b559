import Foundation
import ArchIO

/// What `archc run` and a program made by `archc build` print after a run: the output's shape and
/// the time, its first values, and the top-k classes of each row.
public enum RunReport {
    public static func render(_ y: Tensor, milliseconds: Double, repeats: Int, top: Int?) -> String {
        let values = y.floats
        var out = "output \(y.shape) in \(fixed(milliseconds, 1)) ms" + (repeats > 1 ? " (median of \(repeats))" : "") + "\n"
        out += "first values: " + values.prefix(5).map { fixed(Double($0), 5) }.joined(separator: " ") + "\n"
        if let k = top, let last = y.shape.last { out += self.top(k, of: values, rowLength: last) }
        return out
    }

    /// `top-K[row]: index (value), ...` for each row of a [rows, rowLength] output, largest first;
    /// NaN ranks below every number, ties keep index order.
    public static func top(_ k: Int, of values: [Float], rowLength: Int) -> String {
        guard rowLength > 0 else { return "" }
        var out = ""
        for row in 0..<(values.count / rowLength) {
            let base = row * rowLength
            let order = (0..<rowLength).sorted { a, b in
                let x = values[base + a], y = values[base + b]
                if x.isNaN != y.isNaN { return y.isNaN }
                return x.isNaN || x == y ? a < b : x > y
            }
            out += "top-\(k)[\(row)]: " + order.prefix(k).map { "\($0) (\(fixed(Double(values[base + $0]), 4)))" }.joined(separator: ", ") + "\n"
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

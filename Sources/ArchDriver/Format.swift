import Foundation
import ArchSemantics
import ArchIO

/// Number and size formatting shared by the reports.
enum Format {
    /// 11689512 -> "11,689,512"
    static func grouped(_ n: Int) -> String {
        let s = String(n.magnitude)
        var out = ""
        for (i, c) in s.enumerated() {
            if i > 0 && (s.count - i) % 3 == 0 { out.append(",") }
            out.append(c)
        }
        return (n < 0 ? "-" : "") + out
    }

    static func shape(_ s: Shape?) -> String {
        guard let s else { return "--" }
        return describe(s)
    }

    /// Sizes in decimal units, as torchinfo and the memory errors give them: 1 MB = 10^6 bytes.
    static func bytes(_ n: Int) -> String {
        let mb = Double(n) / 1e6
        return mb >= 1000 ? fixed(mb / 1000, 2) + " GB" : fixed(mb, 2) + " MB"
    }

    /// `x` with `digits` decimals; `nan`, `inf` and `-inf` as such.
    static func fixed(_ x: Double, _ digits: Int) -> String {
        guard x.isFinite else { return x.isNaN ? "nan" : x < 0 ? "-inf" : "inf" }
        var p = 1.0
        for _ in 0..<digits { p *= 10 }
        // Past 2^53 the rounding below loses digits and String(r) turns to exponent notation.
        if abs(x * p) >= 1e15 { return String(format: "%.\(digits)f", x) }
        let r = (x * p).rounded() / p
        var s = String(r)
        if let dot = s.firstIndex(of: ".") {
            let decimals = s.distance(from: dot, to: s.endIndex) - 1
            if decimals < digits { s += String(repeating: "0", count: digits - decimals) }
        } else {
            s += "." + String(repeating: "0", count: digits)
        }
        return s
    }

    static func percent(_ part: Int, _ whole: Int) -> String {
        whole == 0 ? "--" : fixed(Double(part) * 100 / Double(whole), 2) + "%"
    }

    static func pad(_ s: String, _ w: Int, right: Bool = false) -> String {
        let n = s.count
        if n >= w { return s }
        let fill = String(repeating: " ", count: w - n)
        return right ? fill + s : s + fill
    }

    /// JSON string literal.
    static func json(_ s: String) -> String { JSONText.string(s) }
}

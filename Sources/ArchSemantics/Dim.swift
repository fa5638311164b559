import Foundation
/// One tensor dimension: a known size, or an affine expression in named symbols such as `batch`
/// and `seq` (`seq + 1` after a class token). Anything non-affine becomes an opaque symbol
/// named after the expression it stands for, so shapes stay printable and comparable.
public struct Dim: Hashable, Sendable, CustomStringConvertible {
    public var constant: Int
    /// symbol -> coefficient; never holds a zero coefficient.
    public var terms: [String: Int]

    public init(_ n: Int) {
        constant = n
        terms = [:]
    }
    public init(symbol: String) {
        constant = 0
        terms = [symbol: 1]
    }

    public var value: Int? { terms.isEmpty ? constant : nil }
    public var isKnown: Bool { terms.isEmpty }
    /// The names `--set` binds: the symbols, and the names inside an opaque one (`a*b` -> a, b).
    public var symbols: [String] {
        Set(terms.keys.flatMap(Dim.names(in:))).sorted()
    }
    /// The symbols as they stand in the dimension, opaque ones whole (`seq*batch`).
    public var atoms: [String] { terms.keys.sorted() }

    /// How to bind the dimension's symbols: `--set seq=VALUE`, or one `--set` per name inside a product.
    public var setHint: String {
        let names = symbols.isEmpty ? ["NAME"] : symbols
        return names.map { "--set \($0)=VALUE" }.joined(separator: " ")
    }

    /// The names (a letter or `_`, then letters, digits, `_` and `.`) in a symbol's text.
    static func names(in text: String) -> [String] {
        var out: [String] = [], current = ""
        for c in text {
            if c.isLetter || c == "_" || (!current.isEmpty && (c.isNumber || c == ".")) { current.append(c) } else {
                if !current.isEmpty { out.append(current) }
                current = ""
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    public var description: String {
        if terms.isEmpty { return String(constant) }
        var parts: [String] = []
        for name in terms.keys.sorted() {
            let c = terms[name]!
            let atom = Dim.hasTopLevelSum(name) ? "(\(name))" : name
            let body = c == 1 ? atom : c == -1 ? "-\(atom)" : "\(c)*\(atom)"
            parts.append(body)
        }
        var s = parts.joined(separator: " + ").replacingOccurrences(of: "+ -", with: "- ")
        if constant > 0 { s += " + \(constant)" } else if constant < 0 { s += " - \(-constant)" }
        return s.replacingOccurrences(of: " ", with: "")
    }

    /// Whether a symbol's text has a `+` or `-` outside parentheses (and so needs them around it).
    static func hasTopLevelSum(_ name: String) -> Bool {
        var depth = 0
        for c in name {
            if c == "(" { depth += 1 } else if c == ")" { depth -= 1 } else if depth == 0 && (c == "+" || c == "-") { return true }
        }
        return false
    }

    public static func + (a: Dim, b: Dim) throws -> Dim {
        var r = a
        r.constant = try checkedAdd(a.constant, b.constant)
        for (k, v) in b.terms {
            let nv = try checkedAdd(r.terms[k] ?? 0, v)
            r.terms[k] = nv == 0 ? nil : nv
        }
        return r
    }

    public func plus(_ n: Int) throws -> Dim { try self + Dim(n) }

    public func times(_ n: Int) throws -> Dim {
        if n == 0 { return Dim(0) }
        var r = Dim(try checkedMul(constant, n))
        for (k, v) in terms { r.terms[k] = try checkedMul(v, n) }
        return r
    }

    public static func * (a: Dim, b: Dim) throws -> Dim {
        if let n = b.value { return try a.times(n) }
        if let n = a.value { return try b.times(n) }
        return Dim(symbol: "\(a.atom)*\(b.atom)")
    }

    var atom: String { terms.count == 1 && constant == 0 && terms.first!.value == 1 ? description : "(\(description))" }

    /// Floor division; symbolic unless every coefficient divides exactly.
    public func dividedFloor(by n: Int) -> Dim {
        precondition(n > 0)
        if let v = value { return Dim(v >= 0 ? v / n : -((-v + n - 1) / n)) }
        if constant % n == 0 && terms.values.allSatisfy({ $0 % n == 0 }) {
            var r = Dim(constant / n)
            for (k, v) in terms { r.terms[k] = v / n }
            return r
        }
        return Dim(symbol: "\(atom)/\(n)")
    }

    public func dividedCeil(by n: Int) throws -> Dim {
        precondition(n > 0)
        if let v = value { return Dim(v / n + (v % n > 0 ? 1 : 0)) }  // Swift's / truncates toward zero
        if isMultiple(of: n) { return dividedFloor(by: n) }
        return try plus(n - 1).dividedFloor(by: n)
    }

    /// Whether this dimension is a known multiple of n (symbolic ones: only if provably so).
    public func isMultiple(of n: Int) -> Bool {
        constant % n == 0 && terms.values.allSatisfy { $0 % n == 0 }
    }

    /// Substitute known values for symbols.
    public func bound(_ env: [String: Int]) throws -> Dim {
        var r = Dim(constant)
        for (k, v) in terms {
            if let x = env[k] { r.constant = try checkedAdd(r.constant, try checkedMul(v, x)) } else { r.terms[k] = v }
        }
        return r
    }
}

public typealias Shape = [Dim]

public func describe(_ shape: Shape) -> String {
    "[" + shape.map(\.description).joined(separator: ", ") + "]"
}

/// Element kinds that matter to checking: token ids feed embeddings, floats feed everything else.
public enum ElementKind: String, Sendable { case float, int }

public struct TensorType: Sendable, Equatable {
    public var shape: Shape
    public var kind: ElementKind
    public init(_ shape: Shape, _ kind: ElementKind = .float) {
        self.shape = shape
        self.kind = kind
    }
    public var rank: Int { shape.count }
    public var description: String { describe(shape) + (kind == .int ? " (token ids)" : "") }
    /// Elements with every symbol at its smallest (1): if even this overflows, no binding fits.
    public func minimumElementCount() throws -> Int {
        var n = 1
        for d in shape {
            let smallest = d.value ?? max(1, d.terms.values.reduce(d.constant) { $0.addingReportingOverflow($1).partialValue })
            n = try checkedMul(n, smallest, "element count")
        }
        return n
    }

    /// Number of elements when every dimension is known.
    public func elementCount() throws -> Int? {
        var n = 1
        for d in shape {
            guard let v = d.value else { return nil }
            n = try checkedMul(n, v, "element count")
        }
        return n
    }
}

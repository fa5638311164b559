import ArchSyntax

/// An evaluated argument: what an expression in a layer line means once block parameters are bound.
public enum Value: Sendable, Equatable, CustomStringConvertible {
    case int(Int)
    case dim(Dim)          // a symbolic size such as `seq`
    case float(Double)
    case bool(Bool)
    case word(String)      // an enumerated value or an option name: `layer`, `tanh`, `same`
    case list([Value])     // `3x3`, `[seq, 768]`

    public var description: String {
        switch self {
        case .int(let n): return String(n)
        case .dim(let d): return d.description
        case .float(let x): return String(x)
        case .bool(let b): return b ? "on" : "off"
        case .word(let w): return w
        case .list(let vs):
            // A list of names (`names q_proj k_proj`) in brackets; sizes as written (`3x3`).
            if !vs.isEmpty, vs.allSatisfy({ if case .word = $0 { return true } else { return false } }) {
                return "[" + vs.map(\.description).joined(separator: ", ") + "]"
            }
            return vs.map(\.description).joined(separator: "x")
        }
    }

    public var asDim: Dim? {
        switch self {
        case .int(let n): return Dim(n)
        case .dim(let d): return d
        default: return nil
        }
    }

    /// The words of a list of names (a `.names` option), or nil.
    public var words: [String]? {
        guard case .list(let vs) = self else { return nil }
        let ws = vs.compactMap { if case .word(let w) = $0 { return w } else { return nil } }
        return ws.count == vs.count ? ws : nil
    }

    public var kindName: String {
        switch self {
        case .int: return "an integer"
        case .dim: return "a size"
        case .float: return "a number"
        case .bool: return "on/off"
        case .word(let w): return "the word '\(w)'"
        case .list: return "a list of sizes"
        }
    }
}

public struct EvalError: Error, Sendable {
    /// Empty when the problem was reported already (a literal the parser refused).
    public var message: String
    public var loc: SourceLoc
}

/// Evaluates expressions against the parameters of the block being expanded.
public struct Evaluator {
    public var env: [String: Value]
    /// In an input's shape an unknown name is a symbolic size (`[seq + 1, 8]`), not a word.
    public var namesAreSizes = false
    /// Names whose values an earlier error left unknown: using one throws a silent `EvalError`.
    public var unknown: Set<String>
    public init(env: [String: Value], namesAreSizes: Bool = false, unknown: Set<String> = []) {
        self.env = env
        self.namesAreSizes = namesAreSizes
        self.unknown = unknown
    }

    public func eval(_ e: Expr) throws -> Value {
        switch e.kind {
        case .int(let n): return .int(n)
        case .float(let x): return .float(x)
        case .bad: throw EvalError(message: "", loc: e.loc)  // the parser has reported it
        case .name(let n):
            if let v = env[n] { return v }
            if unknown.contains(n) { throw EvalError(message: "", loc: e.loc) }
            switch n {
            case "on", "true", "yes": return .bool(true)
            case "off", "false", "no", "none": return .bool(false)
            default: return namesAreSizes ? .dim(Dim(symbol: n)) : .word(n)
            }
        case .dims(let parts):
            return .list(try parts.map { p in
                if let n = Int(p) { return .int(n) }
                if let v = env[p], let d = v.asDim { return d.value.map(Value.int) ?? .dim(d) }
                if p.first!.isNumber { throw EvalError(message: "size \(p) is too large", loc: e.loc) }
                return .dim(Dim(symbol: p))
            })
        case .list(let items):
            return .list(try items.map { item in
                let v = try eval(item)
                if case .word(let w) = v { return .dim(Dim(symbol: w)) }
                return v
            })
        case .binary(let op, let l, let r):
            return try binary(op, try eval(l), try eval(r), e)
        }
    }

    func binary(_ op: BinaryOp, _ a: Value, _ b: Value, _ e: Expr) throws -> Value {
        func fail(_ m: String) -> EvalError { EvalError(message: m, loc: e.loc) }
        switch op {
        case .and, .or:
            guard case .bool(let x) = a, case .bool(let y) = b else {
                throw fail("'\(op.rawValue)' needs true/false on both sides, got \(a.kindName) and \(b.kindName)")
            }
            return .bool(op == .and ? x && y : x || y)
        case .eq, .ne:
            let same: Bool
            switch (a, b) {
            case (.float(let x), _): same = x == numeric(b)
            case (_, .float(let y)): same = numeric(a) == y
            default:
                if let x = a.asDim, let y = b.asDim { same = x == y } else { same = a == b }
            }
            return .bool(op == .eq ? same : !same)
        case .lt, .le, .gt, .ge:
            guard let x = numeric(a), let y = numeric(b) else {
                throw fail("cannot compare \(a.kindName) with \(b.kindName) using '\(op.rawValue)'")
            }
            switch op {
            case .lt: return .bool(x < y)
            case .le: return .bool(x <= y)
            case .gt: return .bool(x > y)
            default: return .bool(x >= y)
            }
        case .add, .sub, .mul, .div, .mod:
            if case .float = a { return try floatOp(op, a, b, e) }
            if case .float = b { return try floatOp(op, a, b, e) }
            guard let x = a.asDim, let y = b.asDim else {
                throw fail("cannot apply '\(op.rawValue)' to \(a.kindName) and \(b.kindName)")
            }
            do {
                let r: Dim
                switch op {
                case .add: r = try x + y
                case .sub: r = try x + y.times(-1)
                case .mul: r = try x * y
                case .mod:
                    guard let n = x.value, let d = y.value else { throw fail("'%' needs fixed sizes") }
                    guard d > 0 else { throw fail("'%' needs a positive divisor") }
                    let rem = n % d
                    r = Dim(rem < 0 ? rem + d : rem)
                default:
                    guard let d = y.value else { throw fail("cannot divide by the symbolic size \(y)") }
                    guard d != 0 else { throw fail("division by zero") }
                    if let n = x.value {
                        // Floor division, as Python's //: `kernel / 2` is 1 for kernel 3.
                        let (q, o) = n.dividedReportingOverflow(by: d)
                        if o { throw fail("integer overflow in '/'") }
                        r = Dim(q * d != n && (n < 0) != (d < 0) ? q - 1 : q)
                    } else {
                        r = d > 0 ? x.dividedFloor(by: d) : Dim(symbol: "(\(x))/(\(d))")
                    }
                }
                return r.value.map(Value.int) ?? .dim(r)
            } catch is ArithmeticOverflow {
                throw fail("integer overflow in '\(op.rawValue)'")
            }
        }
    }

    func numeric(_ v: Value) -> Double? {
        switch v {
        case .int(let n): return Double(n)
        case .float(let x): return x
        default: return nil
        }
    }

    func floatOp(_ op: BinaryOp, _ a: Value, _ b: Value, _ e: Expr) throws -> Value {
        guard let x = numeric(a), let y = numeric(b) else {
            throw EvalError(message: "cannot apply '\(op.rawValue)' to \(a.kindName) and \(b.kindName)", loc: e.loc)
        }
        switch op {
        case .add: return .float(x + y)
        case .sub: return .float(x - y)
        case .mul: return .float(x * y)
        case .mod: throw EvalError(message: "'%' needs whole numbers", loc: e.loc)
        default:
            guard y != 0 else { throw EvalError(message: "division by zero", loc: e.loc) }
            return .float(x / y)
        }
    }
}

import ArchSemantics
import ArchSyntax

/// A whole-number expression over a block's parameters and its input's sizes (`channels`, `dim`),
/// written into a block's class where it gives the number the layer needs (`nn.Conv2d(channels,
/// out, 3, stride=stride, ...)`). Each is used only where it evaluates, for the use at hand, to the
/// number archc computed, so every use sharing the class is built as archc builds it.
indirect enum Sym: Equatable {
    case int(Int)
    case name(String)
    case binary(Operator, Sym, Sym)

    /// The whole-number operators a size is written with, as Python spells them.
    enum Operator: String {
        case add = "+", sub = "-", mul = "*", floorDiv = "//", mod = "%"

        var precedence: Int {
            switch self {
            case .add, .sub: return 1
            case .mul, .floorDiv, .mod: return 2
            }
        }
    }

    /// The expression as written in the spec, where its names are among `names` and its operators
    /// are + - * / %.
    static func from(_ e: Expr, names: Set<String>) -> Sym? {
        switch e.kind {
        case .int(let n): return .int(n)
        case .name(let n): return names.contains(n) ? .name(n) : nil
        case .binary(let op, let l, let r):
            let py: Operator
            switch op {
            case .add: py = .add
            case .sub: py = .sub
            case .mul: py = .mul
            case .div: py = .floorDiv
            case .mod: py = .mod
            // Conditions: not a size, so not written into a layer's arguments.
            case .and, .or, .eq, .ne, .lt, .le, .gt, .ge: return nil
            }
            guard let a = from(l, names: names), let b = from(r, names: names) else { return nil }
            return .binary(py, a, b)
        // Not whole-number sizes: the emitted module takes archc's number there.
        case .float, .dims, .list, .bad: return nil
        }
    }

    /// Its value as archc computes it (floor division and modulo, as Python's).
    func value(_ env: [String: Int]) -> Int? {
        switch self {
        case .int(let n): return n
        case .name(let n): return env[n]
        case .binary(let op, let l, let r):
            guard let a = l.value(env), let b = r.value(env) else { return nil }
            switch op {
            case .add: let (s, o) = a.addingReportingOverflow(b); return o ? nil : s
            case .sub: let (s, o) = a.subtractingReportingOverflow(b); return o ? nil : s
            case .mul: let (s, o) = a.multipliedReportingOverflow(by: b); return o ? nil : s
            case .floorDiv, .mod:
                guard b > 0 else { return nil }
                let q = a >= 0 ? a / b : -((-a + b - 1) / b)
                return op == .floorDiv ? q : a - q * b
            }
        }
    }

    /// With each name replaced as `map` gives it; nil where a name has no replacement.
    func substituting(_ map: [String: Sym]) -> Sym? {
        switch self {
        case .int: return self
        case .name(let n): return map[n]
        case .binary(let op, let l, let r):
            guard let a = l.substituting(map), let b = r.substituting(map) else { return nil }
            return .binary(op, a, b)
        }
    }

    var names: Set<String> {
        switch self {
        case .int: return []
        case .name(let n): return [n]
        case .binary(_, let l, let r): return l.names.union(r.names)
        }
    }

    private var precedence: Int {
        if case .binary(let op, _, _) = self { return op.precedence }
        return 3
    }

    /// Python, with each name as `rename` gives it.
    func python(_ rename: [String: String]) -> String {
        switch self {
        case .int(let n): return String(n)
        case .name(let n): return rename[n] ?? n
        case .binary(let op, let l, let r):
            let p = precedence
            let a = l.precedence < p ? "(\(l.python(rename)))" : l.python(rename)
            let b = r.precedence <= p ? "(\(r.python(rename)))" : r.python(rename)
            return "\(a) \(op.rawValue) \(b)"
        }
    }
}

/// The names a block's class is written with: its parameters' values for the use at hand, the
/// Python names of its `__init__` arguments, and which of them the class uses.
struct ClassScope {
    /// Block parameters (and the input facts channels, dim) with whole-number values.
    var env: [String: Int] = [:]
    /// The block's parameters in declaration order after the input facts not shadowed by one.
    var order: [String] = []
    var python: [String: String] = [:]
    var used: Set<String> = []
    /// Symbolic sizes of values in the class: value -> axis -> expression.
    var widths: [Int: [Int: Sym]] = [:]
}

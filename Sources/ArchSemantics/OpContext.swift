import ArchSyntax

/// A parameter (or buffer) an op declares, named relative to the layer.
public struct ParamDecl: Sendable {
    public var localName: String
    public var shape: [Int]
    public var isBuffer: Bool
    public var isInteger: Bool
    /// Shares the storage of an existing parameter (tied weights): counted once.
    public var tiedTo: Int?
    /// Named in the enclosing group when the layer is unlabelled (`mul param [96] name gamma` is
    /// `gamma`; labelled `ls1:` it is `ls1.gamma`).
    public var namedInGroup = false
}

/// What an op's rule sees and produces.
public struct OpContext {
    public let op: OpSpec
    public let args: [String: Value]
    public let argLocs: [String: SourceLoc]
    public let input: TensorType
    /// Tensors named by `.ref` arguments.
    public let refs: [String: TensorType]
    /// For `tied`: the parameters of the referenced layer (global ids and shapes).
    public let tiedCandidates: [(id: Int, name: String, shape: [Int])]
    public let label: String?
    /// How many more parameter tensors the network may declare.
    public let tensorBudget: Int
    let tensorLimit: Int

    public var output: TensorType
    public var params: [ParamDecl] = []
    public var macs: Int? = 0
    public var otherOps: Int? = 0
    public var warnings: [(String, [Diagnostic.Note], String?)] = []

    init(op: OpSpec, args: [String: Value], argLocs: [String: SourceLoc], input: TensorType,
         refs: [String: TensorType], tiedCandidates: [(id: Int, name: String, shape: [Int])], label: String?, tensorBudget: Int, tensorLimit: Int) {
        self.op = op
        self.args = args
        self.argLocs = argLocs
        self.input = input
        self.refs = refs
        self.tiedCandidates = tiedCandidates
        self.label = label
        self.tensorBudget = tensorBudget
        self.tensorLimit = tensorLimit
        self.output = input
    }

    // MARK: arguments

    public func has(_ name: String) -> Bool { args[name] != nil }

    public func int(_ name: String) -> Int {
        if case .int(let n) = args[name] { return n }
        return 0
    }
    public func optionalInt(_ name: String) -> Int? {
        if case .int(let n) = args[name] { return n }
        return nil
    }
    public func float(_ name: String) -> Double {
        switch args[name] {
        case .float(let x): return x
        case .int(let n): return Double(n)
        default: return 0
        }
    }
    public func bool(_ name: String) -> Bool {
        if case .bool(let b) = args[name] { return b }
        return false
    }
    public func word(_ name: String) -> String? {
        if case .word(let w) = args[name] { return w }
        return nil
    }
    /// A size argument spread over `n` spatial dimensions (`3` -> [3, 3]).
    public func sizes(_ name: String, _ n: Int) throws -> [Int] {
        switch args[name] {
        case .int(let v): return Array(repeating: v, count: n)
        case .list(let vs):
            let ints = vs.compactMap { if case .int(let x) = $0 { return x } else { return nil } }
            guard ints.count == vs.count else { throw OpError("\(name) must be whole numbers", argument: name) }
            if ints.count == 1 { return Array(repeating: ints[0], count: n) }
            guard ints.count == n else {
                throw OpError("\(name) \(ints.map(String.init).joined(separator: "x")) has \(ints.count) sizes but the input has \(n) spatial dimensions", argument: name)
            }
            return ints
        default: return Array(repeating: 1, count: n)
        }
    }

    // MARK: shapes

    /// A dimension that must be known (it determines a parameter's size).
    public func known(_ d: Dim, _ what: String) throws -> Int {
        guard let v = d.value else {
            throw OpError("\(op.name) needs a fixed \(what), but it is \(d)",
                          notes: [.init("bind \(d.symbols.count > 1 ? "its symbols" : "the symbol") with \(d.setHint) or use a fixed size in 'input'")])
        }
        return v
    }

    public func requireRank(_ ranks: ClosedRange<Int>, _ what: String) throws {
        guard ranks.contains(input.rank) else {
            throw OpError("\(op.name) expects \(what), but its input has shape \(describe(input.shape))")
        }
    }

    public func requireFloat() throws {
        if input.kind == .int {
            throw OpError("\(op.name) expects floating-point features, but its input holds token ids \(describe(input.shape))",
                          notes: [.init("add 'embed VOCAB DIM' to turn token ids into vectors")])
        }
    }

    // MARK: parameters and counts

    /// Checks, before a loop declares them, that `count` more tensors fit the network's budget.
    public func reserveTensors(_ count: Int, _ what: String) throws {
        if count > tensorBudget {
            throw OpError("\(what) would declare more than \(tensorLimit) parameter tensors", showsInput: false)
        }
    }

    public mutating func param(_ name: String, _ shape: [Int]) throws {
        _ = try checkedProduct(shape, "parameter count")
        params.append(ParamDecl(localName: name, shape: shape, isBuffer: false, isInteger: false))
    }
    /// A learned operand (`mul param [96, 1, 1]`): the bare tensor named by the label, or `name`
    /// under it (in the enclosing group when the layer is unlabelled).
    public mutating func learned(_ name: String, _ shape: [Int]) throws {
        _ = try checkedProduct(shape, "parameter count")
        params.append(ParamDecl(localName: name, shape: shape, isBuffer: false, isInteger: false, namedInGroup: true))
    }
    public mutating func buffer(_ name: String, _ shape: [Int], integer: Bool = false) throws {
        _ = try checkedProduct(shape, "buffer size")
        params.append(ParamDecl(localName: name, shape: shape, isBuffer: true, isInteger: integer))
    }

    /// Adds the product of the factors to the MAC count (unknown while a factor is symbolic).
    public mutating func addMACs(_ factors: [Dim]) throws {
        macs = try Self.accumulate(macs, factors)
    }
    public mutating func addOther(_ factors: [Dim]) throws {
        otherOps = try Self.accumulate(otherOps, factors)
    }
    static func accumulate(_ total: Int?, _ factors: [Dim]) throws -> Int? {
        guard let total else { return nil }
        var p = 1
        for f in factors {
            guard let v = f.value else { return nil }
            p = try checkedMul(p, v, "MAC count")
        }
        return try checkedAdd(total, p, "MAC count")
    }

    public mutating func warn(_ message: String, notes: [Diagnostic.Note] = [], argument: String? = nil) {
        warnings.append((message, notes, argument))
    }
}

/// Nearby values that satisfy a divisibility rule, for fix hints: `492, 504` for 500 and 12.
public func nearbyMultiples(of n: Int, around x: Int) -> String {
    guard n > 0 else { return "" }
    let below = (x / n) * n
    let above = below + n
    return below > 0 ? "\(below), \(above)" : "\(above)"
}

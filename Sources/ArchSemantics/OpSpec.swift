import ArchSyntax

/// The kinds of argument an op accepts.
public indirect enum ArgKind: Sendable {
    case int(min: Int)            // a whole number, at least `min`
    case size                     // a size: an integer >= 1 or `3x3`
    case padding                  // like size, but 0 is allowed
    case float(min: Double, max: Double)
    case bool                     // on / off
    case flag                     // present means on; may be followed by on / off
    case choice([String])         // one of the words
    case intOrChoice(min: Int, [String])
    case sizeOrChoice([String])   // `pad 1`, `pad 1x2`, `pad same`
    case ref                      // the label of an earlier layer or an input
    case ints                     // all remaining integers (`permute 0 2 3 1`)
    case shape                    // `196x768` or `[seq, 768]`
    case names                    // an option's words up to the next option: `names q_proj k_proj v_proj o_proj`
    case operand                  // the label of an earlier layer, or a number (`add x`, `mul 0.5`)
    case name                     // a name (`name gamma`)
    case initializer              // `zeros`, `ones`, `normal 0.02`, `uniform 0.1`, `value 1e-6`
    case axes                     // one or more dimensions (`dim 2 3`)

    public var describe: String {
        switch self {
        case .int(let m): return m <= 0 ? "an integer" : "an integer >= \(m)"
        case .size: return "a size such as 3 or 3x3"
        case .padding: return "a size such as 0, 1 or 1x2"
        case .float: return "a number"
        case .bool: return "on or off"
        case .flag: return "nothing or on/off"
        case .choice(let ws): return "one of " + ws.joined(separator: ", ")
        case .intOrChoice(_, let ws): return "an integer or one of " + ws.joined(separator: ", ")
        case .sizeOrChoice(let ws): return "a size or one of " + ws.joined(separator: ", ")
        case .ref: return "the label of an earlier layer"
        case .ints: return "integers"
        case .shape: return "a shape such as 196x768"
        case .names: return "one or more names"
        case .operand: return "the label of an earlier layer, or a number"
        case .name: return "a name"
        case .initializer: return "zeros, ones, normal STD, uniform A or value V"
        case .axes: return "one or more dimensions"
        }
    }
}

public struct ArgSpec: Sendable {
    public let name: String
    public let kind: ArgKind
    /// nil: required (positional) or absent by default (option).
    public let defaultValue: Value?
    public let doc: String
    /// A positional argument that may be left out although it has no default (`add param [96]`).
    public let optional: Bool
    public init(_ name: String, _ kind: ArgKind, _ defaultValue: Value? = nil, _ doc: String = "", optional: Bool = false) {
        self.name = name
        self.kind = kind
        self.defaultValue = defaultValue
        self.doc = doc
        self.optional = optional
    }

    /// A positional argument the line must give.
    public var isRequired: Bool { defaultValue == nil && !optional }
}

/// How an op uses braces after it.
public enum BodyKind: Sendable { case none, sequence, residual, parallel }

/// How an op's output may share storage with its first input, for the buffer planner.
public enum Storage: Sendable {
    /// A new buffer.
    case fresh
    /// The same bytes reinterpreted (flatten, reshape, dropout at inference): never copied.
    case view
    /// May overwrite its first input when nothing reads that input later (activations, norms, add).
    case inPlace
}

/// An op of the closed set: its signature, documentation and its rule, side by side.
/// The rule infers the output type, declares parameters and counts MACs and other ops.
public struct OpSpec: Sendable {
    public let kind: OpKind
    public var name: String { kind.rawValue }
    public let summary: String
    public let positional: [ArgSpec]
    public let options: [ArgSpec]
    public let body: BodyKind
    /// The op's single tensor is a bare `nn.Parameter` named by the layer's label
    /// (or this name when unlabelled), not `label.weight`.
    public let bareTensorName: String?
    /// Shape rule and parameter formula in words, for Grammar.md and `archc ops`.
    public let shapeDoc: String
    public let paramDoc: String
    /// The multiply-accumulate formula in words.
    public let macDoc: String
    public let storage: Storage
    public let rule: @Sendable (inout OpContext) throws -> Void

    public init(_ kind: OpKind, _ summary: String, positional: [ArgSpec] = [], options: [ArgSpec] = [],
                body: BodyKind = .none, bareTensorName: String? = nil,
                shape: String, params: String = "none", macs: String = "0", storage: Storage = .fresh,
                rule: @escaping @Sendable (inout OpContext) throws -> Void) {
        self.kind = kind
        self.summary = summary
        self.positional = positional
        self.options = options
        self.body = body
        self.bareTensorName = bareTensorName
        self.shapeDoc = shape
        self.paramDoc = params
        self.macDoc = macs
        self.storage = storage
        self.rule = rule
    }

    public func option(_ name: String) -> ArgSpec? { options.first { $0.name == name } }
}

/// A failure of an op's rule: the message, fix notes, and the argument it is about (for the caret).
public struct OpError: Error, Sendable {
    public var message: String
    public var notes: [Diagnostic.Note]
    public var argument: String?
    /// Whether the input's shape (and where it came from) helps explain the error.
    public var showsInput: Bool
    public init(_ message: String, notes: [Diagnostic.Note] = [], argument: String? = nil, showsInput: Bool = true) {
        self.message = message
        self.notes = notes
        self.argument = argument
        self.showsInput = showsInput
    }
}

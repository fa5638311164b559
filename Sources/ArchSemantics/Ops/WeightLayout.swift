/// How a layer's weight matrices are stored (`weights linear|conv1d` on linear, mlp and attention):
/// [out, in] as nn.Linear stores them, or [in, out] as transformers' `Conv1D` does (GPT-2's c_attn,
/// c_proj, c_fc), which computes x W + b with W as stored. The layout changes only the declared
/// shapes; the layer computes the same thing, and its parameter and MAC counts are the same.
public enum WeightLayout: String, Sendable, CaseIterable {
    case linear, conv1d

    /// The option as ops declare it (absent means linear, so checked graphs print it only when given).
    static let option = ArgSpec("weights", .choice(allCases.map(\.rawValue)), nil,
                                "how the weight matrices are stored: linear = [out, in] (nn.Linear; the default), conv1d = [in, out] (transformers' Conv1D: GPT-2)")

    /// The layout a layer's `weights` option names (linear when absent).
    public init(_ args: [String: Value]) {
        if case .word(let w)? = args["weights"], let layout = WeightLayout(rawValue: w) { self = layout } else { self = .linear }
    }

    /// A weight's shape for a projection from `inFeatures` to `out` features.
    public func shape(out: Int, in inFeatures: Int) -> [Int] {
        switch self {
        case .linear: return [out, inFeatures]
        case .conv1d: return [inFeatures, out]
        }
    }

    /// The input features of a weight of this layout (its fan-in).
    public func inFeatures(of shape: [Int]) -> Int {
        switch self {
        case .linear: return shape.dropFirst().reduce(1, *)
        case .conv1d: return shape.first ?? 1
        }
    }
}

/// The names of an MLP's two projections: fc1 and fc2 (timm's), or as `names` gives them (GPT-2's
/// `names c_fc c_proj`, dotted names being submodules).
public struct MLPNames: Sendable, Equatable {
    public var first = "fc1", second = "fc2"

    public init() {}

    /// From `names FIRST SECOND`, or the defaults.
    public init(_ names: [String]?) throws {
        guard let names else { return }
        guard names.count == 2 else {
            throw OpError("mlp has 2 projections (fc1, fc2), but 'names' lists \(names.count)",
                          notes: [.init("for example: names c_fc c_proj (GPT-2's; the defaults are fc1 fc2)")], argument: "names", showsInput: false)
        }
        guard names[0] != names[1] else {
            throw OpError("'names' lists '\(names[0])' twice; each projection needs its own name", argument: "names", showsInput: false)
        }
        (first, second) = (names[0], names[1])
    }
}

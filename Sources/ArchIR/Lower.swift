import ArchSemantics
import ArchKernels

/// Lowers a checked graph whose sizes are all bound to a program: each node becomes one or more
/// kernel calls with every size concrete and every default resolved (padding, eps, activations,
/// parameter layouts). This is the one place that reads the graph's untyped arguments; everything
/// after it is typed. Sizes are multiplied with overflow checks; a size left symbolic is an error
/// that says how to bind it.
public enum Lower {
    public static let name = "lower"

    public static func run(_ graph: Graph, threads: Int) throws -> Program {
        guard let output = graph.output else { throw IRError("the network has no output") }
        var lowering = Lowering(program: Program(name: graph.modelName, graph: graph, values: try values(of: graph), steps: [], constants: [],
                                                 inputs: graph.inputs, output: output, threads: max(1, threads)))
        for (i, node) in graph.nodes.enumerated() {
            lowering.node = i
            try lowering.lower(node)
        }
        lowering.program.passes = [name]
        return lowering.program
    }

    /// The graph's values with their sizes bound.
    static func values(of graph: Graph) throws -> [Program.Value] {
        var values: [Program.Value] = []
        values.reserveCapacity(graph.values.count)
        for (v, t) in graph.values.enumerated() {
            var shape: [Int] = []
            var count = 1
            for d in t.shape {
                guard let n = d.value else {
                    let place = graph.node(producing: v).map { "%\(v) (\($0.op) at \($0.loc.description))" }
                        ?? graph.inputs.first { $0.value == v }.map { "input '\($0.name)'" } ?? "%\(v)"
                    throw IRError("the size \(d) of \(place) is not bound",
                                  notes: ["bind it with --set \(d.symbols.first ?? "NAME")=N, or from an input file's shape"])
                }
                let (product, overflow) = count.multipliedReportingOverflow(by: n)
                guard !overflow, n >= 0 else { throw IRError("%\(v) has \(t.shape) elements: more than this machine can address") }
                count = product
                shape.append(n)
            }
            values.append(Program.Value(shape: shape, buffer: nil))
        }
        return values
    }
}

/// The state of lowering: the program so far, the node being lowered, and one constant per
/// parameter used.
struct Lowering {
    var program: Program
    var node = 0
    var parameterConstants: [Int: Int] = [:]
    var derivedConstants: [Recipe: Int] = [:]

    var graph: Graph { program.graph }
    var current: Graph.Node { graph.nodes[node] }

    mutating func emit(_ kind: KernelCall) { program.steps.append(Program.Step(kind, node: node)) }

    /// A new value for a tensor inside a layer.
    mutating func value(_ shape: [Int]) -> Int { program.addValue(shape) }

    func shape(_ v: Int) -> [Int] { program.values[v].shape }
    func count(_ v: Int) -> Int { program.values[v].count }

    /// The constant holding a parameter as the weights file stores it (one per parameter).
    mutating func parameter(_ id: Int) -> Int {
        if let c = parameterConstants[id] { return c }
        let p = graph.params[id]
        program.constants.append(ConstantSpec(name: p.name, count: p.count, recipe: .parameter(id)))
        parameterConstants[id] = program.constants.count - 1
        return program.constants.count - 1
    }

    /// The current node's parameter named `suffix` (`weight`, `fc1.bias`; or the bare tensor for ""), if it has one.
    mutating func param(_ suffix: String) -> Int? {
        let n = current
        // The layer's own tensor of that name first (projections may be named `a.q` and `q`), then any ending so.
        let full = (n.path + [suffix]).joined(separator: ".")
        let id = suffix.isEmpty ? n.params.first
            : n.params.first { graph.params[$0].name == full }
            ?? n.params.first { graph.params[$0].name == suffix || graph.params[$0].name.hasSuffix("." + suffix) }
        return id.map { parameter($0) }
    }

    /// A parameter the op always declares.
    mutating func required(_ suffix: String) throws -> Int {
        guard let c = param(suffix) else {
            throw IRError("internal error: '\(current.path.joined(separator: "."))' has no parameter '\(suffix)'",
                          notes: ["this is a bug in archc; please report it with the spec"])
        }
        return c
    }

    /// A constant made by `recipe` (the same recipe twice is one constant).
    mutating func derived(_ name: String, count: Int, _ recipe: Recipe) -> Int {
        if let i = derivedConstants[recipe] { return i }
        program.constants.append(ConstantSpec(name: name, count: count, recipe: recipe))
        derivedConstants[recipe] = program.constants.count - 1
        return program.constants.count - 1
    }

    /// Constants one after the other (q, k and v weights as one), or the one constant itself.
    mutating func concatenated(_ parts: [Int], name: String) -> Int {
        if parts.count == 1 { return parts[0] }
        return derived(name, count: parts.reduce(0) { $0 + program.constants[$1].count }, .concat(parts))
    }

    mutating func lower(_ n: Graph.Node) throws {
        switch n.op {
        case .linear: try lowerLinear(n)
        case .embed: try lowerEmbedding(n)
        case .mlp: try lowerMLP(n)
        case .swiglu: try swiglu(n.inputs[0], names: SwiGLUNames(n.args["names"]?.words), hidden: n.int("hidden")!, into: n.output)
        case .moe: try lowerMoE(n)
        case .conv: try lowerConv(n)
        case .convt: try lowerConvTranspose(n)
        case .patch: try lowerPatch(n)
        case .maxpool, .avgpool: lowerPool(n)
        case .adaptive_avgpool, .adaptive_maxpool, .globalpool: lowerAdaptivePool(n)
        case .upsample: lowerUpsample(n)
        case .batchnorm: try lowerBatchnorm(n)
        case .layernorm, .rmsnorm: lowerRowNorm(n)
        case .groupnorm: lowerGroupNorm(n)
        case .relu, .relu6, .gelu, .silu, .sigmoid, .tanh, .hardswish:
            let a = Self.activation(of: n.op, approximate: n.word("approx") == "tanh")!
            emit(.activation(ActivationCall(count: count(n.output), activation: a, input: n.inputs[0], output: n.output)))
        case .softmax: lowerSoftmax(n)
        case .identity, .dropout, .flatten, .reshape:
            emit(.view(ViewCall(input: n.inputs[0], output: n.output)))
        case .transpose, .permute: lowerPermute(n)
        case .pos: try lowerPositions(n)
        case .cls:
            let s = shape(n.inputs[0])
            emit(.prependToken(PrependTokenCall(batch: s[0], tokens: s[1], width: s[2], token: try required(""), input: n.inputs[0], output: n.output)))
        case .take: lowerTake(n)
        case .sum, .mean, .max: lowerReduction(n)
        case .slice, .index: lowerSlice(n)
        case .view: emit(.view(ViewCall(input: n.inputs[0], output: n.output)))
        case .unfold, .fold: lowerBlocks(n)
        case .attention: try n.args["window"] == nil ? lowerAttention(n) : lowerWindowAttention(n)
        case .sgu: try lowerSpatialGating(n)
        case .patchmerge: try lowerPatchMerge(n)
        case .rnn, .lstm, .gru: try lowerRecurrent(n)
        case .add: lowerArithmetic(n, .add)
        case .sub: lowerArithmetic(n, .sub)
        case .mul: lowerArithmetic(n, .mul)
        case .div: lowerArithmetic(n, .div)
        case .rsub: lowerArithmetic(n, .rsub)
        case .concat: lowerConcat(n)
        case .seq, .residual, .parallel:
            throw IRError("internal error: a '\(n.op)' node reached lowering", notes: ["this is a bug in archc; please report it with the spec"])
        }
    }
}

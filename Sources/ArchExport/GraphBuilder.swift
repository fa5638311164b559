/// Builds an ONNX graph node by node: every tensor gets a unique name (the layer's own name for
/// its output, `layer/Op` for the tensors inside it), small constants are shared by value, and
/// each node carries the spec line of the layer it comes from.
struct GraphBuilder {
    var graph: GraphProto
    /// The layer being exported: names its inner tensors and nodes.
    var scope = ""
    /// The layer's place in the spec (`resnet18.arch:12`), the doc string of its nodes.
    var doc = ""
    private var used: Set<String> = []
    private var constants: [TensorProto.Data: String] = [:]
    private var shapes: [TensorProto.Data: [Int]] = [:]

    init(name: String) { graph = GraphProto(name: name) }

    /// `base`, or `base_1`, `base_2`, ... if taken.
    mutating func unique(_ base: String) -> String {
        let stem = base.isEmpty ? "tensor" : base
        if used.insert(stem).inserted { return stem }
        var k = 1
        while !used.insert("\(stem)_\(k)").inserted { k += 1 }
        return "\(stem)_\(k)"
    }

    /// Adds a node; returns its outputs, named `out` (the first) or `scope/Op`.
    @discardableResult
    mutating func add(_ opType: String, _ inputs: [String], _ attributes: [AttributeProto] = [], outputs: Int = 1, out: String? = nil)
        -> [String] {
        let base = out ?? unique("\(scope)/\(opType)")
        var names = [base]
        for k in 1..<max(outputs, 1) { names.append(unique("\(base):\(k)")) }
        graph.nodes.append(NodeProto(opType, inputs: inputs, outputs: names, name: base, attributes: attributes, docString: doc))
        return names
    }

    /// Adds a node with one output.
    @discardableResult
    mutating func op(_ opType: String, _ inputs: [String], _ attributes: [AttributeProto] = [], out: String? = nil) -> String {
        add(opType, inputs, attributes, out: out)[0]
    }

    /// Adds an initializer under a unique name made from `name`.
    mutating func initializer(_ name: String, dims: [Int], _ data: TensorProto.Data) -> String {
        let n = unique(name)
        graph.initializers.append(TensorProto(name: n, dims: dims, data: data))
        return n
    }

    /// Adds an initializer under a name reserved for it (a parameter, named as in the weights file).
    mutating func initializer(reserved name: String, dims: [Int], _ data: TensorProto.Data) {
        graph.initializers.append(TensorProto(name: name, dims: dims, data: data))
    }

    /// A constant tensor shared by every node that uses the same values and shape.
    mutating func constant(_ data: TensorProto.Data, dims: [Int], name: String) -> String {
        if let n = constants[data], shapes[data] == dims { return n }
        let n = initializer(name, dims: dims, data)
        if constants[data] == nil {
            constants[data] = n
            shapes[data] = dims
        }
        return n
    }

    /// A 1-d int64 constant (shapes, axes, indices).
    mutating func ints(_ values: [Int]) -> String {
        let text = values.count <= 8 ? values.map(String.init).joined(separator: ",") : "\(values.count) ints"
        return constant(.int64s(values.map(Int64.init)), dims: [values.count], name: "const[\(text)]")
    }

    /// A 0-d int64 constant (a Gather index that drops the axis).
    mutating func intScalar(_ value: Int) -> String {
        constant(.int64s([Int64(value)]), dims: [], name: "const(\(value))")
    }

    /// A 0-d float constant.
    mutating func scalar(_ value: Float) -> String {
        constant(.floats([value]), dims: [], name: "const(\(value))")
    }

    /// A float constant of any shape, named after the layer (tables, masks).
    mutating func floats(_ values: [Float], dims: [Int], name: String) -> String {
        constant(.floats(values), dims: dims, name: name)
    }

    mutating func input(_ info: ValueInfoProto) { graph.inputs.append(info) }
    mutating func output(_ info: ValueInfoProto) { graph.outputs.append(info) }
    mutating func annotate(_ info: ValueInfoProto) { graph.valueInfo.append(info) }
    mutating func reserve(_ name: String) -> String { unique(name) }

    /// Gives `y`, the last node's output, the name `out` (a layer's output), or copies it there.
    mutating func finish(_ y: String, as out: String) {
        guard let last = graph.nodes.indices.last, graph.nodes[last].outputs.first == y, !graph.inputs.contains(where: { $0.name == y }) else {
            op("Identity", [y], out: out)
            return
        }
        graph.nodes[last].outputs[0] = out
        graph.nodes[last].name = out
    }
}

/// Attribute shorthands.
extension AttributeProto {
    static func i(_ name: String, _ v: Int) -> AttributeProto { AttributeProto(name, .int(Int64(v))) }
    static func f(_ name: String, _ v: Float) -> AttributeProto { AttributeProto(name, .float(v)) }
    static func s(_ name: String, _ v: String) -> AttributeProto { AttributeProto(name, .string(v)) }
    static func ints(_ name: String, _ v: [Int]) -> AttributeProto { AttributeProto(name, .ints(v.map(Int64.init))) }
    static func strings(_ name: String, _ v: [String]) -> AttributeProto { AttributeProto(name, .strings(v)) }
}

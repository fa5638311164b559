import ArchCore
import ArchSemantics

/// A problem exporting a network: the message and fix notes.
public typealias ExportError = ArchCore.ToolError

/// Exports a checked graph as an ONNX model (opset 18): each layer becomes standard ONNX ops whose
/// output tensor carries the layer's name (`layer1.0.conv1`), the tensors inside a layer are named
/// `layer/Op`, and the weights are initializers named as in the weights file. Sizes the graph keeps
/// symbolic (`--dynamic batch`) stay symbolic: reshapes copy them (0), infer them (-1) or read them
/// from a tensor's shape, so the model runs at any size.
///
/// The export reads the checked graph, not the lowered program: the graph keeps the symbolic sizes,
/// the layers as the user wrote them (a batchnorm stays a BatchNormalization rather than being
/// folded into its convolution) and their names. `Exporter.export(_:)` switches over every op.
public enum ONNXExport {
    public static let opset: Int64 = 18
    /// ONNX 1.13's IR version, the first with opset 18.
    public static let irVersion: Int64 = 8
    /// Protocol Buffers cannot hold a message of 2 GB or more (ONNX's external data is not written).
    public static let maxModelBytes = Int(Int32.max)

    public struct Options: Sendable {
        /// `archc 0.1.0`'s version part.
        public var producerVersion: String
        /// What the model was made from (`specs/resnet18.arch`, weights), for the model's doc string.
        public var source: String
        public init(producerVersion: String, source: String) {
            self.producerVersion = producerVersion
            self.source = source
        }
    }

    /// The model of `graph`, with `weights` (per graph parameter its floats; nil for integer buffers
    /// such as Swin's relative position index, which archc computes) as initializers.
    public static func model(of graph: Graph, weights: [[Float]?], options: Options) throws -> ModelProto {
        guard weights.count == graph.params.count else {
            throw ExportError("internal error: \(weights.count) weights for \(graph.params.count) parameters",
                              notes: ["this is a bug in archc; please report it with the spec"])
        }
        var e = Exporter(graph: graph, weights: weights)
        var model = ModelProto(irVersion: irVersion, opsets: [OperatorSetIdProto(version: opset)], producerName: "archc",
                               producerVersion: options.producerVersion, graph: try e.run())
        model.docString = "\(graph.modelName), exported by archc from \(options.source)"
        return model
    }

    /// The model's bytes, refused past Protocol Buffers' 2 GB.
    public static func serialize(_ model: ModelProto) throws -> [UInt8] {
        let size = ProtoWriter.size(of: model)
        guard size <= maxModelBytes else {
            throw ExportError("the model is \(size) bytes; an ONNX file holds at most 2 GB (\(maxModelBytes) bytes)",
                              notes: ["keep the weights in a file beside it (--external-data)"])
        }
        return ProtoWriter.encode(model)
    }

    /// Whether the model needs its weights in a file beside it: Protocol Buffers' 2 GB, with room for the graph.
    public static func needsExternalData(_ model: ModelProto) -> Bool {
        ProtoWriter.size(of: model) > maxModelBytes - (64 << 20)
    }

    /// Offsets in the external data file are multiples of this (a page: ONNX Runtime may map the file).
    public static let externalAlignment = 4096

    /// Moves every initializer of at least `threshold` bytes to the external data file `location`
    /// (a name beside the model), one after the other at aligned offsets. Returns them in file order.
    public static func externalize(_ model: inout ModelProto, location: String, threshold: Int = 1024) -> [TensorProto] {
        var offset = 0, moved: [TensorProto] = []
        for i in model.graph.initializers.indices where model.graph.initializers[i].byteCount >= threshold {
            let length = model.graph.initializers[i].byteCount
            model.graph.initializers[i].external = TensorProto.ExternalData(location: location, offset: offset, length: length)
            moved.append(model.graph.initializers[i])
            offset = (offset + length + externalAlignment - 1) / externalAlignment * externalAlignment
        }
        return moved
    }
}

/// The state of one export: the graph, its weights, the ONNX graph so far and each value's tensor.
struct Exporter {
    let graph: Graph
    let weights: [[Float]?]
    var b: GraphBuilder
    /// Per graph value, its ONNX tensor (once computed).
    var names: [String?]
    /// Per graph parameter, its initializer (once used), and the name kept for it.
    var params: [Int: String] = [:]
    var reservedParams: [String] = []
    /// Derived tensors shared between layers: transposed weights, masks, sizes read at run time.
    var shared: [String: String] = [:]
    /// The node being exported and its output's name.
    var node = 0
    var out = ""

    init(graph: Graph, weights: [[Float]?]) {
        self.graph = graph
        self.weights = weights
        b = GraphBuilder(name: graph.modelName.isEmpty ? "model" : graph.modelName)
        names = Array(repeating: nil, count: graph.values.count)
    }

    var current: Graph.Node { graph.nodes[node] }

    mutating func run() throws -> GraphProto {
        for (name, v) in graph.inputs {
            let n = b.reserve(name)
            names[v] = n
            b.input(valueInfo(n, v))
        }
        // Parameters keep the weights file's names: a layer named like its own tensor (`class_token:
        // cls token`) gets `class_token_1` for its output instead.
        reservedParams = graph.params.map { b.reserve($0.name) }
        for (i, n) in graph.nodes.enumerated() {
            node = i
            let path = n.path.joined(separator: ".")
            b.scope = path.isEmpty ? "\(n.op)" : path
            b.doc = "\(n.op) at \(n.loc.description)"
            out = b.reserve(b.scope)
            try export(n)
            guard b.graph.nodes.last?.outputs.first == out else {
                throw ExportError("internal error: the export of '\(n.op)' at \(n.loc.description) does not end in its output",
                                  notes: ["this is a bug in archc; please report it with the spec"])
            }
            names[n.output] = out
            b.annotate(valueInfo(out, n.output))
        }
        guard let output = graph.output, let name = names[output] else { throw ExportError("the network has no output") }
        if graph.inputs.contains(where: { $0.value == output }) {
            // An output must be computed: a network that is all views of its input passes it through.
            b.scope = "output"
            b.doc = ""
            let copy = b.op("Identity", [name], out: b.reserve("output"))
            b.output(valueInfo(copy, output))
        } else {
            b.output(valueInfo(name, output))
            b.graph.valueInfo.removeAll { $0.name == name }
        }
        return b.graph
    }

    /// A value's element type and shape, symbolic sizes as names (`batch`, `seq+1`).
    func valueInfo(_ name: String, _ v: Int) -> ValueInfoProto {
        let t = graph.values[v]
        let dims = t.shape.map { d in d.value.map { TensorShapeProto.Dimension.value(Int64($0)) } ?? .param(d.description) }
        return ValueInfoProto(name: name, type: TypeProto(t.kind == .int ? .int64 : .float, TensorShapeProto(dims)))
    }

    /// The ONNX tensor of a graph value computed earlier.
    func name(_ v: Int) throws -> String {
        guard let n = names[v] else {
            throw ExportError("internal error: %\(v) is used before it is computed", notes: ["this is a bug in archc; please report it with the spec"])
        }
        return n
    }

    /// The node's first input.
    func input(_ n: Graph.Node) throws -> String { try name(n.inputs[0]) }

    func shape(_ v: Int) -> [Dim] { graph.values[v].shape }

    /// The sizes of a value from dimension `first` on (the batch may stay symbolic), or an error
    /// naming the layer that needs them known.
    func known(_ v: Int, _ what: String, from first: Int = 1) throws -> [Int] {
        let s = Array(shape(v).dropFirst(first))
        guard let d = s.first(where: { $0.value == nil }) else { return s.map { $0.value! } }
        throw ExportError("\(current.op) at \(current.loc.description) needs \(what) known, but the input is \(describe(shape(v)))",
                          notes: ["bind \(d.symbols.joined(separator: " and ")) with \(d.setHint) instead of keeping \(d.symbols.count == 1 ? "it" : "them") symbolic with --dynamic"])
    }

    /// An argument the op always has (the binder fills in defaults and requires the rest).
    func arg<T>(_ value: T?, _ name: String) throws -> T {
        guard let value else {
            throw ExportError("internal error: \(current.op) at \(current.loc.description) has no argument '\(name)'",
                              notes: ["this is a bug in archc; please report it with the spec"])
        }
        return value
    }

    /// The current layer's parameter named `suffix` (`weight`, `fc1.bias`; "" for the layer's bare tensor), as an initializer.
    mutating func param(_ suffix: String) -> String? {
        let n = current
        let id = suffix.isEmpty ? n.params.first
            : n.params.first { graph.params[$0].name == suffix || graph.params[$0].name.hasSuffix("." + suffix) }
        return id.map { initializer($0) }
    }

    /// A parameter the op always declares.
    mutating func required(_ suffix: String) throws -> String {
        guard let p = param(suffix) else {
            throw ExportError("internal error: '\(current.path.joined(separator: "."))' has no parameter '\(suffix)'",
                              notes: ["this is a bug in archc; please report it with the spec"])
        }
        return p
    }

    /// The initializer of a graph parameter, added the first time a layer uses it (tied weights once).
    mutating func initializer(_ id: Int) -> String {
        if let n = params[id] { return n }
        let p = graph.params[id]
        let data: TensorProto.Data = weights[id].map { .floats($0) } ?? .int64s(integerBuffer(p))
        let n = reservedParams[id]
        b.initializer(reserved: n, dims: p.shape, data)
        params[id] = n
        return n
    }

    /// An integer buffer's values: Swin's relative position index is archc's own (as `archc run` uses
    /// it); BatchNorm's step count is never read.
    func integerBuffer(_ p: Graph.Param) -> [Int64] {
        if p.name.hasSuffix("relative_position_index"), case .int(let w)? = graph.nodes[p.node].args["window"] {
            return WindowIndex.relativePositionIndex(window: w)
        }
        return Array(repeating: 0, count: p.count)
    }
}

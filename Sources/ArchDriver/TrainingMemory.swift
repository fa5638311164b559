import ArchSemantics

/// A size the training figures need is unbound, or a figure overflows.
public enum TrainingMemoryError: Error, Equatable {
    case unbound([String])
}

/// What `archc params --train` plans for: the element type and the optimizer.
public struct TrainingOptions: Sendable, Equatable {
    /// What weights, gradients, optimizer state and activations are stored in (`model.to(dtype)`).
    public enum DType: String, CaseIterable, Sendable {
        case f32, bf16, f16
        public var bytes: Int { self == .f32 ? 4 : 2 }
        public var torchName: String { ["f32": "torch.float32", "bf16": "torch.bfloat16", "f16": "torch.float16"][rawValue]! }
    }

    /// The optimizer, and the state torch.optim keeps per parameter (in the parameter's dtype).
    public enum Optimizer: String, CaseIterable, Sendable {
        case adamw, sgd, sgdMomentum = "sgd-momentum", none
        public var statesPerParameter: Int {
            switch self {
            case .adamw: return 2
            case .sgdMomentum: return 1
            case .sgd, .none: return 0
            }
        }
        public var title: String {
            switch self {
            case .adamw: return "AdamW"
            case .sgdMomentum: return "SGD with momentum"
            case .sgd: return "SGD"
            case .none: return "no optimizer"
            }
        }
        /// The state tensors per parameter, as torch.optim names them.
        public var stateNames: [String] {
            switch self {
            case .adamw: return ["exp_avg", "exp_avg_sq"]
            case .sgdMomentum: return ["momentum_buffer"]
            case .sgd, .none: return []
            }
        }
    }

    public var dtype: DType
    public var optimizer: Optimizer
    public init(dtype: DType = .f32, optimizer: Optimizer = .adamw) {
        self.dtype = dtype
        self.optimizer = optimizer
    }
}

/// Training memory: weights, buffers, gradients, optimizer state and the activations autograd saves
/// for the backward pass, per module of the graph (the rows of `params`) and in total. Every sum is
/// overflow-checked.
public struct TrainingMemory {
    public struct Figures: Equatable, Sendable {
        public var weights = 0, buffers = 0, gradients = 0, optimizer = 0, saved = 0
        public func total() throws -> Int {
            try checkedSum([weights, buffers, gradients, optimizer, saved], "training memory")
        }
    }

    /// A saved tensor as counted: the node that saved it first, its storage's shape and bytes.
    public struct Saved: Sendable {
        public var node: Int
        public var tensor: SavedTensor
        public var bytes: Int
    }

    public let options: TrainingOptions
    public private(set) var total = Figures()
    /// Parallel to `graph.modules` (the rows of the params table).
    public private(set) var layers: [Figures] = []
    public private(set) var saved: [Saved] = []
    /// Parameter tensors: AdamW keeps a 4-byte `step` for each (on the host).
    public private(set) var parameterTensors = 0

    public init(_ g: Graph, options: TrainingOptions) throws {
        self.options = options
        var symbols = Set<String>()
        for v in g.values { for d in v.shape { symbols.formUnion(d.symbols) } }
        if !symbols.isEmpty { throw TrainingMemoryError.unbound(symbols.sorted()) }
        let perNode = try savedPerNode(g)
        var nodeFigures: [Figures] = []
        for (i, n) in g.nodes.enumerated() {
            var f = try parameterFigures(g, n)
            f.saved = perNode[i]
            nodeFigures.append(f)
            total = try add(total, f)
        }
        parameterTensors = g.params.filter { !$0.isBuffer }.count
        for m in g.modules {
            layers.append(try nodeFigures[m.nodes].reduce(Figures()) { try add($0, $1) })
        }
    }

    func add(_ a: Figures, _ b: Figures) throws -> Figures {
        Figures(weights: try checkedAdd(a.weights, b.weights, "training memory"), buffers: try checkedAdd(a.buffers, b.buffers, "training memory"),
                gradients: try checkedAdd(a.gradients, b.gradients, "training memory"),
                optimizer: try checkedAdd(a.optimizer, b.optimizer, "training memory"), saved: try checkedAdd(a.saved, b.saved, "training memory"))
    }

    /// A node's own parameters and buffers (tied weights count at their owner), their gradients and optimizer state.
    func parameterFigures(_ g: Graph, _ n: Graph.Node) throws -> Figures {
        var f = Figures()
        for id in n.ownParams {
            let p = g.params[id]
            if p.isBuffer {
                f.buffers = try checkedAdd(f.buffers, try checkedMul(p.count, p.isInteger ? 8 : options.dtype.bytes, "training memory"), "training memory")
            } else {
                f.weights = try checkedAdd(f.weights, try checkedMul(p.count, options.dtype.bytes, "training memory"), "training memory")
            }
        }
        f.gradients = f.weights
        f.optimizer = try checkedMul(f.weights, options.optimizer.statesPerParameter, "training memory")
        return f
    }

    /// Runs the per-op rule over the graph in order: follows which values are views of which (a saved
    /// view keeps its base's storage), which ones autograd tracks, and counts each storage once, at the
    /// first node that saves it.
    mutating func savedPerNode(_ g: Graph) throws -> [Int] {
        var base = Array(0..<g.values.count)
        var layout = [TensorLayout](repeating: .contiguous, count: g.values.count)
        var tracked = [Bool](repeating: false, count: g.values.count)
        var seen = Set<SavedTensor.Storage>()
        var perNode = [Int](repeating: 0, count: g.nodes.count)
        for (i, n) in g.nodes.enumerated() {
            let grads = n.inputs.map { tracked[$0] }
            tracked[n.output] = grads.contains(true) || n.params.contains { !g.params[$0].isBuffer }
            var rule = SavedForBackward(graph: g, node: i, inputLayout: n.inputs.map { layout[$0] }, inputRequiresGrad: grads)
            try rule.run(lowPrecision: options.dtype != .f32)
            if rule.effect.view, let first = n.inputs.first { base[n.output] = base[first] }
            layout[n.output] = rule.effect.layout
            // Nothing is recorded for an op none of whose inputs or parameters needs a gradient.
            guard tracked[n.output] else { continue }
            for var t in rule.effect.saved {
                if case .value(let v) = t.storage {
                    t.storage = .value(base[v])
                    t.shape = try rule.shape(base[v])
                    t.element = g.values[base[v]].kind == .int ? .int64 : .activation
                }
                guard seen.insert(t.storage).inserted else { continue }
                let bytes = try checkedMul(try checkedProduct(t.shape, "saved tensor size"), size(t.element), "saved tensor size")
                perNode[i] = try checkedAdd(perNode[i], bytes, "saved activations")
                saved.append(Saved(node: i, tensor: t, bytes: bytes))
            }
        }
        return perNode
    }

    public func size(_ e: SavedTensor.Element) -> Int {
        switch e {
        case .activation: return options.dtype.bytes
        case .f32: return 4
        case .int64: return 8
        case .bool: return 1
        }
    }
}

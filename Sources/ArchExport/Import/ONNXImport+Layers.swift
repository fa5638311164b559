/// Each supported node (or group of nodes) as a layer line, and its weights under the line's names.
extension ONNXImport {
    /// Every op type the importer reads (alone, or inside a pattern: Erf and Div in GELU's formula).
    static let known: Set<String> = [
        "Conv", "ConvTranspose", "Gemm", "MatMul", "Add", "Mul", "Sum", "Concat", "BatchNormalization", "LayerNormalization",
        "Relu", "Sigmoid", "Tanh", "HardSwish", "Clip", "Softmax", "MaxPool", "AveragePool", "GlobalAveragePool", "GlobalMaxPool",
        "Flatten", "Reshape", "Transpose", "Dropout", "Identity", "Resize", "Gelu", "Erf", "Div", "Constant",
        "Sub", "ReduceSum", "ReduceMean", "ReduceMax", "Slice", "Gather",
    ]

    func attribute(_ n: NodeProto, _ name: String) -> AttributeProto.Value? { n.attributes.first { $0.name == name }?.value }
    func int(_ n: NodeProto, _ name: String, _ d: Int) -> Int { if case .int(let v)? = attribute(n, name) { return Int(v) } else { return d } }
    func ints(_ n: NodeProto, _ name: String) -> [Int]? { if case .ints(let v)? = attribute(n, name) { return v.map(Int.init) } else { return nil } }
    func float(_ n: NodeProto, _ name: String, _ d: Float) -> Float { if case .float(let v)? = attribute(n, name) { return v } else { return d } }

    func unsupported(_ n: NodeProto, _ why: String) -> ExportError {
        ExportError("\(source): node '\(n.name)' (\(n.opType)) \(why)", notes: ["archc imports the ops it has; write this layer by hand"])
    }

    /// The values of a constant input, if it is one.
    func constant(_ name: String?) -> [Float]? {
        guard let name, let t = constants[name] else { return nil }
        switch t.data {
        case .floats(let v): return v
        case .int64s(let v): return v.map(Float.init)
        }
    }

    /// A size written as the language writes it: `3` or `3x5`.
    static func size(_ v: [Int]) -> String { Set(v).count == 1 ? String(v[0]) : v.map(String.init).joined(separator: "x") }

    /// The label of a layer with weights: the weight's name without `.weight`, else the node's output.
    mutating func label(_ n: NodeProto, weight: String) -> String {
        let base = weight.hasSuffix(".weight") ? String(weight.dropLast(7)) : Self.moduleName(n) ?? n.outputs.first ?? n.name
        // PyTorch's nn.Sequential names its layers 0, 1, ...: a whole number is a label too.
        return unique(base.allSatisfy(\.isASCIIDigitCharacter) && !base.isEmpty ? base : Self.name(base, fallback: "layer"))
    }

    /// The module a node of a PyTorch export comes from: its scopes name each module by its parent's
    /// last name and its own (`/layer1/layer1.0/conv1/Conv`, `/features/features.1/conv/conv.0/conv.0.0/Conv`),
    /// so `layer1.0.conv1`, `features.1.conv.0.0`.
    static func moduleName(_ n: NodeProto) -> String? {
        let parts = n.name.split(separator: "/").map(String.init)
        guard n.name.hasPrefix("/"), parts.count >= 2 else { return nil }
        var path: [String] = []
        for p in parts.dropLast() {
            if let last = path.last, p.hasPrefix(last + ".") { path[path.count - 1] = p } else { path.append(p) }
        }
        return path.joined(separator: ".")
    }

    /// Records a weight under `label.suffix`.
    mutating func keep(_ label: String, _ suffix: String, _ name: String, transposed: Bool = false) throws {
        guard let t = constants[name], case .floats(let v) = t.data else { throw ExportError("\(source): the weight '\(name)' is not a floating-point constant") }
        let dims = t.dims.map(Int.init)
        if transposed, dims.count == 2 {
            let (r, c) = (dims[0], dims[1])
            tensors.append(("\(label).\(suffix)", [c, r], (0..<(r * c)).map { v[($0 % r) * c + $0 / r] }))
        } else {
            tensors.append(("\(label).\(suffix)", dims, v))
        }
    }

    /// Symmetric padding, or an error.
    func pads(_ n: NodeProto, spatial: Int) throws -> [Int] {
        guard attribute(n, "auto_pad").map({ $0 == .string("NOTSET") }) ?? true else {
            throw unsupported(n, "uses auto_pad; archc imports explicit padding")
        }
        let p = ints(n, "pads") ?? Array(repeating: 0, count: 2 * spatial)
        guard p.count == 2 * spatial, Array(p[..<spatial]) == Array(p[spatial...]) else { throw unsupported(n, "pads its sides unevenly (\(p))") }
        return Array(p[..<spatial])
    }

    /// Groups of nodes that are one layer: a MatMul and its bias, GELU's formula, x * sigmoid(x).
    mutating func pattern(_ n: NodeProto) throws -> (String, String)? {
        let data = dataInputs(n)
        if n.opType == "Add", data.count == 1, let mm = producer[data[0]].map({ model.nodes[$0] }), mm.opType == "MatMul",
           let bias = n.inputs.first(where: { constants[$0] != nil }), dataInputs(mm).count == 1, let w = mm.inputs.last, constants[w] != nil {
            return try linear(mm, weight: w, bias: bias, transposed: true)
        }
        if n.opType == "Mul", data.count == 2, let x = data.first(where: { d in data.contains { producer[$0].map { model.nodes[$0].opType == "Sigmoid" && dataInputs(model.nodes[$0]) == [d] } ?? false } }) {
            return ("silu", x)
        }
        if let x = gelu(n) { return ("gelu", x) }
        return nil
    }

    /// x of 0.5 x (1 + erf(x / sqrt 2)), in PyTorch's order ((x (erf(x / c) + 1)) 0.5) or archc's ((x 0.5) (erf(x c) + 1)).
    func gelu(_ n: NodeProto) -> String? {
        func node(_ t: String) -> NodeProto? { producer[t].map { model.nodes[$0] } }
        func erfOf(_ t: String) -> String? {
            guard let add = node(t), add.opType == "Add", let erf = dataInputs(add).first.flatMap(node), erf.opType == "Erf",
                  let scaled = dataInputs(erf).first.flatMap(node), ["Div", "Mul"].contains(scaled.opType) else { return nil }
            return dataInputs(scaled).first
        }
        guard n.opType == "Mul" else { return nil }
        let data = dataInputs(n)
        if data.count == 1, let inner = node(data[0]), inner.opType == "Mul" {
            let d = dataInputs(inner)
            if d.count == 2, let x = d.first(where: { erfOf(d[0] == $0 ? d[1] : d[0]) == $0 }) { return x }
        }
        if data.count == 2, let half = data.first(where: { node($0)?.opType == "Mul" }), let x = dataInputs(node(half)!).first,
           erfOf(data[0] == half ? data[1] : data[0]) == x { return x }
        return nil
    }

    mutating func linear(_ n: NodeProto, weight: String, bias: String?, transposed: Bool) throws -> (String, String) {
        guard let dims = constants[weight]?.dims, dims.count == 2 else { throw unsupported(n, "multiplies by something other than a matrix of weights") }
        let label = label(n, weight: weight)
        try keep(label, "weight", weight, transposed: transposed)
        if let bias { try keep(label, "bias", bias) }
        return ("\(label): linear \(transposed ? dims[1] : dims[0])\(bias == nil ? " bias off" : "")", dataInputs(n)[0])
    }
}

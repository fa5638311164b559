/// `archc import onnx`: an ONNX graph of supported ops as a spec, with its weights under the names
/// the spec gives them. The graph is read from its output back to its input: each node becomes a
/// layer line (a MatMul and its bias add one `linear`, the Erf form of GELU one `gelu`); an add of two
/// branches from one tensor becomes `residual { ... } shortcut { ... }`; an add, mul or concat with a
/// tensor computed earlier on the way becomes `add LABEL` (`mul`, `concat`). Layers with weights are
/// labelled by their weights' names (`layer1.0.conv1.weight` -> `layer1.0.conv1:`), so a model archc
/// exported comes back with its parameter names. Ops with no archc counterpart are errors naming
/// every such node.
public struct ONNXImport {
    public struct Result {
        public var spec: String
        /// The weights by the spec's names: shape and values.
        public var tensors: [(name: String, shape: [Int], values: [Float])]
    }

    let model: DecodedModel
    /// Per tensor, the node that makes it.
    var producer: [String: Int] = [:]
    /// Constants: initializers and the outputs of Constant nodes.
    var constants: [String: TensorProto]
    /// Per tensor already given a line, the label a later line refers to it by.
    var labels: [String: String] = [:]
    /// Labels given to layers without weights in case a later line refers to them, and those referred to.
    var provisional: Set<String> = [], referenced: Set<String> = []
    /// Per tensor, how many nodes read it.
    var consumers: [String: Int] = [:]
    var usedLabels: Set<String> = []
    var tensors: [(name: String, shape: [Int], values: [Float])] = []
    var source: String

    public static func spec(from model: DecodedModel, modelName: String, source: String) throws -> Result {
        var importer = ONNXImport(model: model, constants: model.initializers, source: source)
        return try importer.run(modelName: modelName)
    }

    mutating func run(modelName: String) throws -> Result {
        for (i, n) in model.nodes.enumerated() {
            for o in n.outputs where !o.isEmpty { producer[o] = i }
            for x in Set(n.inputs) { consumers[x, default: 0] += 1 }
            if n.opType == "Constant", let o = n.outputs.first, case .tensor(let t)? = n.attributes.first(where: { $0.name == "value" })?.value {
                constants[o] = t
            }
            // PyTorch shares equal weights through Identity nodes: their outputs are constants too.
            if n.opType == "Identity", let i = n.inputs.first, let o = n.outputs.first, var t = constants[i] {
                t.name = o
                constants[o] = t
            }
        }
        let unsupported = model.nodes.filter { !Self.known.contains($0.opType) }
        guard unsupported.isEmpty else {
            throw ExportError("\(source): \(unsupported.count) node\(unsupported.count == 1 ? " has an op" : "s have ops") archc has no counterpart for",
                              notes: unsupported.prefix(20).map { "node '\($0.name)': \($0.opType)" }
                                  + (unsupported.count > 20 ? ["and \(unsupported.count - 20) more"] : []))
        }
        let inputs = model.inputs.filter { constants[$0.name] == nil }
        guard inputs.count == 1, let input = inputs.first else {
            throw ExportError("\(source): the graph has \(inputs.count) inputs (\(inputs.map(\.name).joined(separator: ", "))); archc imports networks with one")
        }
        guard model.outputs.count == 1, let output = model.outputs.first else {
            throw ExportError("\(source): the graph has \(model.outputs.count) outputs; archc imports networks with one")
        }
        let inputName = Self.name(input.name, fallback: "x")
        labels[input.name] = inputName
        usedLabels.insert(inputName)
        let body = try chain(from: input.name, to: output).map(unlabelled)
        let header = ["# Imported from \(source) by archc import onnx.", "model \(Self.name(modelName, fallback: "imported"))",
                      "input \(inputName) \(try Self.shape(input))" + (input.elementType == 1 ? "" : " tokens"), ""]
        return Result(spec: (header + body).joined(separator: "\n") + "\n", tensors: tensors)
    }

    /// The data inputs of a node: what is neither a constant nor left out.
    func dataInputs(_ n: NodeProto) -> [String] { n.inputs.filter { !$0.isEmpty && constants[$0] == nil } }

    /// The lines that compute `end` from `start`.
    mutating func chain(from start: String, to end: String) throws -> [String] {
        if end == start { return [] }
        guard let i = producer[end] else {
            throw ExportError("\(source): '\(end)' is not computed from '\(start)'", notes: ["archc imports graphs made of chains, residual blocks and skips"])
        }
        let n = model.nodes[i], data = dataInputs(n)
        if let (line, from) = try pattern(n) ?? (data.count == 1 ? layer(n, data[0]) : nil) {
            var lines = try chain(from: start, to: from)
            lines.append(labelled(line, end))
            return lines
        }
        guard data.count >= 2, ["Add", "Mul", "Concat", "Sum"].contains(n.opType) else {
            throw ExportError("\(source): node '\(n.name)' (\(n.opType)) takes \(data.count) tensors here", notes: ["archc imports it with one"])
        }
        return try combine(n, data, from: start, to: end)
    }

    /// An add, mul or concat: of the running tensor and earlier ones (`add LABEL`), or an add of two branches from one tensor (a residual block).
    mutating func combine(_ n: NodeProto, _ data: [String], from start: String, to end: String) throws -> [String] {
        let main = data.first { d in data.allSatisfy { $0 == d || isAncestor($0, of: d) } }
        if let main, n.opType == "Add", data.count == 2, let skip = data.first(where: { $0 != main }) {
            // x + f(x) where f is a chain from x: a residual block with the identity as its shortcut.
            let before = self
            if let body = try? chain(from: skip, to: main), !body.isEmpty {
                var lines = try chain(from: start, to: skip)
                lines += ["residual {"] + body.map { "  " + $0 } + ["}"]
                if consumers[end, default: 0] > 1 { lines.append(labelled("identity", end)) }
                return lines
            }
            self = before
        }
        if let main, n.opType != "Concat" || main == data[0] {
            var lines = try chain(from: start, to: main)
            var others = data
            others.remove(at: others.firstIndex(of: main)!)
            for (k, other) in others.enumerated() {
                guard let label = labels[other] else {
                    throw ExportError("\(source): node '\(n.name)' (\(n.opType)) reads '\(other)', which is not on the way to it", notes: ["archc imports skips from earlier layers of the chain"])
                }
                referenced.insert(label)
                let op = n.opType == "Concat" ? "concat \(label) dim \(try axis(n))" : n.opType == "Mul" ? "mul \(label)" : "add \(label)"
                lines.append(k == others.count - 1 ? labelled(op, end) : op)
            }
            return lines
        }
        guard n.opType == "Add" || n.opType == "Sum", data.count == 2, let fork = commonAncestor(data[0], data[1]) else {
            throw ExportError("\(source): node '\(n.name)' (\(n.opType)) combines branches archc cannot write", notes: ["archc imports adds of two branches from one tensor (residual blocks)"])
        }
        var lines = try chain(from: start, to: fork)
        let a = try chain(from: fork, to: data[0]), b = try chain(from: fork, to: data[1])
        let (body, shortcut) = a.count >= b.count ? (a, b) : (b, a)
        lines.append("residual {")
        lines += body.map { "  " + $0 }
        if shortcut.isEmpty { lines.append("}") } else { lines += ["} shortcut {"] + shortcut.map { "  " + $0 } + ["}"] }
        // A block has no label of its own (one would add a level to its parameters' names): a later
        // reference reads an identity after it.
        if consumers[end, default: 0] > 1 { lines.append(labelled("identity", end)) }
        return lines
    }

    /// Whether `a` is computed on the way to `b` (or is `b`).
    func isAncestor(_ a: String, of b: String) -> Bool {
        var seen: Set<String> = [], todo = [b]
        while let t = todo.popLast() {
            if t == a { return true }
            guard seen.insert(t).inserted, let i = producer[t] else { continue }
            todo += dataInputs(model.nodes[i])
        }
        return false
    }

    /// The latest tensor both are computed from.
    func commonAncestor(_ a: String, _ b: String) -> String? {
        var fromA: Set<String> = [], todo = [a]
        while let t = todo.popLast() {
            guard fromA.insert(t).inserted, let i = producer[t] else { continue }
            todo += dataInputs(model.nodes[i])
        }
        var best: (String, Int)?, seen: Set<String> = [], rest = [b]
        while let t = rest.popLast() {
            guard seen.insert(t).inserted else { continue }
            if fromA.contains(t) {
                let order = producer[t] ?? -1
                if best == nil || order > best!.1 { best = (t, order) }
                continue
            }
            if let i = producer[t] { rest += dataInputs(model.nodes[i]) }
        }
        return best?.0
    }

    /// A line with a label if it has one (its weights' name), and the label kept for later references.
    /// Layers without weights are labelled only when a later line refers to their output.
    mutating func labelled(_ line: String, _ tensor: String) -> String {
        if let colon = line.firstIndex(of: ":"), !line[..<colon].contains(" ") {
            labels[tensor] = String(line[..<colon])
            return line
        }
        guard consumers[tensor, default: 0] > 1 else { return line }
        let module = producer[tensor].flatMap { Self.moduleName(model.nodes[$0]) }
        let label = unique(Self.name(module ?? tensor, fallback: "t"))
        labels[tensor] = label
        provisional.insert(label)
        return "\(label): \(line)"
    }

    /// A line without the label it was given in case a later line referred to it, when none did.
    func unlabelled(_ line: String) -> String {
        let indent = line.prefix { $0 == " " }
        guard let colon = line.firstIndex(of: ":") else { return line }
        let label = line[indent.endIndex..<colon]
        guard provisional.contains(String(label)), !referenced.contains(String(label)) else { return line }
        return String(indent) + String(line[line.index(colon, offsetBy: 2)...])
    }

    mutating func unique(_ base: String) -> String {
        var label = base, k = 1
        while !usedLabels.insert(label).inserted { label = "\(base)_\(k)"; k += 1 }
        return label
    }

    /// A name of the language made from an ONNX name: letters, digits, `_` and `.`, starting with a letter or `_`.
    static func name(_ raw: String, fallback: String) -> String {
        var s = String(raw.map { $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." ? $0 : "_" }.drop { $0 == "_" || $0 == "." })
        while s.hasSuffix(".") { s.removeLast() }
        if s.isEmpty { return fallback }
        if let c = s.first, !(c.isLetter || c == "_") { s = "_" + s }
        let reserved: Set<String> = ["model", "input", "block", "if", "else", "on", "off", "true", "false", "yes", "no", "none", "and", "or"]
        return reserved.contains(s) ? s + "_" : s
    }

    /// The input's shape after its batch dimension: `3x224x224`, or `[seq, 768]` with symbolic sizes.
    static func shape(_ input: DecodedModel.Input) throws -> String {
        let dims = input.dims.dropFirst().map { d -> String in
            switch d {
            case .value(let v): return String(v)
            case .param(let p): return name(p, fallback: "n")
            }
        }
        guard !dims.isEmpty else { throw ExportError("input '\(input.name)' has no dimension after the batch; archc's inputs are [batch, ...]") }
        return input.dims.dropFirst().allSatisfy({ if case .value = $0 { return true } else { return false } })
            ? dims.joined(separator: "x") : "[" + dims.joined(separator: ", ") + "]"
    }
}

extension Character {
    var isASCIIDigitCharacter: Bool { isASCII && isNumber }
}

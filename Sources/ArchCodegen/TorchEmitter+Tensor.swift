import ArchSemantics

/// PyTorch for the tensor ops: arithmetic with labels, numbers and learned tensors.
extension TorchEmitter.Emitter {
    /// `x + other`, `other - x` (rsub), ...; the branches of `parallel add|mul` joined.
    mutating func arithmetic(_ n: Graph.Node) throws -> String {
        let x = v(n.inputs[0])
        let symbol = ["add": "+", "sub": "-", "mul": "*", "div": "/", "rsub": "-"][n.op.rawValue] ?? "+"
        if n.inputs.count > 1 && n.args["other"] == nil { return n.inputs.map { v($0) }.joined(separator: " \(symbol) ") }
        let operand: String
        if n.inputs.count > 1 {
            operand = v(n.inputs[1])
        } else if let id = n.ownParams.first {
            try register(id)
            operand = access(param: id)
        } else {
            operand = py(n.args["other"])
        }
        return n.op == .rsub ? "\(operand) - \(x)" : "\(x) \(symbol) \(operand)"
    }
}

/// PyTorch for the ops that select, reduce or regroup positions, and norms over another dimension.
extension TorchEmitter.Emitter {
    mutating func tensorOp(_ n: Graph.Node) throws -> String {
        let x = v(n.inputs[0])
        switch n.op {
        case .sum, .mean, .max:
            let dims = py(n.args["dim"])
            return "\(x).\(n.op == .max ? "amax" : n.op.rawValue)(dim=\(dims), keepdim=\(py(n.args["keep"])))"
        case .slice:
            let d = n.axis("dim", rank: graph.values[n.inputs[0]].shape.count)
            let end = int(n, "end").map(String.init) ?? ""
            return "\(x)[" + String(repeating: ":, ", count: d) + "\(int(n, "start") ?? 0):\(end):\(int(n, "step") ?? 1)]"
        case .index:
            return "\(x).select(\(int(n, "dim") ?? 1), \(int(n, "at") ?? 0))"
        case .view:
            return "\(x).reshape(\(try sizes(n.output).joined(separator: ", ")))"
        case .unfold:
            return "F.unfold(\(x), \(py(n.args["kernel"])), dilation=\(py(n.args["dilation"])), padding=\(py(n.args["pad"])), stride=\(py(n.args["stride"])))"
        case .fold:
            return "F.fold(\(x), \(py(n.args["size"])), \(py(n.args["kernel"])), dilation=\(py(n.args["dilation"])), padding=\(py(n.args["pad"])), stride=\(py(n.args["stride"])))"
        default:
            throw TorchEmitter.Unsupported(description: "internal error: '\(n.op)' is not a tensor op")
        }
    }

    /// A norm's module on its input, or on the input with the normalised dimension moved last and back.
    func normalised(_ n: Graph.Node, rank: Int) -> String {
        let x = v(n.inputs[0]), d = n.axis("dim", rank: rank)
        return d == rank - 1 ? "\(access(n))(\(x))" : "\(access(n))(\(x).movedim(\(d), -1)).movedim(-1, \(d))"
    }

    /// A shape's sizes for reshape: the first (the one the batch is in) as -1 when the others are
    /// known, so the module takes any batch; otherwise the one unknown size as -1.
    func sizes(_ v: Int) throws -> [String] {
        let s = graph.values[v].shape
        let unknown = s.indices.filter { s[$0].value == nil }
        guard unknown.count <= 1 else {
            throw TorchEmitter.Unsupported(description: "emit torch needs the sizes of \(describe(s)) bound (--set) to write this view")
        }
        let hole = unknown.first ?? 0
        return s.indices.map { $0 == hole ? "-1" : String(s[$0].value!) }
    }
}

extension Graph.Node {
    /// A dimension argument counted from the front (default: the last).
    func axis(_ name: String, rank: Int) -> Int {
        guard case .int(let a)? = args[name] else { return rank - 1 }
        return a < 0 ? a + rank : a
    }
}

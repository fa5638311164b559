/// Nodes that are one of archc's tensor ops when their other inputs are constants: arithmetic with a
/// number, reductions, a slice along one axis, a Gather of one position.
extension ONNXImport {
    /// Add, Sub, Mul or Div of the running tensor and a one-element constant (`sub 0.5`; 1 - x is `rsub 1`).
    func numberOperand(_ n: NodeProto) throws -> String {
        guard n.inputs.count == 2, let k = n.inputs.firstIndex(where: { constants[$0] != nil }), let v = constant(n.inputs[k]), v.count == 1 else {
            throw unsupported(n, "applies a constant of more than one value here; write it as a learned operand (param SHAPE) by hand")
        }
        let op = n.opType.lowercased()
        return "\(k == 0 && op == "sub" ? "rsub" : op) \(Self.number(v[0]))"
    }

    /// ReduceSum, ReduceMean, ReduceMax over constant axes (an input since opset 18, an attribute before).
    func reduction(_ n: NodeProto) throws -> String {
        guard let axes = constant(n.inputs.count > 1 ? n.inputs[1] : nil).map({ $0.map { Int($0) } }) ?? ints(n, "axes"), !axes.isEmpty else {
            throw unsupported(n, "reduces over every dimension or over axes computed at run time")
        }
        let op = ["ReduceSum": "sum", "ReduceMean": "mean", "ReduceMax": "max"][n.opType] ?? n.opType
        return "\(op) dim \(axes.map(String.init).joined(separator: " "))" + (int(n, "keepdims", 1) == 1 ? " keep" : "")
    }

    /// A Slice with constant bounds along one axis.
    func slice(_ n: NodeProto) throws -> String {
        func values(_ k: Int) -> [Int64]? {
            guard n.inputs.count > k, let t = constants[n.inputs[k]], case .int64s(let v) = t.data else { return nil }
            return v
        }
        guard let starts = values(1), let ends = values(2), starts.count == 1, ends.count == 1 else {
            throw unsupported(n, "slices along several axes or with bounds computed at run time")
        }
        let axis = values(3)?.first ?? 0, step = values(4)?.first ?? 1
        guard axis != 0, step >= 1 else { throw unsupported(n, "slices the batch or steps backwards") }
        var line = "slice dim \(axis)"
        if starts[0] != 0 { line += " start \(starts[0])" }
        if ends[0] < Int64(Int32.max) { line += " end \(ends[0])" }
        if step != 1 { line += " step \(step)" }
        return line
    }

    /// A Gather of one constant position (a 0-d index), which drops the axis.
    func gather(_ n: NodeProto) throws -> String {
        guard n.inputs.count == 2, let t = constants[n.inputs[1]], t.dims.isEmpty, case .int64s(let v) = t.data, v.count == 1 else {
            throw unsupported(n, "gathers positions other than one constant one")
        }
        guard int(n, "axis", 0) != 0 else { throw unsupported(n, "gathers along the batch") }
        return "index dim \(int(n, "axis", 0)) at \(v[0])"
    }

    /// A number as the language writes it: whole numbers without a point.
    static func number(_ v: Float) -> String { v == v.rounded() && abs(v) < 1e9 ? String(Int(v)) : "\(v)" }
}

import ArchSemantics

/// The `archc params` outputs: a torchinfo-style table, JSON, and state_dict names.
public enum ParamsReport {
    public static func table(_ s: Summary, depth: Int) -> String {
        let rows = s.rows.filter { $0.depth <= depth }
        let nameCol = ["Layer (type)"] + rows.map { String(repeating: "  ", count: $0.depth - 1) + "\($0.name.split(separator: ".").last ?? "") (\($0.type))" }
        let shapeCol = ["Output shape"] + rows.map { Format.shape($0.outputShape) }
        let paramCol = ["Params"] + rows.map { $0.params == 0 ? "--" : Format.grouped($0.params) }
        let pctCol = ["Param %"] + rows.map { $0.params == 0 ? "" : Format.percent($0.params, s.params) }
        let macCol = ["MACs"] + rows.map { r in r.macs.map { $0 == 0 ? "--" : Format.grouped($0) } ?? "?" }
        let macPctCol = ["MAC %"] + rows.map { r in r.macs.map { $0 == 0 ? "" : Format.percent($0, s.macs ?? 0) } ?? "" }
        let cols = [nameCol, shapeCol, paramCol, pctCol, macCol, macPctCol]
        let widths = cols.map { $0.map(\.count).max() ?? 0 }
        let rightAligned = [false, false, true, true, true, true]
        let total = widths.reduce(0, +) + 2 * (widths.count - 1)
        var out = ""
        let rule = String(repeating: "=", count: total) + "\n"
        out += "\(s.model)\n" + rule
        for i in 0..<nameCol.count {
            out += (0..<cols.count).map { Format.pad(cols[$0][i], widths[$0], right: rightAligned[$0]) }.joined(separator: "  ")
                .replacingTrailingSpaces() + "\n"
            if i == 0 { out += String(repeating: "-", count: total) + "\n" }
        }
        out += rule + totals(s, rule: rule)
        out += rule
        out += "MACs count linear, conv and every matmul, attention's QK^T and AV included; other ops are counted apart.\n"
        return out
    }

    /// The lines under the layer table: output shape, parameters, MACs, FLOPs; then memory.
    static func totals(_ s: Summary, rule: String) -> String {
        var out = "Output shape: \(Format.shape(s.outputShape))\n"
        out += "Total params: \(Format.grouped(s.params))\n"
        out += "Trainable params: \(Format.grouped(s.params))\n"
        out += "Non-trainable params: 0\n"
        if s.bufferElements > 0 { out += "Buffers (not parameters): \(Format.grouped(s.bufferElements)) elements\n" }
        if let m = s.macs {
            out += "MACs: \(Format.grouped(m)) (\(Format.fixed(Double(m) / 1e9, m >= 10_000_000 ? 2 : 4)) G-MACs)\n"
            out += "FLOPs (2 x MACs): \(Format.grouped(2 &* m))\n"
        } else {
            out += "MACs: depend on \(s.unboundSymbols.joined(separator: ", ")); pass \(s.unboundSymbols.map { "--set \($0)=N" }.joined(separator: " "))\n"
        }
        if let o = s.otherOps { out += "Other ops (norms, activations, softmax, elementwise): \(Format.grouped(o))\n" }
        out += rule
        out += "Params size (fp32): \(s.paramBytes.map(Format.bytes) ?? "more than 8 EB")\n"
        if let a = s.activationBytes { out += "Activation memory (fp32, planned arena, \(s.planThreads) thread\(s.planThreads == 1 ? "" : "s")): \(Format.bytes(a))\n" }
        return out
    }

    /// Every tensor of the state_dict, in its order: `name [shape]`, buffers marked.
    public static func names(_ g: Graph) -> String {
        var out = ""
        for i in g.stateDictOrder() {
            let p = g.params[i]
            out += "\(p.name) [\(p.shape.map(String.init).joined(separator: ", "))]\(p.isBuffer ? " buffer" : "")\n"
        }
        return out
    }
}

extension String {
    func replacingTrailingSpaces() -> String {
        var s = self
        while s.last == " " { s.removeLast() }
        return s
    }
}

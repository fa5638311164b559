import ArchSemantics

/// `archc ops`: the closed op set with signatures, shape rules and parameter formulas.
enum OpsReference {
    static func signature(_ op: OpSpec) -> String {
        var s = op.name
        for a in op.positional { s += a.isRequired ? " \(a.name.uppercased())" : " [\(a.name.uppercased())]" }
        if op.body != .none { s += " { ... }" }
        return s
    }

    static func optionLine(_ a: ArgSpec) -> String {
        var s = "\(a.name): \(a.kind.describe)"
        if let d = a.defaultValue { s += ", default \(d)" }
        if !a.doc.isEmpty { s += ". \(a.doc)" }
        return s
    }

    static func render(_ ops: [OpSpec] = OpRegistry.all, markdown: Bool) -> String {
        var out = ""
        for op in ops {
            if markdown {
                out += "### `\(signature(op))`\n\n\(op.summary).\n\n"
                for a in op.positional { out += "- positional \(optionLine(a))\n" }
                for a in op.options { out += "- option \(optionLine(a))\n" }
                out += "- shape: \(op.shapeDoc)\n- parameters: \(op.paramDoc)\n- MACs: \(op.macDoc)\n\n"
            } else {
                out += "\(signature(op))\n    \(op.summary)\n"
                for a in op.positional + op.options { out += "    \(optionLine(a))\n" }
                out += "    shape: \(op.shapeDoc)\n    parameters: \(op.paramDoc)\n    MACs: \(op.macDoc)\n\n"
            }
        }
        return out
    }
}

import ArchSemantics

/// `emit torch` for attention and SwiGLU: the prelude's classes built with the projections the spec
/// declares (layout, names, key/value heads, rotary positions), called on the tensors the layer reads.
extension TorchEmitter.Emitter {
    /// The attention module, and its forward call: queries from `queries` or the input, keys and values
    /// from `memory` or the input, the key padding mask (node inputs after the first: the `.ref`
    /// options given, in the op's order: memory, queries, mask).
    mutating func attention(_ n: Graph.Node) throws -> String {
        var next = 1
        func ref(_ option: String) -> Int? {
            guard n.args[option] != nil else { return nil }
            defer { next += 1 }
            return n.inputs[next]
        }
        let memory = ref("memory"), queries = ref("queries"), mask = ref("mask")
        let source = queries ?? n.inputs[0], keys = memory ?? n.inputs[0]
        let d = try known(source, -1), dkv = try known(keys, -1)
        let p = try AttentionProjections(layout: word(n, "qkv") ?? "packed", names: n.args["names"]?.words,
                                         cross: memory != nil ? "memory" : queries != nil ? "queries" : nil)
        let projections = p.groups.map { "(\"\($0.name)\", \"\($0.parts.map(\.rawValue).joined())\")" }.joined(separator: ", ")
        let bias = bool(n, "bias"), outbias = n.args["outbias"].map { py($0) } ?? py(.bool(bias))
        let rope = word(n, "rope").flatMap { $0 == "off" ? nil : "\"\($0)\"" } ?? "None"
        let base: String
        switch n.args["rope_base"] { case .float(let x)?: base = String(x); case .int(let v)?: base = "\(v).0"; default: base = "10000.0" }
        let args = [String(d), String(int(n, "heads")!), String(int(n, "dim") ?? d), String(int(n, "out") ?? d), py(.bool(bias)), outbias,
                    "\"\(p.layout)\"", "\"\(word(n, "qknorm") ?? "off")\"", py(.bool(bool(n, "causal"))), n.args["window"].map { py($0) } ?? "None",
                    String(int(n, "shift") ?? 0), py(.bool(bool(n, "relpos"))), String(dkv), String(int(n, "kvheads") ?? int(n, "heads")!),
                    rope, base, "(\(projections),)", "\"\(p.output)\""]
        addModule(n.path, "Attention(\(args.joined(separator: ", ")))")
        // Dotted names are Groups inside the module: layers labelled under them (BERT's attention.output.LayerNorm) join them.
        for name in p.groups.map(\.name) + [p.output] {
            let parts = name.split(separator: ".").map(String.init)
            for i in 1..<max(1, parts.count) { groups.insert((n.path + parts[..<i]).joined(separator: ".")) }
        }
        var call = ["v\(source)"]
        if queries != nil || memory != nil { call.append("v\(keys)") }
        if let mask { call.append("mask=v\(mask)") }
        return "\(m(n))(\(call.joined(separator: ", ")))"
    }

    mutating func swiglu(_ n: Graph.Node) throws -> String {
        let d = try known(n.inputs[0], -1)
        let names = try SwiGLUNames(n.args["names"]?.words)
        addModule(n.path, "SwiGLU(\(d), \(int(n, "hidden")!), \(int(n, "out") ?? d), \(py(n.args["bias"])), (\"\(names.gate)\", \"\(names.up)\", \"\(names.down)\"), \(py(.bool(names.named))))")
        for name in [names.gate, names.up, names.down] {
            let parts = name.split(separator: ".").map(String.init)
            for i in 1..<max(1, parts.count) { groups.insert((n.path + parts[..<i]).joined(separator: ".")) }
        }
        return "\(m(n))(v\(n.inputs[0]))"
    }
}

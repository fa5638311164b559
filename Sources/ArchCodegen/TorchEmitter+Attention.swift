import ArchSemantics

/// `emit torch` for attention and SwiGLU: the helpers' classes built with the projections the spec
/// declares (layout, names, key/value heads, rotary positions) as keyword arguments, called on the
/// tensors the layer reads.
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
        let d = try known(source, -1), dkv = try known(keys, -1), heads = int(n, "heads")!
        let p = try AttentionProjections(layout: word(n, "qkv") ?? "packed", names: n.args["names"]?.words,
                                         cross: memory != nil ? "memory" : queries != nil ? "queries" : nil)
        let bias = bool(n, "bias"), outbias = n.args["outbias"].map { if case .bool(let b) = $0 { return b }; return bias } ?? bias
        let rope = word(n, "rope").flatMap { $0 == "off" ? nil : TorchNames.literal($0) }
        var base: String?
        switch n.args["rope_base"] { case .float(let x)?: base = String(x); case .int(let v)?: base = "\(v).0"; default: base = nil }
        let projections = "(" + p.groups.map { "(\(TorchNames.literal($0.name)), \"\($0.parts.map(\.rawValue).joined())\")" }.joined(separator: ", ")
            + (p.groups.count == 1 ? ",)" : ")")
        let layout: [(String, String?)] = [
            ("projections", projections == "((\"qkv\", \"qkv\"),)" ? nil : projections),
            ("output", p.output == "proj" ? nil : TorchNames.literal(p.output)), ("fused", p.bare ? "True" : nil),
            ("conv1d", WeightLayout(n.args) == .conv1d ? "True" : nil)]
        let options: [(String, String?)] = [
            ("dim", int(n, "dim").flatMap { $0 == d ? nil : String($0) }), ("out", int(n, "out").flatMap { $0 == d ? nil : String($0) }),
            ("kvheads", int(n, "kvheads").flatMap { $0 == heads ? nil : String($0) }), ("dkv", dkv == d ? nil : String(dkv)),
            ("bias", bias ? nil : "False"), ("outbias", outbias == bias ? nil : outbias ? "True" : "False"),
            ("qknorm", word(n, "qknorm").flatMap { $0 == "off" ? nil : TorchNames.literal($0) }), ("causal", bool(n, "causal") ? "True" : nil),
            ("window", int(n, "window").map(String.init)), ("shift", int(n, "shift").flatMap { $0 == 0 ? nil : String($0) }),
            ("relpos", bool(n, "relpos") ? "True" : nil), ("rope", rope), ("rope_base", rope == nil ? nil : base)]
        try addModule(n, "Attention(\(try width(source, -1)), \(arg(n, "heads"))" + keywords(options + layout) + ")")
        helpers.insert(.attention)
        if WeightLayout(n.args) == .conv1d { helpers.insert(.conv1d) }
        // Dotted names are modules inside the attention: layers labelled under them (BERT's attention.output.LayerNorm) join them.
        for name in p.groups.map(\.name) + [p.output] { registerInner(n.path, name) }
        var call = [v(source)]
        if queries != nil || memory != nil { call.append(v(keys)) }
        if let mask { call.append("mask=\(v(mask))") }
        return "\(access(n))(\(call.joined(separator: ", ")))"
    }

    mutating func swiglu(_ n: Graph.Node) throws -> String {
        let d = try known(n.inputs[0], -1), out = int(n, "out") ?? d
        let names = try SwiGLUNames(n.args["names"]?.words)
        let given = [names.gate, names.up, names.down].map(TorchNames.literal).joined(separator: ", ")
        try addModule(n, "SwiGLU(\(d), \(int(n, "hidden")!), \(out)" + keywords([("bias", bool(n, "bias") ? "True" : nil),
                     ("names", names.named || given != "\"w1\", \"w3\", \"w2\"" ? "(\(given))" : nil), ("named", names.named ? "True" : nil)]) + ")")
        helpers.insert(.swiglu)
        for name in [names.gate, names.up, names.down] { registerInner(n.path, name) }
        return "\(access(n))(\(v(n.inputs[0])))"
    }

    /// The containers a helper makes for a dotted name of its own (`output.dense`: `output`).
    mutating func registerInner(_ path: [String], _ name: String) {
        let parts = name.split(separator: ".").map(String.init)
        for i in 1..<max(1, parts.count) { registered.insert((path + parts[..<i]).joined(separator: ".")) }
    }
}

import ArchSemantics

/// One forward line per node of the graph, with the module it registers; the PyTorch layers take
/// keyword arguments where they differ from PyTorch's defaults.
extension TorchEmitter.Emitter {
    func v(_ value: Int) -> String { names.name(of: value) }

    /// ", name=value" for each argument given, in order.
    func keywords(_ pairs: [(String, String?)]) -> String {
        pairs.compactMap { k, v in v.map { ", \(k)=\($0)" } }.joined()
    }

    mutating func emit(_ n: Graph.Node, index: Int) throws {
        let inV = n.inputs.first ?? 0, x = v(inV)
        let rank = graph.values[inV].shape.count
        var line = ""
        switch n.op {
        case .linear: line = try linear(n)
        case .conv, .convt, .patch: line = try convolution(n, rank: rank)
        case .batchnorm, .layernorm, .rmsnorm, .groupnorm: line = try norm(n, rank: rank)
        case .embed:
            try addModule(n, "nn.Embedding(\(int(n, "vocab")!), \(int(n, "dim")!))")
            line = n.inputs.count > 1 ? "\(x) + \(access(n))(\(v(n.inputs[1])))" : "\(access(n))(\(x))"
        case .pos, .cls: line = try positions(n)
        case .attention: line = try attention(n)
        case .mlp:
            line = try mlp(n)
        case .swiglu: line = try swiglu(n)
        case .moe:
            let expert = word(n, "expert") ?? "swiglu"
            try addModule(n, "MoE(\(try known(inV, -1)), \(int(n, "experts")!), \(int(n, "top") ?? 2), \(int(n, "hidden")!)"
                         + keywords([("expert", expert == "swiglu" ? nil : TorchNames.literal(expert))]) + ")")
            helpers.insert(.moe)
            line = "\(access(n))(\(x))"
        case .sgu:
            let src = n.inputs.count > 1 ? n.inputs[1] : inV
            let attn = int(n, "attn")
            try addModule(n, "SGU(\(try known(inV, -1)), \(try known(inV, 1))" + keywords([("attn", attn.map(String.init)),
                         ("dsrc", attn == nil ? nil : String(try known(src, -1))), ("eps", n.args["eps"].map { py($0) })]) + ")")
            helpers.insert(.sgu)
            line = n.inputs.count > 1 ? "\(access(n))(\(x), \(v(n.inputs[1])))" : "\(access(n))(\(x))"
        case .patchmerge:
            try addModule(n, "PatchMerge(\(try known(inV, -1))" + keywords([("eps", n.args["eps"].map { py($0) })]) + ")")
            helpers.insert(.patchMerge)
            line = "\(access(n))(\(x))"
        case .rnn, .lstm, .gru:
            let kind = n.op.rawValue.uppercased()
            try addModule(n, "nn.\(kind)(\(try known(inV, -1)), \(int(n, "hidden")!)" + keywords([
                ("num_layers", (int(n, "layers") ?? 1) == 1 ? nil : String(int(n, "layers")!)), ("bias", bool(n, "bias") ? nil : "False"),
                ("batch_first", "True"), ("bidirectional", bool(n, "bidirectional") ? "True" : nil)]) + ")")
            line = bool(n, "last") ? "\(access(n))(\(x))[0][:, -1]" : "\(access(n))(\(x))[0]"
        case .relu, .relu6, .silu, .hardswish: line = "F.\(n.op)(\(x))"
        case .gelu: line = word(n, "approx") == "tanh" ? "F.gelu(\(x), approximate=\"tanh\")" : "F.gelu(\(x))"
        case .sigmoid, .tanh: line = "torch.\(n.op)(\(x))"
        case .softmax: line = "\(x).softmax(\(int(n, "dim") ?? -1))"
        case .dropout: line = "F.dropout(\(x), \(py(n.args["p"])), self.training)"
        case .identity: line = x
        case .flatten: line = "torch.flatten(\(x), \(int(n, "start") ?? 1), \(int(n, "end") ?? -1))"
        case .reshape:
            line = "\(x).reshape(\(x).shape[0], " + graph.values[n.output].shape.dropFirst().map { $0.value.map(String.init) ?? "-1" }.joined(separator: ", ") + ")"
        case .transpose: line = "\(x).transpose(\(int(n, "a")!), \(int(n, "b")!))"
        case .permute: line = "\(x).permute\(py(n.args["dims"]))"
        case .take:
            switch word(n, "which") {
            case "mean": line = "\(x).flatten(1, -2).mean(1)"
            case "last": line = "\(x)[:, -1]"
            default: line = "\(x)[:, 0]"
            }
        case .maxpool, .avgpool, .adaptive_avgpool, .adaptive_maxpool, .globalpool, .upsample: line = pool(n, rank: rank)
        case .add, .sub, .mul, .div, .rsub: line = try arithmetic(n)
        case .sum, .mean, .max, .slice, .index, .view, .unfold, .fold: line = try tensorOp(n)
        case .concat: line = "torch.cat([" + n.inputs.map { v($0) }.joined(separator: ", ") + "], \(int(n, "dim") ?? 1))"
        case .seq, .residual, .parallel:
            throw TorchEmitter.Unsupported(description: "internal error: '\(n.op)' is structure, never a node of the graph")
        }
        forwardLines.append("\(v(n.output)) = \(line)")
    }

    /// nn.Linear, or Conv1D for a weight stored [in, out] (`weights conv1d`); a tied one reads the owner's weight.
    mutating func linear(_ n: Graph.Node) throws -> String {
        let x = v(n.inputs[0]), inF = try width(n.inputs[0], -1), o = arg(n, "out"), conv1d = WeightLayout(n.args) == .conv1d
        guard let tied = n.params.first(where: { !n.ownParams.contains($0) }) else {
            if conv1d { helpers.insert(.conv1d) }
            try addModule(n, "\(conv1d ? "Conv1D" : "nn.Linear")(\(inF), \(o)\(bool(n, "bias") ? "" : ", bias=False"))")
            return "\(access(n))(\(x))"
        }
        var bias = ""
        if let b = n.ownParams.first {
            try register(b)
            bias = ", " + access(param: b)
        }
        return "F.linear(\(x), \(access(param: tied))\(conv1d ? ".t()" : "")\(bias))"
    }

    /// timm's Mlp, with the projections' names (GPT-2's c_fc, c_proj) and Conv1D weights when the spec gives them.
    mutating func mlp(_ n: Graph.Node) throws -> String {
        let d = try width(n.inputs[0], -1), out = n.args["out"] == nil ? d : arg(n, "out"), act = word(n, "act") ?? "gelu"
        let names = try MLPNames(n.args["names"]?.words), conv1d = WeightLayout(n.args) == .conv1d
        let given = names == MLPNames() ? nil : "(\(TorchNames.literal(names.first)), \(TorchNames.literal(names.second)))"
        try addModule(n, "Mlp(\(d), \(arg(n, "hidden")), \(out)" + keywords([("act", act == "gelu" ? nil : TorchNames.literal(act)),
                     ("bias", bool(n, "bias") ? nil : "False"), ("names", given), ("conv1d", conv1d ? "True" : nil)]) + ")")
        helpers.insert(.mlp)
        if conv1d { helpers.insert(.conv1d) }
        if (names.first + names.second).contains(".") { helpers.insert(.put) }
        for name in [names.first, names.second] { registerInner(n.path, name) }
        return "\(access(n))(\(v(n.inputs[0])))"
    }

    mutating func convolution(_ n: Graph.Node, rank: Int) throws -> String {
        let x = v(n.inputs[0]), c = try width(n.inputs[0], 1)
        if n.op == .patch {
            let size = py(n.args["size"])
            try addModule(n, "nn.Conv2d(\(c), \(int(n, "dim")!), \(size), stride=\(size)\(bool(n, "bias") ? "" : ", bias=False"))")
            return bool(n, "grid") ? "\(access(n))(\(x)).permute(0, 2, 3, 1)" : "\(access(n))(\(x)).flatten(2).transpose(1, 2)"
        }
        let groups = word(n, "groups") == "depthwise" ? "\(c)" : arg(n, "groups")
        let pad = word(n, "pad") == "same" ? "\"same\"" : arg(n, "pad")
        func given(_ s: String, unless d: String) -> String? { s == d || s == "(\(d), \(d))" || s == "(\(d),)" ? nil : s }
        let common: [(String, String?)] = [("stride", given(arg(n, "stride"), unless: "1")), ("padding", given(pad, unless: "0"))]
        let tail: [(String, String?)] = [("dilation", given(arg(n, "dilation"), unless: "1")), ("groups", given(groups, unless: "1")),
                                         ("bias", bool(n, "bias") ? nil : "False")]
        let spatial = rank - 2, kernel = arg(n, "kernel"), out = arg(n, "out")
        if n.op == .conv {
            try addModule(n, "nn.Conv\(spatial)d(\(c), \(out), \(kernel)" + keywords(common + tail) + ")")
        } else {
            try addModule(n, "nn.ConvTranspose\(spatial)d(\(c), \(out), \(kernel)" + keywords(common + [("output_padding", given(py(n.args["outpad"]), unless: "0"))] + tail) + ")")
        }
        return "\(access(n))(\(x))"
    }

    mutating func norm(_ n: Graph.Node, rank: Int) throws -> String {
        let eps = n.args["eps"].map { py($0) }
        switch n.op {
        case .batchnorm:
            try addModule(n, "nn.BatchNorm\(rank == 4 ? 2 : 1)d(\(try width(n.inputs[0], 1))" + keywords([("eps", eps), ("affine", bool(n, "affine") ? nil : "False")]) + ")")
            return "\(access(n))(\(v(n.inputs[0])))"
        case .groupnorm:
            try addModule(n, "nn.GroupNorm(\(arg(n, "groups")), \(try width(n.inputs[0], 1))" + keywords([("eps", eps)]) + ")")
            return "\(access(n))(\(v(n.inputs[0])))"
        case .layernorm:
            let width = try width(n.inputs[0], n.axis("dim", rank: rank))
            try addModule(n, "nn.LayerNorm(\(width)" + keywords([("eps", eps), ("elementwise_affine", bool(n, "affine") ? nil : "False"),
                                                             ("bias", bool(n, "bias") ? nil : "False")]) + ")")
        default:
            try addModule(n, "nn.RMSNorm(\(try width(n.inputs[0], n.axis("dim", rank: rank))), eps=\(py(n.args["eps"])))")
        }
        return normalised(n, rank: rank)
    }

    /// Position tables (their length checked) and the class token.
    mutating func positions(_ n: Graph.Node) throws -> String {
        let x = v(n.inputs[0])
        if n.op == .cls {
            try register(n.ownParams[0])
            return "torch.cat([\(access(param: n.ownParams[0])).expand(\(x).shape[0], -1, -1), \(x)], 1)"
        }
        switch word(n, "kind") {
        case "sinusoidal":
            helpers.insert(.sinusoid)
            return "\(x) + _sinusoid(\(x).shape[1], \(x).shape[2], \(x).device)"
        case "table":
            try addModule(n, "nn.Embedding(\(int(n, "max")!), \(try known(n.inputs[0], -1)))")
            helpers.insert(.positions)
            return "\(x) + _positions(\(access(n)).weight, \(x).shape[1], \(TorchNames.literal(n.path.joined(separator: "."))))"
        default:
            let p = n.ownParams[0]
            try register(p)
            helpers.insert(.positions)
            return "\(x) + _positions(\(access(param: p)), \(x).shape[1], \(TorchNames.literal(graph.params[p].name)))"
        }
    }

    func pool(_ n: Graph.Node, rank: Int) -> String {
        let x = v(n.inputs[0])
        if n.op == .maxpool || n.op == .avgpool {
            let stride = n.args["stride"].map { py($0) } ?? py(n.args["kernel"])
            let ceil = bool(n, "ceil") ? ", ceil_mode=True" : ""
            return "F.\(n.op == .maxpool ? "max" : "avg")_pool\(rank - 2)d(\(x), \(py(n.args["kernel"])), \(stride), \(py(n.args["pad"]))\(ceil))"
        }
        if n.op == .adaptive_avgpool || n.op == .adaptive_maxpool {
            return "F.adaptive_\(n.op == .adaptive_avgpool ? "avg" : "max")_pool\(rank - 2)d(\(x), \(py(n.args["size"])))"
        }
        if n.op == .globalpool {
            let f = word(n, "mode") == "max" ? "amax" : "mean"
            let dims = "(" + (2..<rank).map(String.init).joined(separator: ", ") + (rank == 3 ? ",)" : ")")
            return "\(x).\(f)(\(dims)\(bool(n, "keep") ? ", keepdim=True" : ""))"
        }
        return "F.interpolate(\(x), scale_factor=\(int(n, "scale")!), mode=\(py(n.args["mode"])))"
    }
}

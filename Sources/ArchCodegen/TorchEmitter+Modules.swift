import ArchSemantics

/// The module tree of the emitted `Model`: containers made on the way to each layer, layers and bare
/// tensors registered under the spec's names, and the Python that reaches each of them.
extension TorchEmitter.Emitter {
    /// Containers whose children (from the tensor names) are exactly 0, 1, ..., n - 1.
    static func numberedContainers(_ g: Graph) -> Set<String> {
        var kids: [String: Set<String>] = [:]
        for p in g.params {
            let parts = p.name.split(separator: ".").map(String.init)
            for i in 0..<(parts.count - 1) { kids[parts[..<i].joined(separator: "."), default: []].insert(parts[i]) }
        }
        return Set(kids.filter { $0.value == Set((0..<$0.value.count).map(String.init)) }.keys)
    }

    /// Lists whose children were not registered as 0, 1, ... in order.
    func misnumberedLists() -> Set<String> {
        Set(lists.filter { children[$0, default: []] != (0..<children[$0, default: []].count).map(String.init) })
    }

    /// `self.layer1[0].conv1`; a name Python cannot take as an attribute is reached through the
    /// owner's `_modules` (or `_parameters`, `_buffers` for the last part of a tensor's path).
    func access(_ path: [String], tensor: Graph.Param? = nil) -> String {
        var s = "self"
        let start = path.starts(with: base) ? base.count : 0
        for (i, part) in path.enumerated() where i >= start {
            let parent = path[..<i].joined(separator: ".")
            if lists.contains(parent), Int(part) != nil, i < path.count - 1 || tensor == nil {
                s += "[\(part)]"
            } else if TorchNames.isAttribute(part) {
                s += "." + part
            } else {
                let table = i < path.count - 1 || tensor == nil ? "_modules" : tensor!.isBuffer ? "_buffers" : "_parameters"
                s += ".\(table)[\(TorchNames.literal(part))]"
            }
        }
        return s
    }

    func access(_ n: Graph.Node) -> String { access(n.path.joined(separator: ".").split(separator: ".").map(String.init)) }

    func access(param id: Int) -> String {
        let p = graph.params[id]
        return access(p.name.split(separator: ".").map(String.init), tensor: p)
    }

    /// The line that registers `value` (a module's constructor) as `path`'s last part in its owner.
    mutating func registration(_ path: [String], _ value: String, tensor: Graph.Param? = nil) throws -> String {
        if path.last == "training" {
            throw TorchEmitter.Unsupported(description: "emit torch cannot name a layer 'training' (at '\(path.joined(separator: "."))'): PyTorch keeps each module's train/eval flag in that attribute; give the layer another label")
        }
        let owner = Array(path.dropLast()), name = path.last!, parent = owner.joined(separator: ".")
        children[parent, default: []].append(name)
        if lists.contains(parent), Int(name) != nil, tensor == nil { return "\(access(owner)).append(\(value))" }
        if TorchNames.isAttribute(name) { return "\(access(owner)).\(name) = \(value)" }
        let table = tensor == nil ? "_modules" : tensor!.isBuffer ? "_buffers" : "_parameters"
        return "\(access(owner)).\(table)[\(TorchNames.literal(name))] = \(value)"
    }

    /// Makes every level of `path` above its last part exist (a dotted label's too: `model.embed_tokens`
    /// needs `model`), as an nn.ModuleList where its children are numbered, or else a plain nn.Module.
    mutating func ensureContainers(_ path: [String]) throws {
        for i in 1..<max(1, path.count) {
            let prefix = path[..<i].joined(separator: ".")
            if registered.insert(prefix).inserted {
                let line = try registration(Array(path[..<i]), lists.contains(prefix) ? "nn.ModuleList()" : "nn.Module()")
                initLines.append((prefix, line))
            }
        }
    }

    /// Registers a layer's module; where layers labelled under its name came first (PVT's attn.sr
    /// before attn), the module adopts them.
    mutating func addModule(_ node: Graph.Node, _ ctor: String) throws {
        let path = node.path.joined(separator: ".").split(separator: ".").map(String.init)
        try ensureContainers(path)
        var value = ctor
        if !registered.insert(path.joined(separator: ".")).inserted {
            helpers.insert(.adopt)
            value = "_adopt(\(ctor), \(access(path)))"
            children[path.dropLast().joined(separator: "."), default: []].removeAll { $0 == path.last! }
        }
        initLines.append((path.joined(separator: "."), try registration(path, value)))
    }

    /// A bare nn.Parameter (or buffer) registered on its owner, made with `archc init`'s values where
    /// they are constant (the others are drawn in reset_parameters).
    mutating func register(_ id: Int) throws {
        let p = graph.params[id]
        let path = p.name.split(separator: ".").map(String.init)
        try ensureContainers(path)
        let shape = p.shape.map(String.init).joined(separator: ", ")
        let made: String
        switch InitRule.rule(for: id, in: graph) {
        case .ones: made = "torch.ones(\(shape))"
        case .value(let v): made = "torch.full((\(shape),), \(v))"
        case .zeros, .normal, .uniform, .uniformBound, .index: made = "torch.zeros(\(shape))"
        }
        initLines.append((p.name, try registration(path, p.isBuffer ? made : "nn.Parameter(\(made))", tensor: p)))
    }
}

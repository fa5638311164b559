import ArchKernels

/// What a weights file that does not fit is likely to be: the unused tensor most like a missing one,
/// a weight stored transposed, another network's checkpoint, names with a prefix more or less, a shard.
extension BindingReport {
    /// The unused group most like a missing one (with as many members): in the same module, the same
    /// name under another prefix (`model.` + it), the only one with the same last part and shape
    /// (`classifier.weight` for `head.weight`), a few edits away, or the same last part with the rest
    /// close; ties go to the one with as many elements (`gamma` [96] for `layer_scale` [96, 1, 1]), then
    /// to the closest name. (Of another network's many biases of one width, none is singled out.)
    static func nearest(_ missing: TensorGroup, among spare: [TensorGroup], excluding taken: Set<Int>) -> Int? {
        let name = missing.matchName, elements = missing.shape.reduce(1, &*)
        let (module, leaf) = split(name)
        let close = max(2, name.utf8.count / 4), loose = name.utf8.count / 2
        let candidates = spare.indices.prefix(2_000).filter { !taken.contains($0) && spare[$0].members.count == missing.members.count }
        let alike = candidates.filter { split(spare[$0].matchName).leaf == leaf && spare[$0].shape == missing.shape }.count
        var best: (index: Int, score: Int)?
        for i in candidates {
            let g = spare[i], other = g.matchName
            let (m, l) = split(other)
            let strong = m == module || other.hasSuffix("." + name) || name.hasSuffix("." + other) || (l == leaf && g.shape == missing.shape && alike == 1)
            guard strong || abs(other.utf8.count - name.utf8.count) <= loose else { continue }
            let d = EditDistance.between(name, other, limit: 64)
            guard strong || d <= close || (l == leaf && d <= loose) else { continue }
            let score = (g.shape.reduce(1, &*) == elements ? 0 : 1_000) + (strong ? 0 : 100) + d
            if best == nil || score < best!.score { best = (i, score) }
        }
        return best?.index
    }

    /// `blocks.0.mlp.fc1.weight` -> (`blocks.0.mlp.fc1`, `weight`)
    static func split(_ name: String) -> (module: Substring, leaf: Substring) {
        guard let dot = name.lastIndex(of: ".") else { return ("", Substring(name)) }
        return (name[..<dot], name[name.index(after: dot)...])
    }

    /// A weight matrix the file holds transposed: which layout it has, and the option that reads it.
    static func transposed(_ spec: ParameterSpec, found: [Int], many: Bool) -> String? {
        guard spec.shape.count == 2, found == spec.shape.reversed() else { return nil }
        let it = many ? "them" : "it"
        switch spec.order {
        case .outIn?: return "the file holds \(it) transposed, [in, out], as transformers' Conv1D stores its weight (GPT-2): add 'weights conv1d' to the layer"
        case .inOut?: return "the file holds \(it) [out, in], as nn.Linear stores its weight, but the layer reads [in, out] ('weights conv1d'): remove that option"
        case nil: return "the file holds \(it) transposed"
        }
    }

    /// None of the network's tensors is in the file: the first parts of both sides' names.
    static func anotherNetwork(_ network: [String], file: [String]) -> String {
        func roots(_ names: [String]) -> String {
            var seen: [String] = []
            for n in names {
                let root = String(n.split(separator: ".", maxSplits: 1).first ?? "") + (n.contains(".") ? "." : "")
                if !seen.contains(root) { seen.append(root) }
            }
            return seen.prefix(4).map { "'\($0)'" }.joined(separator: ", ") + (seen.count > 4 ? ", ..." : "")
        }
        return "none of the network's tensors is in the file: is it another network's checkpoint? Its names begin \(roots(file)), the network's \(roots(network))"
    }

    /// Most missing tensors are in the file under their name without a first part (`transformer.`), or
    /// with one more (`model.`): a checkpoint of the model without (or inside) the wrapper the spec follows.
    static func prefixHint(missing: [String], unused: [String]) -> String? {
        guard !missing.isEmpty, !unused.isEmpty else { return nil }
        let present = Set(unused)
        var lacking: [String: Int] = [:], adding: [String: Int] = [:]
        for m in missing {
            if let dot = m.firstIndex(of: "."), present.contains(String(m[m.index(after: dot)...])) { lacking[String(m[...dot]), default: 0] += 1 }
        }
        for u in unused {
            if let dot = u.firstIndex(of: "."), missing.contains(String(u[u.index(after: dot)...])) { adding[String(u[...dot]), default: 0] += 1 }
        }
        if let (p, n) = lacking.max(by: { $0.value < $1.value }), 2 * n >= missing.count {
            return "the file names \(n) of them without the leading '\(p)' of the network's names (a checkpoint of the model inside the one the spec follows?)"
        }
        if let (p, n) = adding.max(by: { $0.value < $1.value }), 2 * n >= missing.count {
            return "the file names \(n) of them with a leading '\(p)' that the network's names do not have (a checkpoint of a model wrapping the one the spec follows?)"
        }
        return nil
    }

    /// `model-00001-of-00003.safetensors`: one shard of a sharded checkpoint.
    static func shard(_ file: String) -> String? {
        guard !file.contains(", "), let of = file.range(of: "-of-", options: .backwards), file.hasSuffix(".safetensors") else { return nil }
        let total = file[of.upperBound...].dropLast(".safetensors".count)
        guard !total.isEmpty, total.allSatisfy(\.isNumber) else { return nil }
        return "it looks like one shard of a checkpoint of \(Int(total) ?? 0): give --weights the folder, its model.safetensors.index.json, or every shard"
    }
}

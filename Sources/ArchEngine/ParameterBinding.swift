import ArchIO

/// A tensor a program expects in its weights file: its state_dict name and shape, and the spec
/// line that declared it (for errors).
public struct ParameterSpec: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    /// Integer buffers (BatchNorm's num_batches_tracked, Swin's relative_position_index) are optional:
    /// inference has no use for them.
    public var isInteger: Bool
    public var declaredAt: String
    public init(name: String, shape: [Int], isInteger: Bool, declaredAt: String) {
        self.name = name
        self.shape = shape
        self.isInteger = isInteger
        self.declaredAt = declaredAt
    }
    public var count: Int { shape.reduce(1, *) }
}

/// Binds the tensors of a weights file to a program's parameters by name, every shape checked.
public enum ParameterBinding {
    public struct Result {
        /// Per parameter, its floats (nil for integer buffers).
        public var values: [[Float]?]
        public var errors: [EngineError]
        public var warnings: [String]
    }

    /// Missing tensors and shape mismatches are errors naming the tensor, both shapes and the spec
    /// line, each tensor once; a missing one gets the closest unused name in the file as a note.
    /// When anything fails, a last error sums it up. Tensors the program does not use are a warning.
    public static func bind(_ specs: [ParameterSpec], tensors: [(name: String, tensor: Tensor)], file: String) -> Result {
        var byName: [String: Tensor] = [:]
        for (n, t) in tensors { byName[n] = t }
        var result = Result(values: [], errors: [], warnings: [])
        var used = Set<String>(), reported = Set<String>()
        var missing: [(spec: ParameterSpec, error: Int)] = [], misShaped = 0, integers = 0
        for p in specs {
            let t = byName[p.name]
            if t != nil { used.insert(p.name) }
            if p.isInteger { result.values.append(nil); continue }
            guard let t, t.shape == p.shape, !t.isInteger else {
                result.values.append(nil)
                guard reported.insert(p.name).inserted else { continue }
                if let t, t.shape != p.shape {
                    misShaped += 1
                    result.errors.append(EngineError("\(file): tensor '\(p.name)' has shape \(t.shape) but the spec needs \(p.shape)",
                                                     notes: ["declared by the layer at \(p.declaredAt)"]))
                } else if t != nil {
                    // Integers for a floating-point tensor are another tensor by mistake, not a conversion to make.
                    integers += 1
                    result.errors.append(EngineError("\(file): tensor '\(p.name)' holds integers, but the spec's '\(p.name)' is floating point",
                                                     notes: ["save it as float32 (tensor.float() in PyTorch)", "declared by the layer at \(p.declaredAt)"]))
                } else {
                    missing.append((p, result.errors.count))
                    result.errors.append(EngineError("\(file): missing tensor '\(p.name)' of shape \(p.shape)",
                                                     notes: ["declared by the layer at \(p.declaredAt)"]))
                }
                continue
            }
            result.values.append(t.floats)
        }
        let extra = tensors.map(\.name).filter { !used.contains($0) }
        suggestNearMatches(for: missing, among: extra, in: byName, errors: &result.errors)
        if !extra.isEmpty {
            result.warnings.append("\(file): \(extra.count) tensor\(extra.count == 1 ? "" : "s") not used by the network: "
                                   + extra.prefix(10).joined(separator: ", ") + (extra.count > 10 ? ", ..." : ""))
        }
        if !result.errors.isEmpty {
            result.errors.append(EngineError(summary(file: file, missing: missing.count, misShaped: misShaped, integers: integers, unused: extra.count)))
        }
        return result
    }

    /// `w.safetensors does not fit the network: 18 tensors missing, 0 mis-shaped; 18 tensors in the file are unused`
    static func summary(file: String, missing: Int, misShaped: Int, integers: Int, unused: Int) -> String {
        func count(_ n: Int, _ what: String) -> String { "\(n) \(what)\(n == 1 ? "" : "s")" }
        return "\(file) does not fit the network: \(count(missing, "tensor")) missing, \(misShaped) mis-shaped"
            + (integers > 0 ? ", \(integers) holding integers" : "")
            + "; \(count(unused, "tensor")) in the file \(unused == 1 ? "is" : "are") unused"
    }

    /// Adds to each missing tensor's error the closest unused name in the file, with its shape.
    static func suggestNearMatches(for missing: [(spec: ParameterSpec, error: Int)], among unused: [String], in byName: [String: Tensor],
                                   errors: inout [EngineError]) {
        guard !unused.isEmpty else { return }
        for (p, i) in missing {
            guard let near = nearest(p, among: unused, shapes: byName) else { continue }
            let e = errors[i]
            let shape = byName[near].map { "\($0.shape)" } ?? "?"
            errors[i] = EngineError(e.message, notes: e.notes + ["the file has '\(near)' \(shape), which the network does not use: is it this tensor?"])
        }
    }

    /// The unused name most like a missing tensor's: in the same module, the same name under another
    /// prefix (`model.` + it), the same last part and shape (`classifier.weight` for `head.weight`), a
    /// few edits away, or the same last part with the rest close; ties go to the one with as many
    /// elements (`gamma` [96] for `layer_scale` [96, 1, 1]), then to the closest name.
    static func nearest(_ p: ParameterSpec, among unused: [String], shapes: [String: Tensor]) -> String? {
        let (module, leaf) = split(p.name)
        let close = max(2, p.name.utf8.count / 4), loose = p.name.utf8.count / 2
        var best: (name: String, score: Int)?
        for name in unused.prefix(2_000) {
            let (m, l) = split(name)
            let sameShape = shapes[name]?.shape == p.shape
            let strong = m == module || name.hasSuffix("." + p.name) || p.name.hasSuffix("." + name) || (l == leaf && sameShape)
            guard strong || abs(name.utf8.count - p.name.utf8.count) <= loose else { continue }
            let d = EditDistance.between(p.name, name, limit: 64)
            guard strong || d <= close || (l == leaf && d <= loose) else { continue }
            let sameCount = shapes[name].map { $0.shape.reduce(1, &*) == p.shape.reduce(1, &*) } ?? false
            let score = (sameCount ? 0 : 1_000) + (strong ? 0 : 100) + d
            if best == nil || score < best!.score { best = (name, score) }
        }
        return best?.name
    }

    /// `blocks.0.mlp.fc1.weight` -> (`blocks.0.mlp.fc1`, `weight`)
    static func split(_ name: String) -> (module: Substring, leaf: Substring) {
        guard let dot = name.lastIndex(of: ".") else { return ("", Substring(name)) }
        return (name[..<dot], name[name.index(after: dot)...])
    }
}

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
    /// line; tensors the program does not use are a warning.
    public static func bind(_ specs: [ParameterSpec], tensors: [(name: String, tensor: Tensor)], file: String) -> Result {
        var byName: [String: Tensor] = [:]
        for (n, t) in tensors { byName[n] = t }
        var result = Result(values: [], errors: [], warnings: [])
        var used = Set<String>()
        for p in specs {
            let t = byName[p.name]
            if t != nil { used.insert(p.name) }
            if p.isInteger { result.values.append(nil); continue }
            guard let t else {
                result.errors.append(EngineError("\(file): missing tensor '\(p.name)' of shape \(p.shape)",
                                                 notes: ["declared by the layer at \(p.declaredAt)"]))
                result.values.append(nil)
                continue
            }
            guard t.shape == p.shape else {
                result.errors.append(EngineError("\(file): tensor '\(p.name)' has shape \(t.shape) but the spec needs \(p.shape)",
                                                 notes: ["declared by the layer at \(p.declaredAt)"]))
                result.values.append(nil)
                continue
            }
            // Integers for a floating-point tensor are another tensor by mistake, not a conversion to make.
            guard !t.isInteger else {
                result.errors.append(EngineError("\(file): tensor '\(p.name)' holds integers, but the spec's '\(p.name)' is floating point",
                                                 notes: ["save it as float32 (tensor.float() in PyTorch)", "declared by the layer at \(p.declaredAt)"]))
                result.values.append(nil)
                continue
            }
            result.values.append(t.floats)
        }
        let extra = tensors.map(\.name).filter { !used.contains($0) }
        if !extra.isEmpty {
            result.warnings.append("\(file): \(extra.count) tensor\(extra.count == 1 ? "" : "s") not used by the network: "
                                   + extra.prefix(10).joined(separator: ", ") + (extra.count > 10 ? ", ..." : ""))
        }
        return result
    }
}

import ArchIO
import ArchKernels

/// A tensor a program expects in its weights file: its state_dict name and shape, and the spec
/// line that declared it (for errors).
public struct ParameterSpec: Sendable, Equatable {
    public var name: String
    public var shape: [Int]
    /// Integer buffers (BatchNorm's num_batches_tracked, Swin's relative_position_index) are optional:
    /// inference has no use for them.
    public var isInteger: Bool
    public var declaredAt: String
    /// For the weight matrix of a layer with a `weights` option (linear, mlp, attention): how the
    /// layer reads it, [out, in] or Conv1D's [in, out]; nil for every other tensor.
    public var order: WeightOrder?
    public init(name: String, shape: [Int], isInteger: Bool, declaredAt: String, order: WeightOrder? = nil) {
        self.name = name
        self.shape = shape
        self.isInteger = isInteger
        self.declaredAt = declaredAt
        self.order = order
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

    /// How the file fails to give a tensor the network needs.
    enum Problem: Equatable {
        case missing
        case misShaped([Int])
        /// Integers for a floating-point tensor: another tensor by mistake, not a conversion to make.
        case integers
    }

    /// Missing tensors, shape mismatches and integers where floats belong are errors naming the tensor,
    /// its shape and the spec line, each tensor once and the same problem of every layer in one error;
    /// a missing one gets the unused tensor of the file most like it as a note (each suggested once).
    /// When anything fails, a last error sums it up and describes the rest of the file (`BindingReport`).
    /// Tensors the program does not use are otherwise a warning.
    public static func bind(_ specs: [ParameterSpec], tensors: [(name: String, tensor: Tensor)], file: String) -> Result {
        var byName: [String: Tensor] = [:]
        for (n, t) in tensors { byName[n] = t }
        var result = Result(values: [], errors: [], warnings: [])
        var used = Set<String>(), reported = Set<String>()
        var problems: [(spec: ParameterSpec, problem: Problem)] = []
        for p in specs {
            let t = byName[p.name]
            if t != nil { used.insert(p.name) }
            if p.isInteger { result.values.append(nil); continue }
            guard let t, t.shape == p.shape, !t.isInteger else {
                result.values.append(nil)
                guard reported.insert(p.name).inserted else { continue }
                problems.append((p, t.map { $0.shape != p.shape ? .misShaped($0.shape) : .integers } ?? .missing))
                continue
            }
            result.values.append(t.floats)
        }
        let extra = tensors.map(\.name).filter { !used.contains($0) }
        if problems.isEmpty {
            if !extra.isEmpty {
                result.warnings.append("\(file): \(extra.count) tensor\(extra.count == 1 ? "" : "s") not used by the network: "
                                       + extra.prefix(10).joined(separator: ", ") + (extra.count > 10 ? ", ..." : ""))
            }
            return result
        }
        let unused = extra.map { (name: $0, shape: byName[$0]!.shape) }
        result.errors = BindingReport(file: file, problems: problems, unused: unused, specs: specs).errors
        return result
    }
}

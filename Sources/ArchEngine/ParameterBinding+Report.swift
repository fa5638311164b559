import ArchKernels

/// The errors of a weights file that does not fit a network: one per problem, the same problem of
/// every layer folded into one (`TensorGroup`), each missing tensor with the unused tensor of the
/// file most like it (each suggested once), and a summary that counts everything, says when the file
/// holds another network (or is one shard of several) and names the file's other unused tensors.
struct BindingReport {
    typealias Problem = ParameterBinding.Problem
    /// Problem groups reported one by one; the summary counts the rest.
    static let shownGroups = 40

    let file: String
    var errors: [EngineError] = []

    init(file: String, problems: [(spec: ParameterSpec, problem: Problem)], unused: [(name: String, shape: [Int])], specs: [ParameterSpec]) {
        self.file = file
        var first: [String: Int] = [:]
        for (i, p) in problems.enumerated() where first[p.spec.name] == nil { first[p.spec.name] = i }
        let groups = TensorGroup.fold(problems.map { ($0.spec.name, $0.spec.shape) }) { "\(problems[$0].problem) \(problems[$0].spec.declaredAt)" }
        var spare = TensorGroup.fold(unused), suggested = Set<Int>()
        for g in groups.prefix(Self.shownGroups) {
            let (spec, problem) = problems[first[g.members[0]]!]
            var notes = ["declared by the layer at \(spec.declaredAt)"]
            switch problem {
            case .missing:
                if let near = Self.nearest(g, among: spare, excluding: suggested) {
                    suggested.insert(near)
                    let s = spare[near]
                    notes.append(s.members.count == 1 ? "the file has \(s.display) \(s.shape), which the network does not use: is it this tensor?"
                                 : "the file has \(s.counted) \(s.shape), which the network does not use: are they these tensors?")
                }
                errors.append(EngineError(g.members.count == 1 ? "\(file): missing tensor \(g.display) of shape \(spec.shape)"
                                          : "\(file): missing \(g.counted) of shape \(spec.shape)", notes: notes))
            case .misShaped(let found):
                if let hint = Self.transposed(spec, found: found, many: g.members.count > 1) { notes.insert(hint, at: 0) }
                errors.append(EngineError(g.members.count == 1 ? "\(file): tensor \(g.display) has shape \(found) but the spec needs \(spec.shape)"
                                          : "\(file): \(g.counted) have shape \(found) but the spec needs \(spec.shape)", notes: notes))
            case .integers:
                notes.insert("save \(g.members.count == 1 ? "it" : "them") as float32 (tensor.float() in PyTorch)", at: 0)
                errors.append(EngineError(g.members.count == 1 ? "\(file): tensor \(g.display) holds integers, but the spec's \(g.display) is floating point"
                                          : "\(file): \(g.counted) hold integers, but the spec's are floating point", notes: notes))
            }
        }
        for i in suggested.sorted(by: >) { spare.remove(at: i) }
        errors.append(summary(problems, groups: groups.count, unused: unused, otherUnused: spare, anySuggested: !suggested.isEmpty, specs: specs))
    }

    /// `w.safetensors does not fit the network: 18 tensors missing, 0 mis-shaped; 18 tensors in the file are unused`,
    /// with notes on what the file is and what else it holds.
    func summary(_ problems: [(spec: ParameterSpec, problem: Problem)], groups: Int, unused: [(name: String, shape: [Int])],
                 otherUnused: [TensorGroup], anySuggested: Bool, specs: [ParameterSpec]) -> EngineError {
        func count(_ n: Int, _ what: String) -> String { "\(n) \(what)\(n == 1 ? "" : "s")" }
        let missing = problems.filter { $0.problem == .missing }.map(\.spec.name)
        let integers = problems.filter { $0.problem == .integers }.count, misShaped = problems.count - missing.count - integers
        let message = "\(file) does not fit the network: \(count(missing.count, "tensor")) missing, \(misShaped) mis-shaped"
            + (integers > 0 ? ", \(integers) holding integers" : "")
            + "; \(count(unused.count, "tensor")) in the file \(unused.count == 1 ? "is" : "are") unused"
        var notes: [String] = []
        if groups > Self.shownGroups { notes.append("the first \(Self.shownGroups) of \(groups) problems are shown above") }
        let wanted = Set(specs.filter { !$0.isInteger }.map(\.name))
        if let hint = Self.prefixHint(missing: missing, unused: unused.map(\.name)) {
            notes.append(hint)
        } else if missing.count == wanted.count, !unused.isEmpty {
            notes.append(Self.anotherNetwork(specs.map(\.name), file: unused.map(\.name)))
        }
        if let hint = Self.shard(file) { notes.append(hint) }
        if !otherUnused.isEmpty {
            let shown = otherUnused.prefix(6).map { "\($0.display) \($0.shape)" }.joined(separator: ", ")
            let more = otherUnused.dropFirst(6).reduce(0) { $0 + $1.members.count }
            notes.append("the file's \(anySuggested ? "other " : "")unused tensors: \(shown)\(more > 0 ? ", and \(more) more" : "")")
        }
        return EngineError(message, notes: notes)
    }
}

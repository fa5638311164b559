import ArchSemantics

/// `archc ops [OP ...] [--markdown | --json]`: the op reference, for every op or the ones named.
extension Driver {
    static let opsUsage = """
    USAGE: archc ops [OP ...] [--markdown | --json]

    Lists the ops of the language with their arguments, shape rules, parameters and MACs; with OP
    names (or other spellings: dense, conv2d, norm), only those.

    OPTIONS:
      --markdown               the reference as in Grammar.md
      --json                   {"ops": [...]}: each op's name, summary, arguments (kind, default, doc),
                               shape rule, parameters and MACs, for tools
    """

    static func ops(_ args: [String]) -> Output {
        let opts: (files: [String], flags: Set<String>, values: [String: String], bindings: [String: Int])
        do { opts = try parseOptions(args, flags: ["--markdown", "--json"], valued: []) } catch let e as UsageError {
            return usageError(e.message, opsUsage)
        } catch { return usageError("\(error)", opsUsage) }
        if opts.flags.contains("--markdown") && opts.flags.contains("--json") {
            return usageError("--markdown and --json are separate outputs; give one", opsUsage)
        }
        if !opts.bindings.isEmpty { return usageError("ops takes no --set", opsUsage) }
        var chosen: [OpSpec] = []
        for name in opts.files {
            let found = name == "norm" ? OpRegistry.normKinds.values.sorted().compactMap(OpRegistry.op(named:)) : OpRegistry.op(named: name).map { [$0] } ?? []
            guard !found.isEmpty else {
                return Output(stderr: "error: unknown op '\(name)'\(Suggest.didYouMean(name, in: OpRegistry.names))\n", status: 1)
            }
            for op in found where !chosen.contains(where: { $0.kind == op.kind }) { chosen.append(op) }
        }
        let list = opts.files.isEmpty ? OpRegistry.all : chosen
        if opts.flags.contains("--json") { return Output(stdout: OpsReference.json(list)) }
        return Output(stdout: OpsReference.render(list, markdown: opts.flags.contains("--markdown")))
    }
}

import ArchSemantics

/// The passes from a checked graph to a planned program, in order, each followed by the verifier.
/// `observe` sees the program after every pass (`archc ir --after PASS` prints one of them).
public enum Passes {
    public static let names = [Lower.name, FuseEpilogues.name, PlanBuffers.name]

    public static func run(_ graph: Graph, through last: String = PlanBuffers.name,
                           observe: (Program) -> Void = { _ in }) throws -> Program {
        guard let end = names.firstIndex(of: last) else {
            throw IRError("there is no pass named '\(last)'", notes: ["the passes: " + names.joined(separator: ", ")])
        }
        var p = try Lower.run(graph)
        try check(p)
        observe(p)
        if end >= 1 {
            p = FuseEpilogues.run(p)
            try check(p)
            observe(p)
        }
        if end >= 2 {
            p = try PlanBuffers.run(p)
            try check(p)
            observe(p)
        }
        return p
    }

    static func check(_ p: Program) throws {
        let problems = ProgramVerifier.verify(p)
        guard problems.isEmpty else {
            throw IRError("internal error after the '\(p.passes.last ?? "")' pass: " + problems.prefix(5).joined(separator: "; "),
                          notes: ["this is a bug in archc; please report it with the spec"])
        }
    }
}

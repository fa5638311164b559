import ArchSemantics
import ArchKernels

/// The passes from a checked graph to a planned program, in order, each followed by the verifier.
/// `observe` sees the program after every pass (`archc ir --after PASS` prints one of them).
public enum Passes {
    public static let names = [Lower.name, Fuse.name, Schedule.name, PrepareConstants.name, TileFusion.name, PlanBuffers.name]

    public static func run(_ graph: Graph, threads: Int = Parallel.cores, through last: String = PlanBuffers.name, tuning: Tuning? = nil,
                           observe: (Program) -> Void = { _ in }) throws -> Program {
        guard let end = names.firstIndex(of: last) else {
            throw IRError("there is no pass named '\(last)'", notes: ["the passes: " + names.joined(separator: ", ")])
        }
        let passes: [(Program) throws -> Program] = [
            { _ in try Lower.run(graph, threads: threads) }, Fuse.run, { Schedule.run($0, tuning: tuning) }, PrepareConstants.run, TileFusion.run, PlanBuffers.run,
        ]
        var p = Program(name: "", graph: graph, values: [], steps: [], constants: [], inputs: [], output: 0, threads: threads)
        for pass in passes[...end] {
            p = try pass(p)
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

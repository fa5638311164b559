import ArchSemantics
import ArchIR
import ArchKernels

/// The counts `archc params` reports, computed once from the graph with overflow checks.
public struct Summary {
    public struct Row {
        public var name: String
        public var type: String
        public var depth: Int
        public var outputShape: Shape?
        public var params: Int
        public var macs: Int?
    }

    public var model: String
    public var rows: [Row] = []
    public var params = 0
    public var bufferElements = 0
    public var macs: Int? = 0
    public var otherOps: Int? = 0
    public var outputShape: Shape?
    /// nil when the bytes do not fit in 64 bits.
    public var paramBytes: Int?
    /// The planned arena's size in bytes (every activation and scratch buffer, sharing memory where
    /// their lifetimes allow), and the threads it was planned for.
    public var activationBytes: Int?
    public var planThreads = 1
    /// Symbols still unbound (MACs and memory depend on them).
    public var unboundSymbols: [String] = []

    /// `arena`: plan the program for the activation memory (when every size is bound); the
    /// diagram, which shows no memory, leaves it out.
    public init(_ g: Graph, arena: Bool = true) throws {
        model = g.modelName
        for p in g.params {
            // Buffers are reported for information; a sum past 64 bits saturates rather than fails.
            if p.isBuffer { bufferElements = bufferElements.addingReportingOverflow(p.count).overflow ? Int.max : bufferElements + p.count } else { params = try checkedAdd(params, p.count, "parameter count") }
        }
        paramBytes = params.multipliedReportingOverflow(by: 4).overflow ? nil : params * 4
        for n in g.nodes {
            macs = try add(macs, n.macs)
            // Other ops are informative; past 64 bits they are reported as unknown.
            otherOps = (try? add(otherOps, n.otherOps)) ?? nil
        }
        outputShape = g.output.map { g.values[$0].shape }
        var symbols = Set<String>()
        for v in g.values { for d in v.shape { symbols.formUnion(d.symbols) } }
        unboundSymbols = symbols.sorted()
        for m in g.modules {
            var p = 0
            var mc: Int? = 0
            for n in g.nodes[m.nodes] {
                for id in n.ownParams where !g.params[id].isBuffer { p = try checkedAdd(p, g.params[id].count, "parameter count") }
                mc = try add(mc, n.macs)
            }
            let shape = m.nodes.isEmpty ? nil : g.values[g.nodes[m.nodes.upperBound - 1].output].shape
            rows.append(Row(name: m.name, type: m.type, depth: m.path.count, outputShape: shape, params: p, macs: mc))
        }
        // The arena the interpreter and built programs allocate for this machine's cores (none while
        // a size is unbound, or when the plan itself reports a problem).
        if arena, symbols.isEmpty, let program = try? Passes.run(g, threads: Parallel.cores) {
            activationBytes = program.arenaCount.multipliedReportingOverflow(by: 4).overflow ? nil : program.arenaCount * 4
            planThreads = program.threads
        }
    }

    func add(_ a: Int?, _ b: Int?) throws -> Int? {
        guard let a, let b else { return nil }
        return try checkedAdd(a, b, "MAC count")
    }
}

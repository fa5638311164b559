import ArchSemantics
import ArchEngine

extension MemoryBudget {
    /// Floats of every tensor the graph declares (parameters and buffers), overflow-checked.
    public static func parameterFloats(_ graph: Graph) throws -> Int {
        var total = 0
        for p in graph.params {
            var count = 1
            for d in p.shape {
                let (c, o) = count.multipliedReportingOverflow(by: d)
                guard !o else { throw RuntimeError("the tensor '\(p.name)' \(p.shape) is too large to address") }
                count = c
            }
            let (t, o) = total.addingReportingOverflow(count)
            guard !o else { throw RuntimeError("the network's parameters are too many to address") }
            total = t
        }
        return total
    }
}

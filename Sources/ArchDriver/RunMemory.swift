import ArchIR
import ArchIO
import ArchRuntime
import ArchEngine

/// `archc run`'s memory, counted before it is taken: the weights as loaded from the file (a network
/// with 268 MB of weights ran at 546 MB when only the packed copy was counted), the constants made
/// from them (folded, packed),
/// the activations' arena and the inputs.
extension Driver {
    /// The terms of the run's memory budget, in 4-byte values (an integer counts two).
    static func runMemoryTerms(program: Program, inputs: [String: Tensor], loadedWeights: Int) throws -> [(what: String, floats: Int)] {
        var inputFloats = 0
        for t in inputs.values { inputFloats = inputFloats.addingReportingOverflow(t.count * (t.isInteger ? 2 : 1)).partialValue }
        let constants = program.constants.reduce(0) { $0.addingReportingOverflow($1.count).partialValue }
        return [("weights as loaded", loadedWeights), ("constants (folded and packed weights)", constants),
                ("activations", program.arenaCount), ("inputs", inputFloats)]
    }

    /// Reads the weights (a file, shards, an index: `Checkpoint`) once the tensors they hold are known to
    /// fit next to the rest of the run.
    static func loadWeights(_ paths: [String], program: Program, inputs: [String: Tensor]) throws -> [(name: String, tensor: Tensor)] {
        try Checkpoint.read(paths) { loaded in
            try MemoryBudget.check(try runMemoryTerms(program: program, inputs: inputs, loadedWeights: loaded),
                                   fix: "use a smaller batch or sequence (--set), a smaller network, or a machine with more memory")
        }
    }
}

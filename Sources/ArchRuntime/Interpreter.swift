import Foundation
import ArchSemantics
import ArchIR
import ArchKernels
import ArchEngine
import ArchIO

/// Runs a planned program: its kernel calls one after the other over the arena of a `Session`
/// (the same kernels, arguments and session a program made by `archc build` uses). Steady-state
/// runs allocate nothing; views cost nothing and in-place steps write over their operand.
public final class Interpreter {
    public let program: Program
    let session: Session
    let calls: [KernelCall]

    /// When set, the time each step took in the last run, in seconds (`archc run --profile`).
    public var profile: [Double]?

    public init(program: Program, weights: WeightStore) throws {
        guard program.isPlanned else { throw RuntimeError("internal error: the program's buffers are not planned") }
        self.program = program
        session = try Session(program.executable, parameters: weights.values)
        calls = program.steps.map(\.kind)
    }

    /// Plans the graph's buffers and prepares to run it.
    public convenience init(graph: Graph, weights: WeightStore, threads: Int = Parallel.cores) throws {
        try self.init(program: try Passes.run(graph, threads: threads), weights: weights)
    }

    /// The most threads a kernel may use (at most the program's).
    public var threads: Int {
        get { session.maxThreads }
        set { session.maxThreads = max(1, min(newValue, program.threads)) }
    }

    /// Runs the network on its inputs (by input name) and returns the output tensor.
    public func run(_ inputs: [String: Tensor]) throws -> Tensor {
        if profile != nil { profile = [Double](repeating: 0, count: calls.count) }
        do {
            return try session.run(inputs) { frame in
                for (i, call) in calls.enumerated() {
                    let start = profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
                    try call.run(frame)
                    if profile != nil { profile![i] = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
                }
            }
        } catch let e as EngineError {
            throw RuntimeError(e.message, notes: e.notes)
        } catch let e as KernelError {
            throw RuntimeError(e.message)
        }
    }
}

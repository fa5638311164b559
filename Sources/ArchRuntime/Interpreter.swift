import Foundation
import ArchSemantics
import ArchIR
import ArchKernels
import ArchIO

/// Executes a planned program step by step. Every value lives in its planned buffer of one float
/// arena, allocated once and reused by every run; views cost nothing and in-place steps write
/// over their input.
public final class Interpreter {
    let program: Program
    let graph: Graph
    let weights: WeightStore
    let arena: UnsafeMutablePointer<Float>
    /// The step being executed.
    var current = 0
    /// Convolution weights with their batchnorm folded in, by step.
    lazy var folded = FoldedWeights(program: program, weights: weights)
    /// Convolution weights prepared for their kernel on first use, by step.
    var packedConvs: [Int: PackedConv] = [:]
    /// Transposed convolutions' weights, transposed and packed per group on first use, by step.
    var packedTransposed: [Int: [Gemm.PackedA]] = [:]
    /// gMLP's token-mixing weights packed for the GEMM on first use, by step.
    var packedTokenMixing: [Int: Gemm.PackedA] = [:]
    /// Tables a step derives from its parameters or shape on first use (Swin's relative position
    /// bias per head, sinusoidal positions), by step.
    var derivedTables: [Int: [Float]] = [:]
    /// Scratch memory for steps' temporaries.
    let workspace = Workspace()
    /// Linear weights packed for the GEMM on first use, by parameter.
    var packedLinears: [Int: Gemm.PackedB] = [:]

    /// When set, the time each step took in the last run, in seconds (`archc run --profile`).
    public var profile: [Double]?

    public init(program: Program, weights: WeightStore) throws {
        guard program.isPlanned else { throw RuntimeError("internal error: the program's buffers are not planned") }
        self.program = program
        self.graph = program.graph
        self.weights = weights
        // The activations' arena, and the weights once more for their packed copies.
        try MemoryBudget.check([("activations", program.arenaCount), ("packed weights", try MemoryBudget.parameterFloats(program.graph))],
                               fix: "use a smaller batch or sequence (--set), or a machine with more memory")
        arena = .allocate(capacity: max(program.arenaCount, 1))
        arena.initialize(repeating: 0, count: max(program.arenaCount, 1))
    }

    /// Plans the graph's buffers and prepares to run it.
    public convenience init(graph: Graph, weights: WeightStore) throws {
        try self.init(program: try Passes.run(graph), weights: weights)
    }

    deinit { arena.deallocate() }

    /// Runs the network on its inputs (by input name) and returns the output tensor.
    public func run(_ inputs: [String: Tensor]) throws -> Tensor {
        for (name, v) in program.inputs {
            guard let t = inputs[name] else { throw RuntimeError("no data for input '\(name)'") }
            guard t.shape == shape(v) else { throw RuntimeError("input '\(name)' has shape \(t.shape) but the network expects \(shape(v))") }
            let dst = mutable(v)
            _ = t.floats.withUnsafeBufferPointer { memcpy(dst.baseAddress!, $0.baseAddress!, $0.count * 4) }
        }
        if profile != nil { profile = [Double](repeating: 0, count: program.steps.count) }
        for (i, step) in program.steps.enumerated() {
            current = i
            let start = profile == nil ? 0 : DispatchTime.now().uptimeNanoseconds
            let out = mutable(step.output)
            switch step.storage {
            case .view: continue
            case .inPlace, .fresh: try execute(step, graph.nodes[step.node], out)
            }
            applyFusedActivation(step, out)
            if profile != nil { profile![i] = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9 }
        }
        return Tensor(shape: shape(program.output), floats: Array(view(program.output)))
    }

    /// The current step's derived table, made by `make` on the first run.
    func derivedTable(_ make: () -> [Float]) -> [Float] {
        if let t = derivedTables[current] { return t }
        let t = make()
        derivedTables[current] = t
        return t
    }

    /// A value's shape, concrete.
    func shape(_ v: Int) -> [Int] { program.values[v].shape }

    /// A value's data in the arena.
    func view(_ v: Int) -> UnsafeBufferPointer<Float> { UnsafeBufferPointer(mutable(v)) }
    func mutable(_ v: Int) -> UnsafeMutableBufferPointer<Float> {
        let value = program.values[v]
        return UnsafeMutableBufferPointer(start: arena + program.buffers[value.buffer!].offset, count: value.count)
    }

    func input(_ node: Graph.Node, _ i: Int = 0) -> UnsafeBufferPointer<Float> { view(node.inputs[i]) }

    /// The output buffer holding a copy of the first input (nothing to copy when the step runs in
    /// place), for ops that update their input.
    func inPlace(_ node: Graph.Node, _ out: UnsafeMutableBufferPointer<Float>) -> UnsafeMutableBufferPointer<Float> {
        let x = input(node)
        if x.baseAddress! != UnsafePointer(out.baseAddress!) { out.baseAddress!.update(from: x.baseAddress!, count: x.count) }
        return out
    }

    /// An activation the step absorbed, unless its kernel already applied it while writing.
    func applyFusedActivation(_ step: Program.Step, _ out: UnsafeMutableBufferPointer<Float>) {
        guard epilogueActivation(step) == .none else { return }
        for case .activation(let a) in step.fused { Elementwise.apply(a, approx: nil, out) }
    }

    /// The activation a step's GEMM applies as it writes its output (convolutions and linear layers).
    func epilogueActivation(_ step: Program.Step) -> Epilogue.Activation {
        guard step.op == "conv" || step.op == "linear" else { return .none }
        for case .activation(let a) in step.fused { return Self.kernelActivation(a) ?? .none }
        return .none
    }

    /// The GEMM epilogue that computes the activation `name`, if there is one.
    static func kernelActivation(_ name: String) -> Epilogue.Activation? {
        switch name {
        case "relu": return .relu
        case "relu6": return .relu6
        case "gelu": return .gelu
        default: return nil
        }
    }

    /// The node's parameter whose name ends with `.suffix` (or is exactly the bare tensor).
    func param(_ node: Graph.Node, _ suffix: String) -> [Float]? { paramID(node, suffix).flatMap { weights.values[$0] } }
    func paramID(_ node: Graph.Node, _ suffix: String) -> Int? {
        node.params.first { graph.params[$0].name == suffix || graph.params[$0].name.hasSuffix("." + suffix) }
    }
    func bareParam(_ node: Graph.Node) -> [Float]? { node.params.first.flatMap { weights.values[$0] } }
}

import ArchSemantics
import ArchCore
import ArchKernels
import ArchEngine

/// The executable IR: the checked graph with every size bound, as a straight-line list of kernel
/// calls over values with concrete shapes, each value in a planned buffer of one float arena, and
/// the constants the calls read, each with the recipe that makes it from the weights.
/// The interpreter runs it; `archc build` prints the same calls as Swift.
///
/// Values keep the checked graph's numbering (`%n`); the values lowering adds (a layer's inner
/// tensors, scratch memory) come after the graph's.
public struct Program: Sendable {
    public struct Value: Sendable {
        public var shape: [Int]
        /// The buffer the value lives in (`nil` until buffers are planned, or when no step uses it).
        public var buffer: Int?
        /// Scratch memory of one step (nothing else reads it).
        public var isScratch = false
        public var count: Int { shape.reduce(1, *) }
    }

    /// A batchnorm the prepare pass folds into the step's weights (a convolution) or turns into its
    /// scale and shift (a channel affine step): its statistics and affine parameters, by constant.
    public struct Batchnorm: Sendable, Equatable {
        public var mean: Int, variance: Int, gamma: Int?, beta: Int?
        public var eps: Float
        /// The graph node of the batchnorm (for printing).
        public var node: Int
    }

    public struct Step: Sendable {
        public var kind: KernelCall
        /// The graph nodes this step computes: one, or more once the fuse pass has merged steps.
        public var nodes: [Int]
        /// How the output shares storage with an input, once buffers are planned.
        public var storage: Storage = .fresh
        /// A batchnorm to fold in (set by fuse or lower, consumed by prepare).
        public var batchnorm: Batchnorm? = nil
        /// What the schedule estimated for the step, for `archc ir --after schedule`.
        public var estimate: Estimate? = nil

        public init(_ kind: KernelCall, node: Int) {
            self.kind = kind
            self.nodes = [node]
        }

        public var reads: [Int] { kind.call.reads }
        public var output: Int { kind.call.output }
        public var scratch: Int? { kind.call.scratchValue }
    }

    /// A range of the arena. Buffers whose lifetimes do not overlap may share bytes.
    public struct Buffer: Sendable {
        /// In floats from the arena's start, aligned to 64 bytes.
        public var offset: Int
        public var count: Int
        /// The first step that writes it and the last that reads it (inputs are written at -1;
        /// the output is read at `steps.count`).
        public var firstStep: Int
        public var lastStep: Int
    }

    public var name: String
    public var graph: Graph
    public var values: [Value]
    public var steps: [Step]
    public var constants: [ConstantSpec]
    public var inputs: [(name: String, value: Int)]
    public var output: Int
    /// The threads the program is scheduled for.
    public var threads: Int
    public var buffers: [Buffer] = []
    /// Floats the arena holds once buffers are planned.
    public var arenaCount: Int = 0
    /// The passes run so far, in order.
    public var passes: [String] = []

    public var isPlanned: Bool { passes.contains(PlanBuffers.name) }
    public var isScheduled: Bool { passes.contains(Schedule.name) }
    public var isPrepared: Bool { passes.contains(PrepareConstants.name) }

    /// The graph node a step comes from (the first, for a fused step).
    public func node(_ step: Step) -> Graph.Node { graph.nodes[step.nodes[0]] }

    /// Adds a value of the given shape; returns its number.
    public mutating func addValue(_ shape: [Int], scratch: Bool = false) -> Int {
        values.append(Value(shape: shape, buffer: nil, isScratch: scratch))
        return values.count - 1
    }
}

/// A problem lowering or transforming a program: the message and fix notes.
public typealias IRError = ArchCore.ToolError

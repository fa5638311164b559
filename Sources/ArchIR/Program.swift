import ArchSyntax
import ArchSemantics

/// The executable IR: the checked graph with every size bound, as a straight-line list of steps
/// over values with concrete shapes, each value living in a planned buffer of one float arena.
/// The interpreter runs it; the ahead-of-time backend will transform and compile the same thing.
///
/// Values keep the checked graph's numbering (`%n`), so a dump after any pass can be read beside
/// `archc ir`. Parameters stay named, as in the graph: weights are bound by name at run time.
public struct Program: Sendable {
    public struct Value: Sendable {
        public var shape: [Int]
        /// The buffer the value lives in (`nil` until buffers are planned, or when no step uses it).
        public var buffer: Int?
        public var count: Int { shape.reduce(1, *) }
    }

    /// An epilogue a producer absorbed: folded into its weights (batchnorm) or applied as its
    /// output is written (activations).
    public enum Fused: Sendable, Equatable {
        /// A batchnorm folded into a convolution's weights and bias; `node` is the graph node
        /// whose parameters (running statistics, affine weights) are folded.
        case batchnorm(node: Int)
        case activation(String)
    }

    public struct Step: Sendable {
        /// The checked node this step computes (its op, arguments, parameters and source place).
        public var node: Int
        public var op: String
        public var inputs: [Int]
        public var output: Int
        public var fused: [Fused] = []
        /// How the output shares storage with `inputs[0]`, once buffers are planned.
        public var storage: Storage = .fresh
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
    public var inputs: [(name: String, value: Int)]
    public var output: Int
    public var buffers: [Buffer] = []
    /// Floats the arena holds once buffers are planned.
    public var arenaCount: Int = 0
    /// The passes run so far, in order.
    public var passes: [String] = []

    /// The graph node a step computes.
    public func node(_ step: Step) -> Graph.Node { graph.nodes[step.node] }

    public var isPlanned: Bool { passes.contains(PlanBuffers.name) }
}

/// A problem lowering or transforming a program: the message and fix notes.
public typealias IRError = ToolError

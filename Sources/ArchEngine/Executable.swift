import ArchKernels

/// Everything about a planned program except its steps: the tensors it expects, the constants it
/// makes from them, where each value lives in the arena, and its inputs and output. The interpreter
/// builds one from the IR; a program made by `archc build` carries one as a literal.
public struct Executable: Sendable, Equatable {
    /// An input or the output: its name, value number, concrete shape, and whether it holds token ids.
    public struct Port: Sendable, Equatable {
        public var name: String
        public var value: Int
        public var shape: [Int]
        public var isTokens: Bool
        public init(name: String, value: Int, shape: [Int], isTokens: Bool) {
            self.name = name
            self.value = value
            self.shape = shape
            self.isTokens = isTokens
        }
        public var count: Int { shape.reduce(1, *) }
    }

    public var name: String
    public var parameters: [ParameterSpec]
    public var constants: [ConstantSpec]
    /// Per value, its offset in the arena in floats.
    public var offsets: [Int]
    public var arenaCount: Int
    public var inputs: [Port]
    public var output: Port
    /// The threads the program was scheduled for.
    public var threads: Int

    public init(name: String, parameters: [ParameterSpec], constants: [ConstantSpec], offsets: [Int], arenaCount: Int,
                inputs: [Port], output: Port, threads: Int) {
        self.name = name
        self.parameters = parameters
        self.constants = constants
        self.offsets = offsets
        self.arenaCount = arenaCount
        self.inputs = inputs
        self.output = output
        self.threads = threads
    }

    /// Floats of the constants kernels read at run time.
    public var runtimeConstantCount: Int { constants.filter(\.isRuntime).reduce(0) { $0 &+ $1.count } }
}

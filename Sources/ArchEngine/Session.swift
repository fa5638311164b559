import Foundation
import ArchKernels
import ArchIO

/// A program loaded and ready to run: its weights bound and turned into constants, its arena
/// allocated once. `run` copies the inputs in, runs the steps (`forward`: the interpreter's loop over
/// kernel calls, or a built program's straight-line code) and copies the output out.
public final class Session {
    public let executable: Executable
    let constants: [UnsafeMutablePointer<Float>]
    let constantTable: UnsafeMutablePointer<UnsafeMutablePointer<Float>>
    let offsets: UnsafeMutablePointer<Int>
    let arena: UnsafeMutablePointer<Float>
    /// The most threads a kernel may use (at most what the program was scheduled for).
    public var maxThreads: Int

    /// Binds the weights (per parameter, as `ParameterBinding` returns them) and makes the constants.
    public init(_ e: Executable, parameters: [[Float]?]) throws {
        try MemoryBudget.check([("activations", e.arenaCount), ("constants", e.constants.reduce(0) { $0 &+ $1.count })],
                               fix: "use a smaller batch or sequence (--set), or a machine with more memory")
        executable = e
        constants = Prepare.evaluate(e.constants) { i, out in
            parameters[i]!.withUnsafeBufferPointer { out.update(from: $0.baseAddress!, count: $0.count) }
        }
        constantTable = .allocate(capacity: max(constants.count, 1))
        constantTable.initialize(from: constants, count: constants.count)
        offsets = .allocate(capacity: max(e.offsets.count, 1))
        offsets.initialize(from: e.offsets, count: e.offsets.count)
        arena = .allocate(capacity: max(e.arenaCount, 1))
        arena.initialize(repeating: 0, count: max(e.arenaCount, 1))
        maxThreads = e.threads
    }

    /// Loads the weights file and binds it: every missing or mis-shaped tensor is reported, not just
    /// the first. Returns the session and the warnings (tensors the program does not use).
    public static func load(_ e: Executable, weightsFile: String) throws -> (session: Session, warnings: [String]) {
        try load(e, weights: [weightsFile])
    }

    /// Loads a checkpoint of one file or several (shards, an index, a folder: `Checkpoint`) and binds it.
    public static func load(_ e: Executable, weights paths: [String]) throws -> (session: Session, warnings: [String]) {
        let tensors = try Checkpoint.read(paths)
        let bound = ParameterBinding.bind(e.parameters, tensors: tensors, file: Checkpoint.describe(paths))
        guard bound.errors.isEmpty else { throw BindingErrors(errors: bound.errors) }
        return (try Session(e, parameters: bound.values), bound.warnings)
    }

    deinit {
        Prepare.release(constants)
        constantTable.deallocate()
        offsets.deallocate()
        arena.deallocate()
    }

    public var frame: Frame { Frame(arena: arena, offsets: offsets, constants: constantTable, maxThreads: maxThreads) }

    /// Runs the program on its inputs (by name) and returns the output.
    public func run(_ inputs: [String: Tensor], _ forward: (Frame) throws -> Void) throws -> Tensor {
        for port in executable.inputs {
            guard let t = inputs[port.name] else { throw EngineError("no data for input '\(port.name)'") }
            try Session.check(t, for: port)
            let dst = arena + executable.offsets[port.value]
            t.floats.withUnsafeBufferPointer { dst.update(from: $0.baseAddress!, count: $0.count) }
        }
        try forward(frame)
        let out = executable.output
        return Tensor(shape: out.shape, floats: Array(UnsafeBufferPointer(start: arena + executable.offsets[out.value], count: out.count)))
    }

    /// An input must have the shape the program was built for and the right kind of values.
    public static func check(_ t: Tensor, for port: Executable.Port) throws {
        guard t.shape == port.shape else {
            throw EngineError("input '\(port.name)' has shape \(t.shape) but the network expects \(port.shape)")
        }
        if t.isInteger && !port.isTokens {
            throw EngineError("input '\(port.name)' holds integers, but the network expects floating-point features",
                              notes: ["convert it to float32 (numpy: x.astype(np.float32))"])
        }
    }
}

/// Several binding errors at once (every missing or mis-shaped tensor).
public struct BindingErrors: Error, CustomStringConvertible {
    public var errors: [EngineError]
    public var description: String { errors.map(\.description).joined(separator: "\n") }
}

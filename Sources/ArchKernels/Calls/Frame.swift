/// What a kernel call sees when it runs: the arena holding every value of the program (value `v`
/// at `offsets[v]` floats from its start), the constants prepared from the weights, and the most
/// threads it may use.
public struct Frame {
    public let arena: UnsafeMutablePointer<Float>
    public let offsets: UnsafePointer<Int>
    public let constants: UnsafePointer<UnsafeMutablePointer<Float>>
    public let maxThreads: Int

    public init(arena: UnsafeMutablePointer<Float>, offsets: UnsafePointer<Int>, constants: UnsafePointer<UnsafeMutablePointer<Float>>,
                maxThreads: Int) {
        self.arena = arena
        self.offsets = offsets
        self.constants = constants
        self.maxThreads = maxThreads
    }

    /// Value `v`'s data in the arena.
    @inline(__always) public func value(_ v: Int) -> UnsafeMutablePointer<Float> { arena + offsets[v] }
    /// Constant `c`'s data.
    @inline(__always) public func constant(_ c: Int) -> UnsafeMutablePointer<Float> { constants[c] }
    @inline(__always) func constant(_ c: Int?) -> UnsafePointer<Float>? { c.map { UnsafePointer(constants[$0]) } }
    @inline(__always) func value(_ v: Int?) -> UnsafeMutablePointer<Float>? { v.map { arena + offsets[$0] } }
    /// The threads a call scheduled for `scheduled` may use here.
    @inline(__always) func threads(_ scheduled: Int) -> Int { max(1, min(scheduled, maxThreads)) }
}

/// A failure inside a kernel that depends on the data (a token id outside the vocabulary).
public struct KernelError: Error, CustomStringConvertible, Sendable {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "error: " + message }
}

/// A call of one kernel with everything it needs as literal fields: sizes, the values it reads and
/// writes (by value number, `%n` in `archc ir`), the constants it uses (by constant number), and the
/// threads the schedule gave it. The interpreter runs a list of them; `archc build` prints the same
/// calls as Swift with the fields written out, so both run the same kernel code.
public protocol KernelCallProtocol: Sendable, Equatable {
    /// The values the call reads.
    var reads: [Int] { get }
    /// The value the call writes.
    var output: Int { get }
    /// A value the call uses as scratch memory while it runs (nothing else may be in it), if any.
    var scratchValue: Int? { get }
    /// Whether `run` can fail on the data (it throws `KernelError`).
    static var canFail: Bool { get }
    func run(_ f: Frame) throws
}

extension KernelCallProtocol {
    public var scratchValue: Int? { nil }
    public static var canFail: Bool { false }
}

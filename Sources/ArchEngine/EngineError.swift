/// A problem loading or running a program: missing or mis-shaped weights, bad inputs, memory.
/// Printed as `error: ...` then `note: ...` lines.
public struct EngineError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let notes: [String]
    public init(_ message: String, notes: [String] = []) {
        self.message = message
        self.notes = notes
    }
    public var description: String { (["error: " + message] + notes.map { "note: " + $0 }).joined(separator: "\n") }
}

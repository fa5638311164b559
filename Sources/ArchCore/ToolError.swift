/// A problem past the checker, with fix notes: printed as `error: ...` then `note: ...` lines. The
/// IR's passes, the runtime and the engine of built programs (weights, inputs, memory) report
/// through it.
public struct ToolError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let notes: [String]
    public init(_ message: String, notes: [String] = []) {
        self.message = message
        self.notes = notes
    }
    public var description: String { (["error: " + message] + notes.map { "note: " + $0 }).joined(separator: "\n") }
}

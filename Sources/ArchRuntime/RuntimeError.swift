/// A problem running a network: missing or mis-shaped weights, unsupported ops, bad inputs.
public struct RuntimeError: Error, CustomStringConvertible, Sendable {
    public let message: String
    public let notes: [String]
    public init(_ message: String, notes: [String] = []) {
        self.message = message
        self.notes = notes
    }
    public var description: String { (["error: " + message] + notes.map { "note: " + $0 }).joined(separator: "\n") }
}

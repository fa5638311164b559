import ArchCore

/// A problem running a network: missing or mis-shaped weights, unsupported ops, bad inputs.
public typealias RuntimeError = ToolError

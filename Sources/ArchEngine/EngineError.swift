@_exported import ArchCore

/// A problem loading or running a program: missing or mis-shaped weights, bad inputs, memory.
public typealias EngineError = ToolError

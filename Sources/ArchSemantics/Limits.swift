/// Bounds on what a spec may expand to, so no input can make the checker run away with time,
/// memory or stack. The defaults are far above any real network; tests use small ones.
public struct Limits: Sendable {
    /// Layers (graph nodes) after blocks and repetitions are expanded.
    public var nodes = 200_000
    /// Layer lines elaborated, repetitions included (empty groups repeated make no nodes but take time).
    public var steps = 500_000
    /// Groups and block bodies open at once; bounds the recursion of elaboration.
    public var nesting = 200
    /// Block uses inside block uses.
    public var blockDepth = 64
    /// Parameter tensors (not elements) a network may declare.
    public var tensors = 1_000_000

    public init() {}
    public static let standard = Limits()
}

/// Where an attention node's operands come from: the queries' tensor, the keys' and values' (the
/// same one for self-attention) and the key padding mask. The node's inputs are its input, then the
/// tensors its `.ref` options name, in the op's order: memory, queries, mask. Read alike by
/// lowering, the ONNX export and the training-memory count.
public struct AttentionOperands: Sendable {
    public var queries: Int, keys: Int, mask: Int?
    /// The option that makes it cross-attention (`memory` or `queries`), if any.
    public var cross: String?

    public init(_ n: Graph.Node) {
        var next = 1
        func ref(_ option: String) -> Int? {
            guard n.args[option] != nil, next < n.inputs.count else { return nil }
            defer { next += 1 }
            return n.inputs[next]
        }
        let memory = ref("memory"), queries = ref("queries")
        mask = ref("mask")
        self.queries = queries ?? n.inputs[0]
        keys = memory ?? n.inputs[0]
        cross = memory != nil ? "memory" : queries != nil ? "queries" : nil
    }
}

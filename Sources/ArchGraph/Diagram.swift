/// The network as a diagram, before any layout: one node per visible layer, collapsed block,
/// repeated run, merge, input and output; the edges between them; the clusters (expanded blocks)
/// that group them. Built from the checked graph by `DiagramBuilder`; laid out by `Layout`;
/// written by `SVGWriter`, `DOTWriter` and `MermaidWriter`.
public struct Diagram: Sendable {
    public enum Kind: Sendable, Equatable {
        case input, output, layer, merge
    }

    public struct Node: Sendable {
        public var kind: Kind
        /// The bold first line: a layer's label, the op of an unlabelled one, an input's name.
        public var title: String
        /// The op or block type after the title (empty when the title is it already).
        public var op: String
        /// The output shape, `B×197×768` (`B` the batch).
        public var shape: String
        /// Parameters as `archc params` counts them (a run: every repetition's).
        public var params: Int
        /// How many identical repetitions the node stands for (1: none).
        public var count: Int
        public var family: OpFamily
        /// The innermost cluster holding the node.
        public var cluster: Int?
        /// The full dotted path of the layer (the first repetition's, for a run), or the input's name.
        public var path: String
    }

    public struct Edge: Sendable, Hashable {
        public var from: Int
        public var to: Int
    }

    /// An expanded block drawn as a frame around its layers.
    public struct Cluster: Sendable {
        public var title: String
        public var op: String
        public var params: Int
        public var count: Int
        public var parent: Int?
        public var path: String
    }

    public var title: String
    public var nodes: [Node] = []
    public var edges: [Edge] = []
    public var clusters: [Cluster] = []
    public var totalParams: Int
    /// For each node of the checked graph, the diagram node that shows it.
    public var nodeOfGraphNode: [Int] = []
    /// A note for the footer when a shape letter abbreviates a symbol (`B = batch`).
    public var shapeNote: String?

    /// Every cluster holding `node`, innermost first.
    public func clusterChain(of node: Int) -> [Int] {
        var chain: [Int] = []
        var c = nodes[node].cluster
        while let id = c {
            chain.append(id)
            c = clusters[id].parent
        }
        return chain
    }

    /// The clusters holding `cluster`, itself first.
    public func ancestors(ofCluster cluster: Int) -> [Int] {
        var chain: [Int] = []
        var c: Int? = cluster
        while let id = c {
            chain.append(id)
            c = clusters[id].parent
        }
        return chain
    }

    /// The op families the diagram uses, in the legend's order.
    public var families: [OpFamily] {
        // Inputs and outputs share a colour and a legend entry.
        let used = Set(nodes.map { $0.family == .output ? .input : $0.family })
        return OpFamily.allCases.filter { used.contains($0) }
    }
}

import ArchSyntax

/// The checked program: a dataflow graph of typed values, op nodes, named parameters, and the
/// module tree that names them. Later stages (interpreter, code generation) consume this.
public final class Graph: @unchecked Sendable {
    public struct Param: Sendable {
        public var name: String
        public var shape: [Int]
        public var isBuffer: Bool
        public var isInteger: Bool
        public var node: Int
        public var count: Int
    }

    public struct Node: Sendable {
        public var op: OpKind
        public var path: [String]
        public var args: [String: Value]
        public var inputs: [Int]
        public var output: Int
        /// Parameters this node uses; tied ones point at the owner's entry.
        public var params: [Int]
        /// Parameters this node introduced (tied weights are counted at their owner).
        public var ownParams: [Int]
        public var macs: Int?
        public var otherOps: Int?
        public var loc: SourceLoc
        /// The expression each argument was written as on the layer's line, where one was (`out`
        /// for `conv 3 out`: the block parameter); code generation names widths after them.
        public var sources: [String: Expr] = [:]
    }

    /// A named layer or group of layers: a row of the `params` table.
    public struct Module: Sendable {
        public var path: [String]
        public var type: String
        public var loc: SourceLoc
        public var nodes: Range<Int>
        /// For a use of a block (`type` is the block's name): its parameters as bound for this use, in
        /// the order the block declares them; nil for a layer or a group.
        public var arguments: [Argument]? = nil
        public var name: String { path.joined(separator: ".") }
    }

    /// A block's parameter and the value a use bound it to (given, or its default).
    public struct Argument: Sendable, Equatable {
        public var name: String
        public var value: Value
        /// The expression the using line gave it as (nil for a default).
        public var source: Expr? = nil
        public static func == (a: Argument, b: Argument) -> Bool { a.name == b.name && a.value == b.value }
    }

    public var modelName: String = ""
    public var inputs: [(name: String, value: Int)] = []
    public var values: [TensorType] = []
    public var nodes: [Node] = []
    public var params: [Param] = []
    public var modules: [Module] = []
    public var output: Int?
    /// Tensors and modules the spec's `order` lists first among their siblings in the state_dict.
    public var stateDictFirst: [String] = []
    /// The node that computes each value (nil for inputs).
    public private(set) var producer: [Int?] = []

    public init() {}

    public func addValue(_ t: TensorType) -> Int {
        values.append(t)
        producer.append(nil)
        return values.count - 1
    }

    public func addNode(_ n: Node) {
        producer[n.output] = nodes.count
        nodes.append(n)
    }

    /// The node that computes a value, if any.
    public func node(producing value: Int) -> Node? { producer[value].map { nodes[$0] } }

    public var parameterCount: Int { params.filter { !$0.isBuffer }.reduce(0) { $0 &+ $1.count } }

    /// Parameters in the order a PyTorch state_dict lists them: in each module its own tensors
    /// (parameters, then buffers), then its children in the order they were first declared; the
    /// names of `stateDictFirst` before their siblings.
    public func stateDictOrder() -> [Int] {
        final class Tree {
            var own: [Int] = []
            var children: [Tree] = []
            var names: [String] = []
            var index: [String: Int] = [:]
            func child(_ n: String) -> Tree {
                if let i = index[n] { return children[i] }
                let t = Tree()
                index[n] = children.count
                children.append(t)
                names.append(n)
                return t
            }
            /// Puts the child named `n` before its siblings.
            func promote(_ n: String) {
                guard let i = index[n] else { return }
                children.insert(children.remove(at: i), at: 0)
                names.insert(names.remove(at: i), at: 0)
                for (k, name) in names.enumerated() { index[name] = k }
            }
        }
        let root = Tree()
        for (i, p) in params.enumerated() {
            let parts = p.name.split(separator: ".").map(String.init)
            var t = root
            for part in parts.dropLast() { t = t.child(part) }
            t.own.append(i)
        }
        for name in stateDictFirst.reversed() {
            var parts = name.split(separator: ".").map(String.init)
            let last = parts.removeLast()
            var t = root
            for part in parts { t = t.child(part) }
            if let own = t.own.firstIndex(where: { params[$0].name == name }) {
                t.own.insert(t.own.remove(at: own), at: 0)
            } else {
                t.promote(last)
            }
        }
        var order: [Int] = []
        func walk(_ t: Tree) {
            order += t.own.filter { !params[$0].isBuffer } + t.own.filter { params[$0].isBuffer }
            for c in t.children { walk(c) }
        }
        walk(root)
        return order
    }
}

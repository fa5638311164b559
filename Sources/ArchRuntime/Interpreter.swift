import ArchSemantics
import ArchKernels
import ArchIO

/// Executes a checked graph whose every size is bound, node by node, on float32 buffers.
/// Each value is freed after its last reader.
public final class Interpreter {
    let graph: Graph
    let weights: WeightStore
    var values: [Int: [Float]] = [:]
    /// The node being executed, and each value's last reader: a node that is the last reader of its
    /// input takes the buffer over and works in place instead of copying it.
    var current = 0
    var lastUse: [Int] = []
    /// Conv + batchnorm + ReLU fusions, planned once.
    lazy var fusion = FusionPlan(graph: graph, weights: weights)
    /// Convolution weights packed for the GEMM on first use, by node.
    var packedConvs: [Int: [Gemm.PackedA]] = [:]
    /// Linear weights packed for the GEMM on first use, by parameter.
    var packedLinears: [Int: Gemm.PackedB] = [:]

    public init(graph: Graph, weights: WeightStore) {
        self.graph = graph
        self.weights = weights
    }

    /// Runs the network on its inputs (by input name) and returns the output tensor.
    public func run(_ inputs: [String: Tensor]) throws -> Tensor {
        values = [:]
        for (name, v) in graph.inputs {
            guard let t = inputs[name] else { throw RuntimeError("no data for input '\(name)'") }
            let want = try shape(v)
            guard t.shape == want else { throw RuntimeError("input '\(name)' has shape \(t.shape) but the network expects \(want)") }
            values[v] = t.floats
        }
        lastUse = [Int](repeating: -1, count: graph.values.count)
        for (i, n) in graph.nodes.enumerated() { for v in n.inputs { lastUse[v] = max(lastUse[v], i) } }
        for (i, node) in graph.nodes.enumerated() {
            current = i
            values[node.output] = fusion.passThrough.contains(i) ? takeInput(node) : try execute(node)
            for v in node.inputs where lastUse[v] == i && v != graph.output { values[v] = nil }
        }
        guard let out = graph.output, let data = values[out] else { throw RuntimeError("the network produced no output") }
        return Tensor(shape: try shape(out), floats: data)
    }

    func shape(_ v: Int) throws -> [Int] {
        var s: [Int] = []
        for d in graph.values[v].shape {
            guard let n = d.value else {
                throw RuntimeError("the size \(d) is not bound", notes: ["bind it with --set \(d.symbols.first ?? "NAME")=N, or from the input's shape"])
            }
            s.append(n)
        }
        return s
    }

    func input(_ node: Graph.Node, _ i: Int = 0) -> [Float] { values[node.inputs[i]]! }

    /// The first input, owned: moved out of the value table when this node is its last reader
    /// (so in-place updates do not copy), copied otherwise.
    func takeInput(_ node: Graph.Node) -> [Float] {
        let v = node.inputs[0]
        if lastUse[v] == current && v != graph.output && !node.inputs.dropFirst().contains(v) {
            return values.removeValue(forKey: v)!
        }
        return values[v]!
    }

    /// The node's parameter whose name ends with `.suffix` (or is exactly the bare tensor).
    func param(_ node: Graph.Node, _ suffix: String) -> [Float]? {
        for id in node.params {
            let name = graph.params[id].name
            if name == suffix || name.hasSuffix("." + suffix) { return weights.values[id] }
        }
        return nil
    }
    func paramID(_ node: Graph.Node, _ suffix: String) -> Int? {
        node.params.first { graph.params[$0].name == suffix || graph.params[$0].name.hasSuffix("." + suffix) }
    }
    func bareParam(_ node: Graph.Node) -> [Float]? { node.params.first.flatMap { weights.values[$0] } }

    // MARK: arguments

    func int(_ node: Graph.Node, _ name: String) -> Int? {
        if case .int(let n)? = node.args[name] { return n }
        return nil
    }
    func word(_ node: Graph.Node, _ name: String) -> String? {
        if case .word(let w)? = node.args[name] { return w }
        return nil
    }
    func bool(_ node: Graph.Node, _ name: String) -> Bool {
        if case .bool(let b)? = node.args[name] { return b }
        return false
    }
    func float(_ node: Graph.Node, _ name: String) -> Float? {
        switch node.args[name] {
        case .float(let x)?: return Float(x)
        case .int(let n)?: return Float(n)
        default: return nil
        }
    }
    func sizes(_ node: Graph.Node, _ name: String, _ n: Int, default d: Int) -> [Int] {
        switch node.args[name] {
        case .int(let v)?: return Array(repeating: v, count: n)
        case .list(let vs)?:
            let ints = vs.compactMap { if case .int(let x) = $0 { return x } else { return nil } }
            return ints.count == 1 ? Array(repeating: ints[0], count: n) : ints
        default: return Array(repeating: d, count: n)
        }
    }

    // MARK: linear algebra helpers

    /// y[rows x out] = x[rows x in] W^T + b, with W [out x in] from parameter `id`, packed for the
    /// GEMM on first use.
    func linear(_ x: [Float], rows: Int, inF: Int, weight id: Int, bias: [Float]?, out: Int) -> [Float] {
        if packedLinears[id] == nil {
            packedLinears[id] = weights.values[id]!.withUnsafeBufferPointer { Gemm.PackedB(transposed: $0.baseAddress!, ldb: inF, n: out, k: inF) }
        }
        let packed = packedLinears[id]!
        var y = [Float](repeating: 0, count: rows * out)
        x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in
            if let bias {
                bias.withUnsafeBufferPointer { bb in
                    Gemm.sgemm(m: rows, a: xp.baseAddress!, lda: inF, packed: packed, c: yp.baseAddress!, ldc: out,
                               bias: bb.baseAddress, epilogue: Epilogue(bias: .perColumn))
                }
            } else {
                Gemm.sgemm(m: rows, a: xp.baseAddress!, lda: inF, packed: packed, c: yp.baseAddress!, ldc: out)
            }
        } }
        return y
    }

    /// C[m x n] = A[m x k] B[k x n] for plain arrays.
    static func matmul(_ a: [Float], _ b: [Float], m: Int, n: Int, k: Int) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            Gemm.sgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n, threads: 1)
        } } }
        return c
    }
}

import ArchSemantics
import ArchKernels

/// Linear layers and plain matrix products on the packed GEMM.
extension Interpreter {
    /// y[rows x out] = x[rows x in] W^T + b (+ activation), W [out x in] from parameter `id`, packed
    /// for the GEMM on first use; written straight into `y`.
    func linear(_ x: UnsafePointer<Float>, rows: Int, inF: Int, weight id: Int, bias: [Float]?, out: Int,
                into y: UnsafeMutablePointer<Float>, activation: Epilogue.Activation = .none) {
        if packedLinears[id] == nil {
            packedLinears[id] = weights.values[id]!.withUnsafeBufferPointer { Gemm.PackedB(transposed: $0.baseAddress!, ldb: inF, n: out, k: inF) }
        }
        let packed = packedLinears[id]!
        if let bias {
            bias.withUnsafeBufferPointer { bb in
                Gemm.sgemm(m: rows, a: x, lda: inF, packed: packed, c: y, ldc: out,
                           bias: bb.baseAddress, epilogue: Epilogue(bias: .perColumn, activation: activation))
            }
        } else {
            Gemm.sgemm(m: rows, a: x, lda: inF, packed: packed, c: y, ldc: out, bias: nil, epilogue: Epilogue(activation: activation))
        }
    }

    /// The same, into a new array.
    func linear(_ x: UnsafeBufferPointer<Float>, rows: Int, inF: Int, weight id: Int, bias: [Float]?, out: Int) -> [Float] {
        var y = [Float](repeating: 0, count: rows * out)
        y.withUnsafeMutableBufferPointer { linear(x.baseAddress!, rows: rows, inF: inF, weight: id, bias: bias, out: out, into: $0.baseAddress!) }
        return y
    }
    func linear(_ x: [Float], rows: Int, inF: Int, weight id: Int, bias: [Float]?, out: Int) -> [Float] {
        x.withUnsafeBufferPointer { linear($0, rows: rows, inF: inF, weight: id, bias: bias, out: out) }
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

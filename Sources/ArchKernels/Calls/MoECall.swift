/// Mixtral's sparse mixture of experts: softmax over the router's logits, the top k renormalised,
/// the chosen experts' outputs mixed by those weights. Each expert runs once, on all the rows routed
/// to it (gathered, one GEMM per projection). Experts are SwiGLU (w1 and w3 as one packed [2h, d]
/// projection, then w2) or MLPs (fc1, GELU, fc2).
public struct MoECall: KernelCallProtocol {
    public enum Expert: String, Sendable { case swiglu, mlp }
    public var rows = 0, width = 0, experts = 0, top = 2, hidden = 0
    public var expert = Expert.swiglu
    public var input = 0, output = 0
    public var scratch: Int? = nil
    /// The router [experts, d] packed, and per expert its two projections packed (and their biases).
    public var router = 0
    public var first: [Int] = [], firstBias: [Int?] = [], second: [Int] = [], secondBias: [Int?] = []
    public var threads = 1

    public init(rows: Int = 0, width: Int = 0, experts: Int = 0, top: Int = 2, hidden: Int = 0, expert: Expert = Expert.swiglu,
                input: Int = 0, output: Int = 0, scratch: Int? = nil, router: Int = 0, first: [Int] = [], firstBias: [Int?] = [],
                second: [Int] = [], secondBias: [Int?] = [], threads: Int = 1) {
        self.rows = rows; self.width = width; self.experts = experts; self.top = top; self.hidden = hidden; self.expert = expert
        self.input = input; self.output = output; self.scratch = scratch; self.router = router; self.first = first
        self.firstBias = firstBias; self.second = second; self.secondBias = secondBias; self.threads = threads
    }

    public var reads: [Int] { [input] }
    public var scratchValue: Int? { scratch }

    /// Floats of scratch: the logits, the gathered rows, the hidden layer and the experts' outputs.
    public static func scratchCount(rows: Int, width: Int, experts: Int, hidden: Int) -> Int {
        rows * experts + rows * width + rows * 2 * hidden + rows * width
    }

    public func run(_ f: Frame) {
        let x = f.value(input), y = f.value(output), t = f.threads(threads)
        let logits = f.value(scratch)!, gathered = logits + rows * experts
        let mid = gathered + rows * width, expertOut = mid + rows * 2 * hidden
        Gemm.sgemm(m: rows, a: x, lda: width, packed: PackedB(f.constant(router), n: experts, k: width), c: logits, ldc: experts, threads: t)
        Elementwise.softmaxRows(logits, rows: rows, width: experts)
        let routed = route(logits)
        y.update(repeating: 0, count: rows * width)
        for (ex, batch) in routed.enumerated() where !batch.isEmpty {
            for (i, item) in batch.enumerated() { (gathered + i * width).update(from: x + item.row * width, count: width) }
            let n = batch.count
            switch expert {
            case .swiglu:
                Gemm.sgemm(m: n, a: gathered, lda: width, packed: PackedB(f.constant(first[ex]), n: 2 * hidden, k: width), c: mid, ldc: 2 * hidden,
                           epilogue: .columns(f.constant(firstBias[ex])), threads: t)
                GateCall(rows: n, width: hidden, input: 0, output: 0, activation: .silu).gate(mid, mid)
            case .mlp:
                Gemm.sgemm(m: n, a: gathered, lda: width, packed: PackedB(f.constant(first[ex]), n: hidden, k: width), c: mid, ldc: hidden,
                           epilogue: .columns(f.constant(firstBias[ex]), .gelu), threads: t)
            }
            Gemm.sgemm(m: n, a: mid, lda: hidden, packed: PackedB(f.constant(second[ex]), n: width, k: hidden), c: expertOut, ldc: width,
                       epilogue: .columns(f.constant(secondBias[ex])), threads: t)
            for (i, item) in batch.enumerated() {
                let dst = y + item.row * width, src = expertOut + i * width
                for j in 0..<width { dst[j] += item.weight * src[j] }
            }
        }
    }

    /// Each expert's rows and their mixing weights: the top k by probability (ties to the lower
    /// index), renormalised to sum to one.
    func route(_ p: UnsafePointer<Float>) -> [[(row: Int, weight: Float)]] {
        var routed = [[(row: Int, weight: Float)]](repeating: [], count: experts)
        var order = Array(0..<experts)
        for r in 0..<rows {
            let row = p + r * experts
            order.sort { row[$0] > row[$1] || (row[$0] == row[$1] && $0 < $1) }
            let chosen = order.prefix(top)
            let total = chosen.reduce(Float(0)) { $0 + row[$1] }
            for ex in chosen { routed[ex].append((r, row[ex] / total)) }
        }
        return routed
    }
}

extension GateCall {
    /// The gate on raw pointers (`out` may be `x`).
    func gate(_ x: UnsafePointer<Float>, _ out: UnsafeMutablePointer<Float>) {
        for r in 0..<rows {
            let a = x + r * 2 * width, b = a + width, o = out + r * width
            for j in 0..<width { o[j] = activation.apply(a[j]) * b[j] }
        }
    }
}

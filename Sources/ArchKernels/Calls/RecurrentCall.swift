import Foundation

/// nn.RNN / nn.LSTM / nn.GRU with batch_first, PyTorch's gate order (LSTM i, f, g, o; GRU r, z, n),
/// several layers and both directions; `last` keeps only the last time step. Per layer and
/// direction the input contributions of every step are one GEMM; the recurrence is a small GEMM
/// per step. Weights are packed once, in the order layer, direction: w_ih, w_hh (biases likewise).
public struct RecurrentCall: KernelCallProtocol {
    public enum Cell: String, Sendable { case rnn, lstm, gru }
    public var cell = Cell.lstm
    public var batch = 0, steps = 0, inputWidth = 0, hidden = 0, layers = 1, directions = 1
    public var last = false
    public var inputWeights: [Int] = [], hiddenWeights: [Int] = [], inputBiases: [Int?] = [], hiddenBiases: [Int?] = []
    public var input = 0, output = 0
    public var scratch: Int? = nil
    public var threads = 1

    public init(cell: Cell = Cell.lstm, batch: Int = 0, steps: Int = 0, inputWidth: Int = 0, hidden: Int = 0, layers: Int = 1,
                directions: Int = 1, last: Bool = false, inputWeights: [Int] = [], hiddenWeights: [Int] = [], inputBiases: [Int?] = [],
                hiddenBiases: [Int?] = [], input: Int = 0, output: Int = 0, scratch: Int? = nil, threads: Int = 1) {
        self.cell = cell; self.batch = batch; self.steps = steps; self.inputWidth = inputWidth; self.hidden = hidden
        self.layers = layers; self.directions = directions; self.last = last; self.inputWeights = inputWeights
        self.hiddenWeights = hiddenWeights; self.inputBiases = inputBiases; self.hiddenBiases = hiddenBiases; self.input = input
        self.output = output; self.scratch = scratch; self.threads = threads
    }

    public var reads: [Int] { [input] }
    public var scratchValue: Int? { scratch }

    var gates: Int {
        switch cell {
        case .rnn: return 1
        case .lstm: return 4
        case .gru: return 3
        }
    }

    /// Floats of scratch: two layer outputs, the input contributions, one step's hidden
    /// contributions, and the h and c states.
    public static func scratchCount(cell: Cell, batch: Int, steps: Int, hidden: Int, directions: Int) -> Int {
        let gates = RecurrentCall(cell: cell).gates
        return 2 * batch * steps * hidden * directions + batch * steps * gates * hidden + batch * gates * hidden + 2 * batch * hidden
    }

    public func run(_ f: Frame) {
        let layerSize = batch * steps * hidden * directions
        let buffers = (f.value(scratch)!, f.value(scratch)! + layerSize)
        let xi = buffers.1 + layerSize, hh = xi + batch * steps * gates * hidden
        let h = hh + batch * gates * hidden, c = h + batch * hidden
        var x = UnsafePointer(f.value(input)), width = inputWidth
        for l in 0..<layers {
            let out = l % 2 == 0 ? buffers.0 : buffers.1
            for dir in 0..<directions {
                let i = l * directions + dir
                Gemm.sgemm(m: batch * steps, a: x, lda: width, packed: PackedB(f.constant(inputWeights[i]), n: gates * hidden, k: width),
                           c: xi, ldc: gates * hidden, epilogue: .columns(f.constant(inputBiases[i])), threads: f.threads(threads))
                h.update(repeating: 0, count: batch * hidden)
                c.update(repeating: 0, count: batch * hidden)
                let whh = PackedB(f.constant(hiddenWeights[i]), n: gates * hidden, k: hidden)
                for step in 0..<steps {
                    let s = dir == 0 ? step : steps - 1 - step
                    Gemm.sgemm(m: batch, a: h, lda: hidden, packed: whh, c: hh, ldc: gates * hidden, epilogue: .columns(f.constant(hiddenBiases[i])))
                    for b in 0..<batch {
                        cellUpdate(xi + (b * steps + s) * gates * hidden, hh + b * gates * hidden, h + b * hidden, c + b * hidden)
                        (out + ((b * steps + s) * directions + dir) * hidden).update(from: h + b * hidden, count: hidden)
                    }
                }
            }
            x = UnsafePointer(out)
            width = hidden * directions
        }
        let y = f.value(output), d = hidden * directions
        if last {
            for b in 0..<batch { (y + b * d).update(from: x + (b * steps + steps - 1) * d, count: d) }
        } else {
            y.update(from: x, count: layerSize)
        }
    }

    /// One step of one example: the gates from the input and hidden contributions, the new h (and c).
    @inline(__always)
    func cellUpdate(_ gx: UnsafePointer<Float>, _ gh: UnsafePointer<Float>, _ h: UnsafeMutablePointer<Float>, _ c: UnsafeMutablePointer<Float>) {
        let n = hidden
        for j in 0..<n {
            switch cell {
            case .lstm:
                let i = Activation.sigmoid.apply(gx[j] + gh[j]), fg = Activation.sigmoid.apply(gx[n + j] + gh[n + j])
                let g = tanhf(gx[2 * n + j] + gh[2 * n + j]), o = Activation.sigmoid.apply(gx[3 * n + j] + gh[3 * n + j])
                c[j] = fg * c[j] + i * g
                h[j] = o * tanhf(c[j])
            case .gru:
                let r = Activation.sigmoid.apply(gx[j] + gh[j]), z = Activation.sigmoid.apply(gx[n + j] + gh[n + j])
                let cand = tanhf(gx[2 * n + j] + r * gh[2 * n + j])
                h[j] = (1 - z) * cand + z * h[j]
            case .rnn:
                h[j] = tanhf(gx[j] + gh[j])
            }
        }
    }
}

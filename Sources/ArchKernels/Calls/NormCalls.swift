/// LayerNorm or RMSNorm over rows (see `Elementwise.Rows`: strided rows, or the heads of a q/k
/// projection), then an activation. Input and output may be the same value (in place), and each may
/// start `inputOffset` / `outputOffset` floats into its value (a slice of a packed projection).
public struct NormCall: KernelCallProtocol {
    public var shape = Elementwise.Rows(rows: 0, width: 0, lds: 0, ldd: 0)
    public var rms = false
    public var eps: Float = 1e-5
    public var weight: Int? = nil, bias: Int? = nil
    public var activation = Activation.none
    public var input = 0, inputOffset = 0, output = 0, outputOffset = 0
    public var threads = 1

    public init(shape: Elementwise.Rows = Elementwise.Rows(rows: 0, width: 0, lds: 0, ldd: 0), rms: Bool = false, eps: Float = 1e-5,
                weight: Int? = nil, bias: Int? = nil, activation: Activation = Activation.none, input: Int = 0, inputOffset: Int = 0,
                output: Int = 0, outputOffset: Int = 0, threads: Int = 1) {
        self.shape = shape; self.rms = rms; self.eps = eps; self.weight = weight; self.bias = bias; self.activation = activation
        self.input = input; self.inputOffset = inputOffset; self.output = output; self.outputOffset = outputOffset
        self.threads = threads
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) {
        Elementwise.normalize(shape, src: f.value(input) + inputOffset, dst: f.value(output) + outputOffset, eps: eps,
                              weight: f.constant(weight), bias: f.constant(bias), rms: rms, activation: activation, threads: f.threads(threads))
    }
}

/// Group normalisation of [b, c, ...]: each group of c / groups channels normalised as one row,
/// then the per-channel affine and an activation.
public struct GroupNormCall: KernelCallProtocol {
    public var batch = 0, channels = 0, groups = 1, plane = 0
    public var eps: Float = 1e-5
    public var weight: Int? = nil, bias: Int? = nil
    public var activation = Activation.none
    public var input = 0, output = 0

    public init(batch: Int = 0, channels: Int = 0, groups: Int = 1, plane: Int = 0, eps: Float = 1e-5, weight: Int? = nil,
                bias: Int? = nil, activation: Activation = Activation.none, input: Int = 0, output: Int = 0) {
        self.batch = batch; self.channels = channels; self.groups = groups; self.plane = plane; self.eps = eps; self.weight = weight
        self.bias = bias; self.activation = activation; self.input = input; self.output = output
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) {
        let x = f.value(input), y = f.value(output), w = f.constant(weight), b = f.constant(bias)
        let width = channels / groups * plane
        Elementwise.normalize(.init(rows: batch * groups, width: width, lds: width, ldd: width), src: x, dst: y, eps: eps,
                              weight: nil, bias: nil, rms: false)
        for n in 0..<batch { for ch in 0..<channels {
            let (scale, shift) = (w?[ch] ?? 1, b?[ch] ?? 0)
            let row = y + (n * channels + ch) * plane
            for i in 0..<plane { row[i] = row[i] * scale + shift }
            activation.apply(row, count: plane)
        } }
    }
}

/// y = activation(x * scale[c] + shift[c]) over the channels of [b, c, ...]: a batchnorm at
/// inference, its statistics folded into the two vectors once (`Prepare`).
public struct ChannelAffineCall: KernelCallProtocol {
    public var batch = 0, channels = 0, plane = 0
    public var scale = 0, shift = 0
    public var activation = Activation.none
    public var input = 0, output = 0

    public init(batch: Int = 0, channels: Int = 0, plane: Int = 0, scale: Int = 0, shift: Int = 0,
                activation: Activation = Activation.none, input: Int = 0, output: Int = 0) {
        self.batch = batch; self.channels = channels; self.plane = plane; self.scale = scale; self.shift = shift
        self.activation = activation; self.input = input; self.output = output
    }

    public var reads: [Int] { [input] }

    public func run(_ f: Frame) {
        let x = f.value(input), y = f.value(output), s = f.constant(scale), t = f.constant(shift)
        for n in 0..<batch { for ch in 0..<channels {
            let base = (n * channels + ch) * plane
            let (a, b) = (s[ch], t[ch])
            for i in 0..<plane { y[base + i] = x[base + i] * a + b }
            activation.apply(y + base, count: plane)
        } }
    }
}

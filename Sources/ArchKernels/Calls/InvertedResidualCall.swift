/// MobileNetV2's inverted residual (1x1 expansion, 3x3 depthwise, 1x1 projection, residual) as one
/// call over bands of output rows (`InvertedResidual`): the tile pass makes it from the three
/// convolutions, whose weights the prepare pass has already packed and folded.
public struct InvertedResidualCall: KernelCallProtocol {
    public var batch = 0
    public var shape = InvertedResidual.Shape(inChannels: 0, hidden: 0, outChannels: 0, height: 0, width: 0, stride: 1, outHeight: 0,
                                              outWidth: 0, bandRows: 1)
    public var expandWeight: Int? = nil, expandBias: Int? = nil, expandActivation = Activation.none
    public var depthwiseWeight = 0, depthwiseBias: Int? = nil, depthwiseActivation = Activation.none
    public var projectWeight = 0, projectBias: Int? = nil
    public var residual: Int? = nil
    public var input = 0, output = 0
    public var scratch: Int? = nil
    public var threads = 1

    public init(batch: Int = 0, shape: InvertedResidual.Shape = InvertedResidual.Shape(inChannels: 0, hidden: 0, outChannels: 0, height: 0,
                width: 0, stride: 1, outHeight: 0, outWidth: 0, bandRows: 1), expandWeight: Int? = nil, expandBias: Int? = nil,
                expandActivation: Activation = Activation.none, depthwiseWeight: Int = 0, depthwiseBias: Int? = nil,
                depthwiseActivation: Activation = Activation.none, projectWeight: Int = 0, projectBias: Int? = nil, residual: Int? = nil,
                input: Int = 0, output: Int = 0, scratch: Int? = nil, threads: Int = 1) {
        self.batch = batch; self.shape = shape; self.expandWeight = expandWeight; self.expandBias = expandBias
        self.expandActivation = expandActivation; self.depthwiseWeight = depthwiseWeight; self.depthwiseBias = depthwiseBias
        self.depthwiseActivation = depthwiseActivation; self.projectWeight = projectWeight; self.projectBias = projectBias
        self.residual = residual; self.input = input; self.output = output; self.scratch = scratch; self.threads = threads
    }

    public var reads: [Int] { [input] + (residual.map { [$0] } ?? []) }
    public var scratchValue: Int? { scratch }

    public func run(_ f: Frame) {
        let s = shape, w = InvertedResidual.Weights(
            expand: f.constant(expandWeight), expandBias: f.constant(expandBias), expandActivation: expandActivation,
            depthwise: f.constant(depthwiseWeight), depthwiseBias: f.constant(depthwiseBias), depthwiseActivation: depthwiseActivation,
            project: f.constant(projectWeight), projectBias: f.constant(projectBias))
        InvertedResidual.forward(s, w, batch: batch, input: f.value(input), residual: f.value(residual).map { UnsafePointer($0) },
                                 output: f.value(output), scratch: f.value(scratch)!, threads: f.threads(threads))
    }
}

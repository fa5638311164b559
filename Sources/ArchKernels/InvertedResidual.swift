/// MobileNetV2's inverted residual as one pass over bands of output rows, so the expanded tensor
/// (six times the block's channels) lives only in cache: for each band, the 1x1 expansion of the
/// input rows it needs (a GEMM into a band buffer, reusing the rows the previous band already
/// expanded), the 3x3 depthwise convolution of the band, and the 1x1 projection of its rows
/// straight into the output, with the residual added. Bands are spread across the workers.
public enum InvertedResidual {
    /// The sizes of one block: input [c, h, w] -> hidden [e, h, w] -> depthwise (stride s, pad 1)
    /// [e, oh, ow] -> output [o, oh, ow].
    public struct Shape: Sendable, Equatable {
        public var inChannels: Int, hidden: Int, outChannels: Int
        public var height: Int, width: Int, stride: Int, outHeight: Int, outWidth: Int
        /// Output rows per band.
        public var bandRows: Int
        public init(inChannels: Int, hidden: Int, outChannels: Int, height: Int, width: Int, stride: Int, outHeight: Int, outWidth: Int,
                    bandRows: Int) {
            self.inChannels = inChannels; self.hidden = hidden; self.outChannels = outChannels
            self.height = height; self.width = width; self.stride = stride; self.outHeight = outHeight; self.outWidth = outWidth
            self.bandRows = bandRows
        }
        var bands: Int { (outHeight + bandRows - 1) / bandRows }
        /// Input rows a band may need: its rows' receptive field.
        var inputRows: Int { bandRows * stride + 2 }
        var perWorker: Int { Self.rowSlack + hidden * inputRows * width + Self.rowSlack + hidden * bandRows * outWidth + paddedCount }
        /// Floats before and after the expanded rows, so the depthwise stage may read one before the
        /// first and 16 past the last (`channelInPlace`) without touching another buffer; a whole
        /// vector, to keep them aligned.
        static let rowSlack = 16
        /// The padded rows of one worker's depthwise stage (`depthwiseBand`): the band's input rows and a row of zeros.
        var paddedCount: Int { (inputRows + 1) * paddedWidth }
        /// A padded row (`padRow`): a zero column before the row and zeros after it for the vectors that
        /// run past its end; at stride 2, its even columns and, from half this width, its odd ones.
        var paddedWidth: Int { width + 2 + 48 }

        /// Rows per band such that a band's expanded input and depthwise output fit in about 1 MB, the L2
        /// of one core on the machines measured (longer bands make longer GEMMs; shorter ones gained
        /// nothing there, with a 32 MB L3 behind); then evened out over a multiple of `threads` bands
        /// where there are enough for each worker: MobileNetV2's 112 rows in bands of 36 left one of
        /// two workers 72 rows and the other 40.
        public static func bandRows(hidden: Int, width: Int, stride: Int, outHeight: Int, outWidth: Int, threads: Int) -> Int {
            let perRow = 4 * hidden * (width * stride + outWidth)
            let fit = max(1, min(outHeight, (1 << 20) / max(1, perRow)))
            let bands = (outHeight + fit - 1) / fit
            guard threads > 1, bands >= threads else { return fit }
            let even = (bands + threads - 1) / threads * threads
            return (outHeight + even - 1) / even
        }
    }

    /// The weights and epilogues: expansion (packed [e x c], optional), depthwise [e, 3, 3], projection (packed [o x e]).
    public struct Weights {
        public var expand: UnsafePointer<Float>?, expandBias: UnsafePointer<Float>?, expandActivation: Activation
        public var depthwise: UnsafePointer<Float>, depthwiseBias: UnsafePointer<Float>?, depthwiseActivation: Activation
        public var project: UnsafePointer<Float>, projectBias: UnsafePointer<Float>?
        public init(expand: UnsafePointer<Float>?, expandBias: UnsafePointer<Float>?, expandActivation: Activation, depthwise: UnsafePointer<Float>,
                    depthwiseBias: UnsafePointer<Float>?, depthwiseActivation: Activation, project: UnsafePointer<Float>,
                    projectBias: UnsafePointer<Float>?) {
            self.expand = expand; self.expandBias = expandBias; self.expandActivation = expandActivation
            self.depthwise = depthwise; self.depthwiseBias = depthwiseBias; self.depthwiseActivation = depthwiseActivation
            self.project = project; self.projectBias = projectBias
        }
    }

    public static func workers(_ s: Shape, threads: Int) -> Int { max(1, min(threads, s.bands)) }

    /// Workers that take whole examples of a batch, one thread each: where an example has fewer
    /// bands than threads (the small maps of the last stages), splitting inside its one band left
    /// the GEMMs a part of 49 or 196 columns each and a synchronisation per stage.
    public static func exampleWorkers(_ s: Shape, batch: Int, threads: Int) -> Int {
        batch > 1 && workers(s, threads: threads) < threads ? min(threads, batch) : 1
    }

    public static func scratchCount(_ s: Shape, batch: Int = 1, threads: Int) -> Int {
        max(workers(s, threads: threads), exampleWorkers(s, batch: batch, threads: threads)) * s.perWorker
    }

    /// A batch: examples split across the workers where that shares the work better
    /// (`exampleWorkers`), else one example after another with the bands split.
    public static func forward(_ s: Shape, _ w: Weights, batch: Int, input x: UnsafePointer<Float>, residual: UnsafePointer<Float>?,
                               output y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let inCount = s.inChannels * s.height * s.width, outCount = s.outChannels * s.outHeight * s.outWidth
        let byExample = exampleWorkers(s, batch: batch, threads: threads)
        if byExample > 1 {
            Parallel.forEach(batch, threads: byExample) { n, worker in
                forward(s, w, input: x + n * inCount, residual: residual.map { $0 + n * outCount }, output: y + n * outCount,
                        scratch: scratch + worker * s.perWorker, threads: 1)
            }
            return
        }
        for n in 0..<batch {
            forward(s, w, input: x + n * inCount, residual: residual.map { $0 + n * outCount }, output: y + n * outCount,
                    scratch: scratch, threads: threads)
        }
    }

    /// One example: input [c, h, w] -> output [o, oh, ow] (+ residual [o, oh, ow]).
    public static func forward(_ s: Shape, _ w: Weights, input x: UnsafePointer<Float>, residual: UnsafePointer<Float>?,
                               output y: UnsafeMutablePointer<Float>, scratch: UnsafeMutablePointer<Float>, threads: Int) {
        let workers = workers(s, threads: threads)
        // With fewer bands than workers, one band at a time with the work inside it split instead.
        let inside = workers == 1 ? threads : 1
        let groups = workers == 1 ? 1 : min(s.bands, 2 * workers)
        Parallel.forEach(groups, threads: workers) { g, worker in
            var band = Band(s, w, x: x, residual: residual, y: y, scratch: scratch + worker * s.perWorker, threads: inside)
            for b in Parallel.share(s.bands, g, groups) { band.run(b) }
        }
    }

    /// A worker's pass over consecutive bands, with the expanded rows it already has.
    struct Band {
        let s: Shape, w: Weights
        let x: UnsafePointer<Float>, residual: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>
        let expanded: UnsafeMutablePointer<Float>, depthwise: UnsafeMutablePointer<Float>, padded: UnsafeMutablePointer<Float>
        let threads: Int
        /// Image rows held in `expanded` (row r at column (r - have.lowerBound) * width of each channel).
        var have = 0..<0

        init(_ s: Shape, _ w: Weights, x: UnsafePointer<Float>, residual: UnsafePointer<Float>?, y: UnsafeMutablePointer<Float>,
             scratch: UnsafeMutablePointer<Float>, threads: Int) {
            self.s = s; self.w = w; self.x = x; self.residual = residual; self.y = y; self.threads = threads
            expanded = scratch + Shape.rowSlack
            depthwise = expanded + s.hidden * s.inputRows * s.width + Shape.rowSlack
            padded = depthwise + s.hidden * s.bandRows * s.outWidth
        }

        mutating func run(_ band: Int) {
            let oy0 = band * s.bandRows, rows = min(s.bandRows, s.outHeight - oy0)
            let need = max(0, oy0 * s.stride - 1)..<min(s.height, (oy0 + rows - 1) * s.stride + 2)
            let (source, channelStride, firstRow) = expand(need)
            InvertedResidual.depthwiseBand(s, filter: w.depthwise, bias: w.depthwiseBias, activation: w.depthwiseActivation, source: source,
                                           channelStride: channelStride, firstRow: firstRow, oy0: oy0, rows: rows,
                                           into: depthwise, padded: threads == 1 ? padded : nil, threads: threads,
                                           readableAround: w.expand != nil)
            let n = rows * s.outWidth, plane = s.outHeight * s.outWidth
            Gemm.sgemm(packed: PackedA(w.project, m: s.outChannels, k: s.hidden), n: n, b: depthwise, ldb: n, c: y + oy0 * s.outWidth,
                       ldc: plane, epilogue: Epilogue(bias: .perRow, w.projectBias, residual: residual.map { $0 + oy0 * s.outWidth }, ldr: plane),
                       threads: threads)
        }

        /// The expanded image rows `need`: where they are, the distance between channels, and the
        /// image row the first one is. Without an expansion they are the input's own rows.
        mutating func expand(_ need: Range<Int>) -> (UnsafePointer<Float>, Int, Int) {
            guard let weights = w.expand else { return (x, s.height * s.width, 0) }
            let ld = s.inputRows * s.width, width = s.width
            var start = need.lowerBound
            if have.contains(need.lowerBound) {
                // Keep the rows this band shares with the last one: move them to the front.
                let keep = have.upperBound - need.lowerBound, from = (need.lowerBound - have.lowerBound) * width
                if from > 0 { for e in 0..<s.hidden { (expanded + e * ld).update(from: expanded + e * ld + from, count: keep * width) } }
                start = have.upperBound
            }
            let done = (start - need.lowerBound) * width, n = (need.upperBound - start) * width
            if n > 0 {
                Gemm.sgemm(packed: PackedA(weights, m: s.hidden, k: s.inChannels), n: n, b: x + start * width, ldb: s.height * width,
                           c: expanded + done, ldc: ld, epilogue: Epilogue(bias: .perRow, w.expandBias, activation: w.expandActivation),
                           threads: threads)
            }
            have = need
            return (UnsafePointer(expanded), ld, need.lowerBound)
        }
    }
}

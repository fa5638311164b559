import ArchKernels
import Foundation

/// Times the SGEMM on the layer shapes of the benchmark networks (`benchmarks/gemm_shapes.txt`, which
/// numpy's peer `gemm_numpy.py` reads too); prints the median GFLOP/s of 7 runs and the best time
/// (`BENCH_RUNS=N`: of N - 1, to profile one case or to find the quiet moments of a shared machine).
/// `BENCH_CLOCK=cpu` times by this process's CPU time instead of the wall clock: on one thread, a
/// fair figure on a machine other jobs share (time waiting for the core is not counted). Linear
/// layers run as the interpreter runs them: the weight prepacked, and a different weight each call,
/// 12 of them, so they come from memory as in a network. ResNet's 3x3 convolutions and its 1x1s on
/// small maps run by each algorithm, their weights likewise taken from 12 copies.
///   swift run -c release gemm-bench [threads] [only the cases whose name contains this]
///   swift run -c release gemm-bench --cross-core   (the placement of the cores: `CrossCore`)
if CommandLine.arguments.dropFirst().first == "--cross-core" { CrossCore.report(); exit(0) }
let threads = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1 : 1
let filter = CommandLine.arguments.count > 2 ? CommandLine.arguments[2] : ""
let cpuClock = ProcessInfo.processInfo.environment["BENCH_CLOCK"] == "cpu"
if cpuClock && threads != 1 { print("BENCH_CLOCK=cpu sums the threads' time: use it with 1 thread"); exit(2) }

/// SplitMix64: the system generator makes a system call per number, which took longer than the benchmarks.
struct SplitMix: RandomNumberGenerator {
    var state: UInt64 = 0x9E37_79B9_7F4A_7C15
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
nonisolated(unsafe) var generator = SplitMix()
func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float.random(in: -1...1, using: &generator) } }

func now() -> Double {
    if cpuClock {
        var t = timespec()
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t)
        return Double(t.tv_sec) + Double(t.tv_nsec) / 1e9
    }
    return Double(DispatchTime.now().uptimeNanoseconds) / 1e9
}

func time(_ name: String, _ flops: Double, _ body: (Int) -> Void) {
    if !filter.isEmpty && !name.contains(filter) { return }
    var times: [Double] = []
    for run in 0..<(ProcessInfo.processInfo.environment["BENCH_RUNS"].flatMap { Int($0) } ?? 8) {
        let t = now()
        body(run)
        times.append(now() - t)
    }
    let sorted = times.dropFirst().sorted(), median = sorted[(times.count - 1) / 2]
    print(String(format: "%-40@ %8.2f ms %8.1f GFLOP/s  (best %.2f ms)", name as NSString, median * 1e3, flops / median / 1e9, sorted[0] * 1e3))
}

/// One line of gemm_shapes.txt.
struct Shape { var name: String, m: Int, n: Int, k: Int, kind: String }
let shapesFile = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("gemm_shapes.txt")
let shapes: [Shape] = (try! String(contentsOf: shapesFile, encoding: .utf8)).split(separator: "\n").compactMap { line in
    let f = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
    guard f.count == 5, !f[0].hasPrefix("#"), let m = Int(f[1]), let n = Int(f[2]), let k = Int(f[3]) else { return nil }
    return Shape(name: f[0], m: m, n: n, k: k, kind: f[4])
}

for s in shapes where filter.isEmpty || s.name.contains(filter) {
    let (m, n, k) = (s.m, s.n, s.k)
    var c = [Float](repeating: 0, count: m * n)
    switch s.kind {
    case "plain":
        let a = random(m * k), b = random(k * n)
        time(s.name, 2 * Double(m * n * k)) { _ in
            a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                Gemm.sgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n, threads: threads)
            } } }
        }
    case "linear":
        let a = random(m * k)
        let weights = (0..<12).map { _ -> [Float] in
            let w = random(n * k)
            var packed = [Float](repeating: 0, count: Gemm.packedBCount(n: n, k: k))
            w.withUnsafeBufferPointer { wp in packed.withUnsafeMutableBufferPointer { Gemm.packB(transposed: wp.baseAddress!, ldb: k, n: n, k: k, into: $0.baseAddress!) } }
            return packed
        }
        time(s.name, 2 * Double(m * n * k)) { run in
            weights[run % weights.count].withUnsafeBufferPointer { wp in a.withUnsafeBufferPointer { ap in c.withUnsafeMutableBufferPointer { cp in
                Gemm.sgemm(m: m, a: ap.baseAddress!, lda: k, packed: PackedB(wp.baseAddress!, n: n, k: k), c: cp.baseAddress!, ldc: n, threads: threads)
            } } }
        }
    default:
        let w = random(m * k), b = random(k * n)
        var packed = [Float](repeating: 0, count: Gemm.packedACount(m: m, k: k))
        w.withUnsafeBufferPointer { wp in packed.withUnsafeMutableBufferPointer { Gemm.packA(wp.baseAddress!, lda: k, m: m, k: k, into: $0.baseAddress!) } }
        time(s.name, 2 * Double(m * n * k)) { _ in
            packed.withUnsafeBufferPointer { pp in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                Gemm.sgemm(packed: PackedA(pp.baseAddress!, m: m, k: k), n: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n, threads: threads)
            } } }
        }
    }
}

// ResNet's 3x3 stride-1 convolutions and the 1x1s on small maps (batch 1) by each algorithm that
// computes them, 12 copies of the weights prepared once and taken in turn (from memory, as in a network).
for (name, cin, cout, size, kernel) in [("resnet 3x3 64ch 56x56", 64, 64, 56, 3), ("resnet 3x3 128ch 28x28", 128, 128, 28, 3),
                                        ("resnet 3x3 256ch 14x14", 256, 256, 14, 3), ("resnet 3x3 512ch 7x7", 512, 512, 7, 3),
                                        ("resnet50 1x1 1024->256 14x14", 1024, 256, 14, 1), ("resnet50 1x1 256->1024 14x14", 256, 1024, 14, 1),
                                        ("resnet50 1x1 2048->512 7x7", 2048, 512, 7, 1), ("resnet50 1x1 512->2048 7x7", 512, 2048, 7, 1),
                                        ("mobilenet 1x1 320->1280 7x7", 320, 1280, 7, 1), ("mobilenet 1x1 160->960 7x7", 160, 960, 7, 1)] {
    let g = ConvGeometry(inChannels: cin, outChannels: cout, groups: 1, inH: size, inW: size, outH: size, outW: size,
                         kernelH: kernel, kernelW: kernel, strideH: 1, strideW: 1, padTop: kernel / 2, padLeft: kernel / 2, dilationH: 1, dilationW: 1)
    let x = random(g.inputCount), w = random(g.outChannels * g.inChannels * kernel * kernel), bias = random(g.outChannels)
    var y = [Float](repeating: 0, count: g.outputCount)
    for algorithm in ConvAlgorithm.allCases where algorithm.applies(to: g) {
        let copies = (0..<12).map { _ -> [Float] in
            var prepared = [Float](repeating: 0, count: Conv.preparedCount(g, algorithm))
            w.withUnsafeBufferPointer { wp in prepared.withUnsafeMutableBufferPointer { Conv.prepare(g, algorithm, weight: wp.baseAddress!, into: $0.baseAddress!) } }
            return prepared
        }
        var scratch = [Float](repeating: 0, count: max(1, Conv.scratchCount(g, algorithm, threads: threads)))
        time("\(name) \(algorithm)", 2 * Double(g.macs)) { run in
            x.withUnsafeBufferPointer { xp in copies[run % copies.count].withUnsafeBufferPointer { pp in bias.withUnsafeBufferPointer { bp in
                y.withUnsafeMutableBufferPointer { yp in scratch.withUnsafeMutableBufferPointer { sp in
                    Conv.forward(g, algorithm, input: xp.baseAddress!, weights: pp.baseAddress!, bias: bp.baseAddress, residual: nil,
                                 activation: .relu, output: yp.baseAddress!, scratch: sp.baseAddress!, threads: threads)
                } }
            } } }
        }
    }
}

// ResNet-50's 1x1 convolutions and strided layers at batch 8 (the first block of a stage: its 3x3
// and its 1x1 shortcut, stride 2) by each algorithm, with the residual the 1x1s carry in the
// network; and the first shortcut on its input already subsampled (stride 1, the same work): what
// the stride costs.
for (name, cin, cout, size, kernel, stride, batch) in [("resnet50 b8 1x1/2 256->512 56x56", 256, 512, 56, 1, 2, 8),
                                                       ("resnet50 b1 1x1/2 256->512 56x56", 256, 512, 56, 1, 2, 1),
                                                       ("resnet50 b8 1x1 256->512 28x28", 256, 512, 28, 1, 1, 8),
                                                       ("resnet50 b8 1x1/2 512->1024 28x28", 512, 1024, 28, 1, 2, 8),
                                                       ("resnet50 b1 1x1/2 512->1024 28x28", 512, 1024, 28, 1, 2, 1),
                                                       ("resnet50 b8 1x1 1024->256 14x14", 1024, 256, 14, 1, 1, 8),
                                                       ("resnet50 b8 1x1 1024->512 14x14", 1024, 512, 14, 1, 1, 8),
                                                       ("resnet50 b8 1x1/2 1024->2048 14x14", 1024, 2048, 14, 1, 2, 8),
                                                       ("resnet50 b8 1x1 2048->512 7x7", 2048, 512, 7, 1, 1, 8),
                                                       ("resnet50 b8 1x1 512->2048 7x7", 512, 2048, 7, 1, 1, 8),
                                                       ("resnet50 b8 3x3/2 128ch 56x56", 128, 128, 56, 3, 2, 8),
                                                       ("resnet50 b8 3x3/2 256ch 28x28", 256, 256, 28, 3, 2, 8)] {
    let g = ConvGeometry(inChannels: cin, outChannels: cout, groups: 1, inH: size, inW: size, outH: size / stride, outW: size / stride,
                         kernelH: kernel, kernelW: kernel, strideH: stride, strideW: stride, padTop: kernel / 2, padLeft: kernel / 2, dilationH: 1, dilationW: 1)
    let x = random(batch * g.inputCount), w = random(g.outChannels * g.inChannels * kernel * kernel), bias = random(g.outChannels)
    let residual = kernel == 1 ? random(batch * g.outputCount) : []
    var y = [Float](repeating: 0, count: batch * g.outputCount)
    for algorithm in ConvAlgorithm.allCases where algorithm.applies(to: g) {
        var prepared = [Float](repeating: 0, count: Conv.preparedCount(g, algorithm))
        w.withUnsafeBufferPointer { wp in prepared.withUnsafeMutableBufferPointer { Conv.prepare(g, algorithm, weight: wp.baseAddress!, into: $0.baseAddress!) } }
        var scratch = [Float](repeating: 0, count: max(1, Conv.scratchCount(g, algorithm, batch: batch, threads: threads)))
        time("\(name) \(algorithm)", 2 * Double(batch * g.macs)) { _ in
            x.withUnsafeBufferPointer { xp in prepared.withUnsafeBufferPointer { pp in bias.withUnsafeBufferPointer { bp in residual.withUnsafeBufferPointer { rp in
                y.withUnsafeMutableBufferPointer { yp in scratch.withUnsafeMutableBufferPointer { sp in
                    Conv.forward(g, algorithm, batch: batch, input: xp.baseAddress!, weights: pp.baseAddress!, bias: bp.baseAddress, residual: residual.isEmpty ? nil : rp.baseAddress,
                                 activation: .relu, output: yp.baseAddress!, scratch: sp.baseAddress!, threads: threads)
                } }
            } } } }
        }
    }
}

// The fused epilogue's cost: ViT's and gMLP's first MLP layers with a bias and each activation
// (compare with `none`: what the activation adds to the GEMM).
for (name, m, n, k) in [("vit-mlp-fc1", 197, 3072, 768), ("gmlp-channel-fc1", 196, 1536, 256)] {
    let a = random(m * k), w = random(n * k), bias = random(n)
    var packed = [Float](repeating: 0, count: Gemm.packedBCount(n: n, k: k))
    w.withUnsafeBufferPointer { wp in packed.withUnsafeMutableBufferPointer { Gemm.packB(transposed: wp.baseAddress!, ldb: k, n: n, k: k, into: $0.baseAddress!) } }
    var c = [Float](repeating: 0, count: m * n)
    for activation in [Activation.none, .relu, .gelu, .geluTanh, .silu] {
        time("\(name) + bias + \(activation)", 2 * Double(m * n * k)) { _ in
            packed.withUnsafeBufferPointer { wp in a.withUnsafeBufferPointer { ap in bias.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
                Gemm.sgemm(m: m, a: ap.baseAddress!, lda: k, packed: PackedB(wp.baseAddress!, n: n, k: k), c: cp.baseAddress!, ldc: n,
                           epilogue: .columns(bp.baseAddress!, activation), threads: threads)
            } } } }
        }
    }
}

// MobileNetV2's inverted residuals on its small maps (one band of rows: each stage split across the
// threads), fused as the interpreter runs them, weights packed once.
for (name, c, e, o, size) in [("mobilenet block 64->384->64 14x14", 64, 384, 64, 14), ("mobilenet block 96->576->96 14x14", 96, 576, 96, 14),
                              ("mobilenet block 160->960->160 7x7", 160, 960, 160, 7), ("mobilenet block 160->960->320 7x7", 160, 960, 320, 7)] {
    let rows = InvertedResidual.Shape.bandRows(hidden: e, width: size, stride: 1, outHeight: size, outWidth: size, threads: threads)
    let shape = InvertedResidual.Shape(inChannels: c, hidden: e, outChannels: o, height: size, width: size, stride: 1, outHeight: size,
                                       outWidth: size, bandRows: rows)
    var expand = [Float](repeating: 0, count: Gemm.packedACount(m: e, k: c)), project = [Float](repeating: 0, count: Gemm.packedACount(m: o, k: e))
    random(e * c).withUnsafeBufferPointer { w in expand.withUnsafeMutableBufferPointer { Gemm.packA(w.baseAddress!, lda: c, m: e, k: c, into: $0.baseAddress!) } }
    random(o * e).withUnsafeBufferPointer { w in project.withUnsafeMutableBufferPointer { Gemm.packA(w.baseAddress!, lda: e, m: o, k: e, into: $0.baseAddress!) } }
    let depthwise = random(e * 9), biasE = random(e), biasD = random(e), biasO = random(o), x = random(c * size * size)
    var y = [Float](repeating: 0, count: o * size * size)
    var scratch = [Float](repeating: 0, count: InvertedResidual.scratchCount(shape, threads: threads))
    let macs = Double(size * size) * Double(e * c + 9 * e + o * e)
    time(name, 2 * macs) { _ in
        expand.withUnsafeBufferPointer { ep in project.withUnsafeBufferPointer { pp in depthwise.withUnsafeBufferPointer { dp in
            biasE.withUnsafeBufferPointer { be in biasD.withUnsafeBufferPointer { bd in biasO.withUnsafeBufferPointer { bo in
                x.withUnsafeBufferPointer { xp in y.withUnsafeMutableBufferPointer { yp in scratch.withUnsafeMutableBufferPointer { sp in
                    let w = InvertedResidual.Weights(expand: ep.baseAddress, expandBias: be.baseAddress, expandActivation: .relu6,
                                                     depthwise: dp.baseAddress!, depthwiseBias: bd.baseAddress, depthwiseActivation: .relu6,
                                                     project: pp.baseAddress!, projectBias: bo.baseAddress)
                    InvertedResidual.forward(shape, w, batch: 1, input: xp.baseAddress!, residual: nil, output: yp.baseAddress!,
                                             scratch: sp.baseAddress!, threads: threads)
                } } }
            } } }
        } } }
    }
}

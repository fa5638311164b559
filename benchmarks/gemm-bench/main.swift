import ArchKernels
import Foundation

/// Times the SGEMM on square matrices and on the layer shapes of the benchmark networks; prints the
/// median GFLOP/s of 7 runs. Linear layers run as the interpreter runs them: the weight prepacked,
/// and (`cold`) a different weight each call, 12 of them, so they come from memory as in a network.
///   swift run -c release gemm-bench [threads]
let threads = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 1 : 1

func random(_ n: Int) -> [Float] { (0..<n).map { _ in Float.random(in: -1...1) } }

func time(_ name: String, _ flops: Double, _ body: (Int) -> Void) {
    var times: [Double] = []
    for run in 0..<8 {
        let t = DispatchTime.now().uptimeNanoseconds
        body(run)
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
    }
    let median = times.dropFirst().sorted()[3]
    print(name.padding(toLength: 40, withPad: " ", startingAt: 0) + String(format: " %8.2f ms %8.1f GFLOP/s", median * 1e3, flops / median / 1e9))
}

for (name, m, n, k) in [("square 512", 512, 512, 512), ("square 1024", 1024, 1024, 1024)] {
    let a = random(m * k), b = random(k * n)
    var c = [Float](repeating: 0, count: m * n)
    time(name, 2 * Double(m * n * k)) { _ in
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            Gemm.sgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n, threads: threads)
        } } }
    }
}

// Linear layers: activations [m, k] times a weight [n, k] packed once.
let linears = [("vit qkv (197x2304x768)", 197, 2304, 768), ("vit mlp fc1 (197x3072x768)", 197, 3072, 768),
               ("vit mlp fc2 (197x768x3072)", 197, 768, 3072), ("gpt2 qkv (128x2304x768)", 128, 2304, 768),
               ("batch 8 vit fc1 (1576x3072x768)", 1576, 3072, 768)]
for (name, m, n, k) in linears {
    let a = random(m * k)
    var c = [Float](repeating: 0, count: m * n)
    let weights = (0..<12).map { _ -> [Float] in
        let w = random(n * k)
        var packed = [Float](repeating: 0, count: Gemm.packedBCount(n: n, k: k))
        w.withUnsafeBufferPointer { wp in packed.withUnsafeMutableBufferPointer { Gemm.packB(transposed: wp.baseAddress!, ldb: k, n: n, k: k, into: $0.baseAddress!) } }
        return packed
    }
    for cold in [false, true] {
        time(name + (cold ? " cold" : ""), 2 * Double(m * n * k)) { run in
            weights[cold ? run % weights.count : 0].withUnsafeBufferPointer { wp in a.withUnsafeBufferPointer { ap in c.withUnsafeMutableBufferPointer { cp in
                Gemm.sgemm(m: m, a: ap.baseAddress!, lda: k, packed: PackedB(wp.baseAddress!, n: n, k: k), c: cp.baseAddress!, ldc: n, threads: threads)
            } } }
        }
    }
}

// A convolution's GEMM: weights [out, in kh kw] packed once, times the image's patches (ResNet's 3x3 layers).
for (name, m, n, k) in [("resnet conv3x3 (64x3136x576)", 64, 3136, 576), ("resnet conv3x3 (256x196x2304)", 256, 196, 2304)] {
    let w = random(m * k), b = random(k * n)
    var packed = [Float](repeating: 0, count: Gemm.packedACount(m: m, k: k))
    w.withUnsafeBufferPointer { wp in packed.withUnsafeMutableBufferPointer { Gemm.packA(wp.baseAddress!, lda: k, m: m, k: k, into: $0.baseAddress!) } }
    var c = [Float](repeating: 0, count: m * n)
    time(name, 2 * Double(m * n * k)) { _ in
        packed.withUnsafeBufferPointer { pp in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            Gemm.sgemm(packed: PackedA(pp.baseAddress!, m: m, k: k), n: n, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n, threads: threads)
        } } }
    }
}

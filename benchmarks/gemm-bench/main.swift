import ArchKernels
import Foundation

/// Times Gemm.sgemm on square and network-shaped matrices; prints the median GFLOP/s of 7 runs.
///   swift run -c release gemm-bench [threads]
let threads = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 0 : 0
let shapes: [(String, Int, Int, Int)] = [
    ("square 512", 512, 512, 512), ("square 1024", 1024, 1024, 1024),
    ("resnet conv3x3 (64x3136x576)", 64, 3136, 576), ("vit qkv (197x2304x768)", 197, 2304, 768),
    ("vit mlp (197x3072x768)", 197, 3072, 768),
]
for (name, m, n, k) in shapes {
    let a = (0..<(m * k)).map { _ in Float.random(in: -1...1) }
    let b = (0..<(k * n)).map { _ in Float.random(in: -1...1) }
    var c = [Float](repeating: 0, count: m * n)
    var times: [Double] = []
    for _ in 0..<8 {
        let t = DispatchTime.now().uptimeNanoseconds
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
            Gemm.sgemm(m: m, n: n, k: k, a: ap.baseAddress!, lda: k, b: bp.baseAddress!, ldb: n, c: cp.baseAddress!, ldc: n, threads: threads)
        } } }
        times.append(Double(DispatchTime.now().uptimeNanoseconds - t) / 1e9)
    }
    let median = times.dropFirst().sorted()[3]
    print(String(format: "%-32@ %8.2f ms %8.1f GFLOP/s", name as NSString, median * 1e3, 2 * Double(m * n * k) / median / 1e9))
}

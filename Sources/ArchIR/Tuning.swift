import Foundation
import ArchKernels

/// Measured choices for the schedule (`--tune`): each convolution's algorithms timed on this
/// machine, on random data of the layer's shape, the fastest kept. Results are cached per machine in
/// `~/.cache/archc/tuning.json` (or `$ARCHC_TUNING_CACHE`), so a geometry is timed once.
public final class Tuning: @unchecked Sendable {
    /// The cached choices: "machine|cold or warm weights|geometry|batch|threads" -> algorithm (earlier
    /// versions timed with the weights in cache whatever the network, under keys without it: not used).
    var table: [String: String] = [:]
    let path: String?
    let machine: String
    /// What was timed in this run, for `archc ir --after schedule`: key -> seconds per algorithm.
    public private(set) var measured: [String: [(ConvAlgorithm, Double)]] = [:]

    public init(path: String? = Tuning.defaultPath) {
        self.path = path
        machine = Tuning.machineName()
        if let path, let data = FileManager.default.contents(atPath: path),
           let object = try? JSONSerialization.jsonObject(with: data) as? [String: String] {
            table = object
        }
    }

    public static var defaultPath: String? {
        let env = ProcessInfo.processInfo.environment
        if let explicit = env["ARCHC_TUNING_CACHE"] { return explicit.isEmpty ? nil : explicit }
        guard let home = env["XDG_CACHE_HOME"] ?? env["HOME"].map({ $0 + "/.cache" }) else { return nil }
        return home + "/archc/tuning.json"
    }

    /// This CPU's model and the cores this process may use: a cached choice applies to them only.
    static func machineName() -> String {
        let info = (try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8)) ?? ""
        let model = info.split(separator: "\n").first { $0.hasPrefix("model name") }.map { String($0.split(separator: ":", maxSplits: 1).last ?? "") }
        return (model ?? "unknown cpu").trimmingCharacters(in: .whitespaces) + " x\(Parallel.cores)"
    }

    func key(_ g: ConvGeometry, batch: Int, threads: Int, coldWeights: Bool) -> String {
        "\(machine)|\(coldWeights ? "cold" : "warm") weights|conv \(g.inChannels)->\(g.outChannels) g\(g.groups) \(g.inH)x\(g.inW)->\(g.outH)x\(g.outW) k\(g.kernelH)x\(g.kernelW) "
            + "s\(g.strideH)x\(g.strideW) p\(g.padTop)x\(g.padLeft) d\(g.dilationH)x\(g.dilationW)|b\(batch)|t\(threads)"
    }

    /// The fastest algorithm for the convolution, timed now unless the cache knows it; with
    /// `coldWeights` (the network's weights outgrow the cache: `CostModel.coldWeights`), its weights
    /// read from memory.
    public func convolution(_ g: ConvGeometry, batch: Int, threads: Int, coldWeights: Bool) -> ConvAlgorithm {
        let k = key(g, batch: batch, threads: threads, coldWeights: coldWeights)
        if let cached = table[k].flatMap(ConvAlgorithm.init(rawValue:)), cached.applies(to: g) { return cached }
        let candidates = ConvAlgorithm.allCases.filter { $0.applies(to: g) && !($0 == .gemm && g.isPointwise) }
        let times = candidates.map { ($0, time($0, g, batch: batch, threads: threads, coldWeights: coldWeights)) }
        measured[k] = times
        let best = times.min { $0.1 < $1.1 }?.0 ?? .gemm
        table[k] = best.rawValue
        return best
    }

    /// The median of five runs of the batch, after a warm-up. With `coldWeights`, the caches are
    /// flushed before each run and the input read back in, so that the weights come from memory and
    /// the input from cache, as in such a network: Winograd's filters are 16/9 or 36/9 the size of
    /// the kernel, which timing them in cache hid.
    func time(_ a: ConvAlgorithm, _ g: ConvGeometry, batch: Int, threads: Int, coldWeights: Bool) -> Double {
        let inputs = batch * g.inputCount, outputs = batch * g.outputCount, prepared = Conv.preparedCount(g, a)
        let x = UnsafeMutablePointer<Float>.allocate(capacity: inputs), y = UnsafeMutablePointer<Float>.allocate(capacity: outputs)
        let w = UnsafeMutablePointer<Float>.allocate(capacity: prepared)
        let scratch = UnsafeMutablePointer<Float>.allocate(capacity: max(1, Conv.scratchCount(g, a, batch: batch, threads: threads)))
        defer { x.deallocate(); y.deallocate(); w.deallocate(); scratch.deallocate() }
        for i in 0..<inputs { x[i] = Float(i % 7) - 3 }
        w.update(repeating: 0.01, count: prepared)
        var times: [Double] = []
        for run in 0..<6 {
            if coldWeights {
                flushCaches(Float(run))
                var sum: Float = 0
                for i in stride(from: 0, to: inputs, by: 16) { sum += x[i] }
                y[0] = sum  // (overwritten by the run: only keeps the reads)
            }
            let start = DispatchTime.now().uptimeNanoseconds
            Conv.forward(g, a, batch: batch, input: x, weights: w, bias: nil, residual: nil, activation: .none, output: y,
                         scratch: scratch, threads: threads)
            if run > 0 { times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
        }
        return times.sorted()[times.count / 2]
    }

    /// Floats written to flush the caches before a run with cold weights: twice the last-level cache.
    static let flushFloats = 2 * CostModel.lastLevelCache / MemoryLayout<Float>.size
    /// Where they are written: allocated once, on the first timing with cold weights.
    private var flushBuffer: UnsafeMutablePointer<Float>?

    /// Evicts the caches (writes `flushFloats`).
    func flushCaches(_ value: Float) {
        let buffer = flushBuffer ?? UnsafeMutablePointer<Float>.allocate(capacity: Tuning.flushFloats)
        flushBuffer = buffer
        buffer.update(repeating: value, count: Tuning.flushFloats)
    }

    deinit { flushBuffer?.deallocate() }

    /// Writes the cache (quietly skipped where it cannot be written).
    public func save() {
        guard let path, let data = try? JSONSerialization.data(withJSONObject: table, options: [.sortedKeys, .prettyPrinted]) else { return }
        try? FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try? data.write(to: URL(fileURLWithPath: path), options: .atomic)
    }
}

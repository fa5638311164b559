import ArchSemantics
import ArchIR
import ArchEngine

/// `archc run --profile`: where the time went, by kind of step and for the slowest steps, with the
/// arithmetic rate each achieved (2 x MACs per second, like a GEMM's FLOP/s; for convolutions
/// computed by Winograd's method, an effective rate over the direct MACs). Over several runs, each
/// step's median: on a machine other jobs share, the last run alone was often one a neighbour slowed.
enum ProfileReport {
    /// The runs whose step times `archc run` keeps for the medians (the last ones).
    static let runsKept = 255

    /// Each step's median over the runs (seconds by step, one array a run).
    static func medians(_ runs: [[Double]]) -> [Double] {
        guard let first = runs.first else { return [] }
        return first.indices.map { i in RunReport.median(runs.map { $0[i] }) }
    }

    static func render(_ p: Program, runs: [[Double]], top: Int = 10) -> String {
        let seconds = medians(runs), total = seconds.reduce(0, +)
        guard total > 0 else { return "" }
        func kind(_ s: Program.Step) -> String { s.kind.label }
        func macs(_ s: Program.Step) -> Int { s.kind.macs }
        func rate(_ m: Int, _ t: Double) -> String { m == 0 || t == 0 ? "" : Format.fixed(2 * Double(m) / t / 1e9, 1) + " GFLOP/s" }
        var byKind: [String: (calls: Int, time: Double, macs: Int)] = [:]
        for (i, s) in p.steps.enumerated() where s.storage != .view {
            let k = kind(s)
            byKind[k, default: (0, 0, 0)].calls += 1
            byKind[k, default: (0, 0, 0)].time += seconds[i]
            byKind[k, default: (0, 0, 0)].macs += macs(s)
        }
        let over = runs.count == 1 ? "profile of the run" : "profile, each step's median over \(runs.count) runs"
        var out = "\(over): \(Format.fixed(total * 1000, 2)) ms in \(p.steps.count) steps\n"
        out += Format.pad("step kind", 28) + Format.pad("calls", 6, right: true) + Format.pad("ms", 10, right: true)
            + Format.pad("share", 8, right: true) + "  rate\n"
        for (k, v) in byKind.sorted(by: { $0.value.time > $1.value.time }) {
            out += Format.pad(k, 28) + Format.pad("\(v.calls)", 6, right: true) + Format.pad(Format.fixed(v.time * 1000, 3), 10, right: true)
                + Format.pad(Format.fixed(100 * v.time / total, 1) + "%", 8, right: true) + "  " + rate(v.macs, v.time) + "\n"
        }
        out += "slowest steps:\n"
        for i in p.steps.indices.sorted(by: { seconds[$0] > seconds[$1] }).prefix(top) {
            let s = p.steps[i]
            out += "  " + Format.pad(Format.fixed(seconds[i] * 1000, 3) + " ms", 11, right: true) + "  %\(s.output) \(kind(s)) "
                + "\(p.values[s.output].shape)  # \(ProgramPrinter.layers(p, s))  " + rate(macs(s), seconds[i]) + "\n"
        }
        return out
    }
}

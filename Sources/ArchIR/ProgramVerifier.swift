import ArchKernels

/// Checks a program after every pass: each value is written once, before it is read; constants
/// exist and are made from earlier ones; once scheduled, every call that needs scratch memory has
/// it and every algorithm applies to its convolution; once prepared, every weight is in the layout
/// its kernel reads; once buffers are planned, every value read still holds its own data (no later
/// write into its buffer came first), views and in-place steps share the right buffer, and buffers
/// alive at the same time do not overlap in the arena.
public enum ProgramVerifier {
    public static func verify(_ p: Program) -> [String] {
        var problems: [String] = []
        var defined = Set(p.inputs.map(\.value))
        for (i, s) in p.steps.enumerated() {
            for v in s.reads where !defined.contains(v) { problems.append("step \(i) (\(s.kind.name)) reads %\(v) before it is written") }
            for v in s.reads + [s.output] + (s.scratch.map { [$0] } ?? []) where v < 0 || v >= p.values.count {
                problems.append("step \(i) (\(s.kind.name)) uses %\(v), which does not exist")
            }
            if defined.contains(s.output) { problems.append("step \(i) (\(s.kind.name)) writes %\(s.output) a second time") }
            defined.insert(s.output)
            for c in s.kind.constants where c < 0 || c >= p.constants.count {
                problems.append("step \(i) (\(s.kind.name)) reads constant c\(c), which does not exist")
            }
            if p.isScheduled { problems += verifySchedule(s, i) }
            if p.isPrepared { problems += verifyPrepared(p, s, i) }
        }
        if !defined.contains(p.output) { problems.append("the output %\(p.output) is never written") }
        for (i, c) in p.constants.enumerated() where c.sources.contains(where: { $0 >= i || $0 < 0 }) {
            problems.append("constant c\(i) is made from a constant that comes after it")
        }
        if p.isPlanned { problems += verifyBuffers(p) }
        return problems
    }

    static func verifySchedule(_ s: Program.Step, _ i: Int) -> [String] {
        if case .conv(let c) = s.kind {
            if !c.algorithm.applies(to: c.geometry) { return ["step \(i): \(c.algorithm) does not compute this convolution"] }
            if (Conv.scratchCount(c.geometry, c.algorithm, batch: c.batch, threads: c.threads) > 0) != (c.scratch != nil) {
                return ["step \(i): the convolution's scratch does not match its algorithm"]
            }
        } else if s.kind.needsScratch && s.scratch == nil {
            return ["step \(i) (\(s.kind.name)) has no scratch memory"]
        }
        return []
    }

    /// Weights in their kernel's layout, no batchnorm left to fold.
    static func verifyPrepared(_ p: Program, _ s: Program.Step, _ i: Int) -> [String] {
        if s.batchnorm != nil { return ["step \(i) (\(s.kind.name)) still has a batchnorm to fold"] }
        func recipe(_ c: Int) -> Recipe? { c >= 0 && c < p.constants.count ? p.constants[c].recipe : nil }
        if case .conv(let c) = s.kind {
            guard case .convWeights(_, let g, let a)? = recipe(c.weight), g == c.geometry, a == c.algorithm else {
                return ["step \(i): the convolution's weights are not prepared for \(c.algorithm)"]
            }
        } else if case .invertedResidual(let c) = s.kind {
            guard case .convWeights(_, _, .pointwise)? = recipe(c.projectWeight), case .convWeights(_, _, .depthwise)? = recipe(c.depthwiseWeight),
                  c.expandWeight.map({ if case .convWeights(_, _, .pointwise)? = recipe($0) { return true } else { return false } }) ?? true else {
                return ["step \(i): the inverted residual's weights are not prepared for its convolutions"]
            }
        } else if case .linear(let c) = s.kind {
            guard case .linearWeights(_, let n, let k, let order)? = recipe(c.weight), n == c.outFeatures, k == c.inFeatures, order == c.weightOrder else {
                return ["step \(i): the linear layer's weight is not packed for its GEMM"]
            }
        }
        return []
    }

    static func verifyBuffers(_ p: Program) -> [String] {
        var problems: [String] = []
        // Each buffer's current contents, as a version number; each value, the version it holds.
        var current = [Int](repeating: -1, count: p.buffers.count)
        var holds = [Int: Int]()
        var version = 0
        func write(_ v: Int) {
            guard let b = p.values[v].buffer else { problems.append("%\(v) has no buffer"); return }
            guard p.values[v].count <= p.buffers[b].count else { problems.append("%\(v) does not fit buffer b\(b)"); return }
            version += 1
            current[b] = version
            holds[v] = version
        }
        func read(_ v: Int, at step: Int) {
            guard let b = p.values[v].buffer else { problems.append("%\(v) is read at step \(step) but has no buffer"); return }
            if holds[v] != current[b] { problems.append("%\(v) is read at step \(step) after buffer b\(b) was overwritten") }
        }
        for (_, v) in p.inputs { write(v) }
        for (i, s) in p.steps.enumerated() {
            for v in s.reads { read(v, at: i) }
            let out = p.values[s.output].buffer
            switch s.storage {
            case .view:
                if out != p.values[s.reads[0]].buffer { problems.append("step \(i) (\(s.kind.name)) is a view but not of its input's buffer") }
                holds[s.output] = holds[s.reads[0]]
            case .inPlace:
                if s.kind.overwritable.flatMap({ p.values[$0].buffer }) != out {
                    problems.append("step \(i) (\(s.kind.name)) writes in place but not over its operand's buffer")
                }
                write(s.output)
            case .fresh:
                if s.reads.contains(where: { p.values[$0].buffer == out }) {
                    problems.append("step \(i) (\(s.kind.name)) writes over an input it is still reading")
                }
                write(s.output)
            }
            if let scratch = s.scratch { write(scratch) }
        }
        read(p.output, at: p.steps.count)
        problems += verifyPlacement(p)
        return problems
    }

    /// Buffers alive at the same time must not share bytes.
    static func verifyPlacement(_ p: Program) -> [String] {
        var problems: [String] = []
        let order = p.buffers.indices.sorted { p.buffers[$0].offset < p.buffers[$1].offset }
        for (k, a) in order.enumerated() {
            let ba = p.buffers[a]
            for b in order[(k + 1)...] {
                let bb = p.buffers[b]
                if bb.offset >= ba.offset + ba.count { break }
                if ba.firstStep <= bb.lastStep && bb.firstStep <= ba.lastStep {
                    problems.append("buffers b\(a) and b\(b) are alive at the same time and overlap in the arena")
                }
            }
        }
        if let end = p.buffers.map({ $0.offset + $0.count }).max(), end > p.arenaCount { problems.append("a buffer ends past the arena") }
        return problems
    }
}

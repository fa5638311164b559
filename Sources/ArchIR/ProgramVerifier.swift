/// Checks a program after every pass: each value is written before it is read; once buffers are
/// planned, every value read still holds its own data (no later write into its buffer came
/// first), views and in-place steps share their input's buffer, and buffers alive at the same time
/// do not overlap in the arena.
public enum ProgramVerifier {
    public static func verify(_ p: Program) -> [String] {
        var problems: [String] = []
        var defined = Set(p.inputs.map(\.value))
        for (i, s) in p.steps.enumerated() {
            for v in s.inputs where !defined.contains(v) { problems.append("step \(i) (\(s.op)) reads %\(v) before it is written") }
            if defined.contains(s.output) { problems.append("step \(i) (\(s.op)) writes %\(s.output) a second time") }
            defined.insert(s.output)
        }
        if !defined.contains(p.output) { problems.append("the output %\(p.output) is never written") }
        if p.isPlanned { problems += verifyBuffers(p) }
        return problems
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
            for v in s.inputs { read(v, at: i) }
            switch s.storage {
            case .view, .inPlace:
                if p.values[s.output].buffer != p.values[s.inputs[0]].buffer {
                    problems.append("step \(i) (\(s.op)) shares its input's storage but not its buffer")
                }
                if s.storage == .view { holds[s.output] = holds[s.inputs[0]] } else { write(s.output) }
            case .fresh:
                if s.inputs.contains(where: { p.values[$0].buffer == p.values[s.output].buffer }) {
                    problems.append("step \(i) (\(s.op)) writes over an input it is still reading")
                }
                write(s.output)
            }
        }
        read(p.output, at: p.steps.count)
        // Buffers alive at the same time must not share bytes.
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

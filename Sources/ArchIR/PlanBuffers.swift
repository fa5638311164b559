import ArchSemantics

/// Gives every value a buffer and every buffer a place in one arena:
/// 1. views (flatten, reshape, dropout, identity) share their input's buffer and cost nothing;
/// 2. an in-place op (activation, norm, add) takes over its first input's buffer when no later
///    step reads that buffer;
/// 3. buffers whose lifetimes do not overlap share bytes: placed largest first, each at the lowest
///    offset that clashes with no buffer alive at the same time (greedy by size, as TFLite's
///    arena planner does).
public enum PlanBuffers {
    public static let name = "plan"
    /// Offsets and sizes are kept to multiples of 64 bytes.
    static let alignment = 16

    public static func run(_ program: Program) throws -> Program {
        var p = program
        // Union-find over values: a class is one buffer.
        var parent = Array(0..<p.values.count)
        func find(_ v: Int) -> Int {
            var v = v
            while parent[v] != v { parent[v] = parent[parent[v]]; v = parent[v] }
            return v
        }
        // The last step reading each value; the output is read after the last step.
        var lastRead = [Int](repeating: -1, count: p.values.count)
        for (i, s) in p.steps.enumerated() { for v in s.inputs { lastRead[v] = i } }
        lastRead[p.output] = p.steps.count
        var classLastRead = lastRead
        for (i, s) in p.steps.enumerated() {
            guard let first = s.inputs.first, p.values[first].count == p.values[s.output].count else { continue }
            let spec = OpRegistry.op(named: s.op)?.storage ?? .fresh
            let root = find(first)
            switch spec {
            case .view where s.fused.isEmpty:
                parent[s.output] = root
                classLastRead[root] = max(classLastRead[root], lastRead[s.output])
                p.steps[i].storage = .view
            case .inPlace where classLastRead[root] == i && !p.inputs.contains(where: { find($0.value) == root && lastRead[$0.value] > i }):
                parent[s.output] = root
                classLastRead[root] = lastRead[s.output]
                p.steps[i].storage = .inPlace
            default:
                break
            }
        }
        // One buffer per class that something writes or reads.
        var bufferOf: [Int: Int] = [:]
        var buffers: [Program.Buffer] = []
        func touch(_ v: Int, at step: Int) throws {
            let root = find(v)
            if let b = bufferOf[root] {
                buffers[b].firstStep = min(buffers[b].firstStep, step)
                buffers[b].lastStep = max(buffers[b].lastStep, step)
            } else {
                guard !p.values[v].count.multipliedReportingOverflow(by: MemoryLayout<Float>.stride).overflow else {
                    throw IRError("%\(v) \(p.values[v].shape) is too large to address")
                }
                bufferOf[root] = buffers.count
                buffers.append(Program.Buffer(offset: 0, count: try aligned(p.values[v].count), firstStep: step, lastStep: step))
            }
            p.values[v].buffer = bufferOf[root]
        }
        for (_, v) in p.inputs { try touch(v, at: -1) }
        for (i, s) in p.steps.enumerated() {
            for v in s.inputs { try touch(v, at: i) }
            try touch(s.output, at: i)
        }
        try touch(p.output, at: p.steps.count)
        try place(&buffers)
        p.buffers = buffers
        p.arenaCount = buffers.map { $0.offset + $0.count }.max() ?? 0
        p.passes.append(name)
        return p
    }

    static func aligned(_ n: Int) throws -> Int {
        let (padded, overflow) = n.addingReportingOverflow(alignment - 1)
        guard !overflow else { throw IRError("a buffer of \(n) floats is too large to address") }
        return padded / alignment * alignment
    }

    /// Greedy by size: the largest buffer first, each at the lowest offset free over its lifetime.
    static func place(_ buffers: inout [Program.Buffer]) throws {
        let order = buffers.indices.sorted { buffers[$0].count > buffers[$1].count || (buffers[$0].count == buffers[$1].count && $0 < $1) }
        var placed: [Int] = []
        for b in order {
            let live = placed.filter { buffers[$0].firstStep <= buffers[b].lastStep && buffers[b].firstStep <= buffers[$0].lastStep }
                .sorted { buffers[$0].offset < buffers[$1].offset }
            var offset = 0
            for o in live {
                if offset + buffers[b].count <= buffers[o].offset { break }
                let (end, overflow) = buffers[o].offset.addingReportingOverflow(buffers[o].count)
                guard !overflow else { throw IRError("the arena is too large to address") }
                offset = max(offset, end)
            }
            guard !offset.addingReportingOverflow(buffers[b].count).overflow else { throw IRError("the arena is too large to address") }
            buffers[b].offset = offset
            placed.append(b)
        }
    }
}

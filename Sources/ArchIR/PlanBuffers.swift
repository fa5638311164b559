import ArchSemantics
import ArchKernels

/// Gives every value a buffer and every buffer a place in one arena:
/// 1. views (flatten, reshape, dropout, identity) share their input's buffer and cost nothing;
/// 2. a step that may write over an operand (an activation over its input, a GEMM over the
///    residual it adds) takes over that operand's buffer when no later step reads it;
/// 3. scratch memory is a buffer alive during its one step;
/// 4. buffers whose lifetimes do not overlap share bytes: placed largest first, each at the lowest
///    offset that clashes with no buffer alive at the same time (greedy by size, as TFLite's
///    arena planner does).
public enum PlanBuffers {
    public static let name = "plan"
    /// Offsets and sizes are kept to multiples of 64 bytes.
    static let alignment = 16

    public static func run(_ program: Program) throws -> Program {
        var p = program
        var classes = Classes(count: p.values.count)
        // The last step reading each value; the output is read after the last step.
        var lastRead = [Int](repeating: -1, count: p.values.count)
        for (i, s) in p.steps.enumerated() { for v in s.reads { lastRead[v] = i } }
        lastRead[p.output] = p.steps.count
        var classLastRead = lastRead
        for (i, s) in p.steps.enumerated() {
            if case .view(let v) = s.kind {
                let root = classes.find(v.input)
                classes.join(s.output, to: root)
                classLastRead[root] = max(classLastRead[root], lastRead[s.output])
                p.steps[i].storage = .view
            } else if let o = s.kind.overwritable, p.values[o].count == p.values[s.output].count {
                let root = classes.find(o)
                let inputReadLater = p.inputs.contains { classes.find($0.value) == root && lastRead[$0.value] > i }
                // Only the overwritten operand may live in that buffer: another operand read from it
                // (x + x, or a GEMM reading its own residual) would be overwritten while it is read.
                let readTwice = s.reads.filter { $0 != o }.contains { classes.find($0) == root }
                guard classLastRead[root] == i, !inputReadLater, !readTwice else { continue }
                classes.join(s.output, to: root)
                classLastRead[root] = lastRead[s.output]
                p.steps[i].storage = .inPlace
            }
        }
        var buffers = Buffers(program: p, classes: classes)
        for (_, v) in p.inputs { try buffers.touch(v, at: -1) }
        for (i, s) in p.steps.enumerated() {
            for v in s.reads { try buffers.touch(v, at: i) }
            try buffers.touch(s.output, at: i)
            if let scratch = s.scratch { try buffers.touch(scratch, at: i) }
        }
        try buffers.touch(p.output, at: p.steps.count)
        try place(&buffers.list)
        p.values = buffers.values
        p.buffers = buffers.list
        p.arenaCount = buffers.list.map { $0.offset + $0.count }.max() ?? 0
        p.passes.append(name)
        return p
    }

    /// Union-find over values: a class is one buffer.
    struct Classes {
        var parent: [Int]
        init(count: Int) { parent = Array(0..<count) }
        mutating func find(_ v: Int) -> Int {
            var v = v
            while parent[v] != v { parent[v] = parent[parent[v]]; v = parent[v] }
            return v
        }
        mutating func join(_ v: Int, to root: Int) { parent[find(v)] = root }
    }

    /// One buffer per class that something writes or reads, with its lifetime.
    struct Buffers {
        var values: [Program.Value]
        var classes: Classes
        var list: [Program.Buffer] = []
        var bufferOf: [Int: Int] = [:]

        init(program: Program, classes: Classes) {
            values = program.values
            self.classes = classes
        }

        mutating func touch(_ v: Int, at step: Int) throws {
            let root = classes.find(v)
            if let b = bufferOf[root] {
                list[b].firstStep = min(list[b].firstStep, step)
                list[b].lastStep = max(list[b].lastStep, step)
                list[b].count = max(list[b].count, try aligned(values[v].count))
            } else {
                guard !values[v].count.multipliedReportingOverflow(by: MemoryLayout<Float>.stride).overflow else {
                    throw IRError("%\(v) \(values[v].shape) is too large to address")
                }
                bufferOf[root] = list.count
                list.append(Program.Buffer(offset: 0, count: try aligned(values[v].count), firstStep: step, lastStep: step))
            }
            values[v].buffer = bufferOf[root]
        }
    }

    static func aligned(_ n: Int) throws -> Int {
        let (padded, overflow) = n.addingReportingOverflow(alignment - 1)
        guard !overflow else { throw IRError("a buffer of \(n) floats is too large to address") }
        return padded / alignment * alignment
    }

    /// Greedy by size: the largest buffer first, each at the lowest offset free over its lifetime.
    /// The buffers already placed are found through buckets of steps they live in, so a buffer is
    /// compared with those alive near it, not with all (50,000-layer specs plan in moments).
    static func place(_ buffers: inout [Program.Buffer]) throws {
        let order = buffers.indices.sorted { buffers[$0].count > buffers[$1].count || (buffers[$0].count == buffers[$1].count && $0 < $1) }
        let width = 64
        func buckets(_ b: Program.Buffer) -> ClosedRange<Int> { (b.firstStep + 1) / width...(b.lastStep + 1) / width }
        var placedIn: [Int: [Int]] = [:]
        var seen = [Int](repeating: -1, count: buffers.count)
        for b in order {
            var live: [Int] = []
            for k in buckets(buffers[b]) {
                for o in placedIn[k] ?? [] where seen[o] != b
                    && buffers[o].firstStep <= buffers[b].lastStep && buffers[b].firstStep <= buffers[o].lastStep {
                    seen[o] = b
                    live.append(o)
                }
            }
            live.sort { buffers[$0].offset < buffers[$1].offset }
            var offset = 0
            for o in live {
                if offset + buffers[b].count <= buffers[o].offset { break }
                let (end, overflow) = buffers[o].offset.addingReportingOverflow(buffers[o].count)
                guard !overflow else { throw IRError("the arena is too large to address") }
                offset = max(offset, end)
            }
            guard !offset.addingReportingOverflow(buffers[b].count).overflow else { throw IRError("the arena is too large to address") }
            buffers[b].offset = offset
            for k in buckets(buffers[b]) { placedIn[k, default: []].append(b) }
        }
    }

    /// Each value's offset in the arena, in floats (0 for values no step touches).
    public static func offsets(_ p: Program) -> [Int] {
        p.values.map { v in v.buffer.map { p.buffers[$0].offset } ?? 0 }
    }
}

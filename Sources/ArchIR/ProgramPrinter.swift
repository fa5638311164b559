import ArchSemantics

/// The program as text (`archc ir`, `archc run --dump-ir`): each step with its concrete shape,
/// what it absorbed, its buffer and whether it writes in place; then the buffers and the arena.
public enum ProgramPrinter {
    public static func print(_ p: Program) -> String {
        var out = "program \(p.name) after \(p.passes.joined(separator: ", ")) {\n"
        for (name, v) in p.inputs { out += "  %\(v) = input \(name) : \(shape(p.values[v].shape))\(place(p, v))\n" }
        for s in p.steps {
            let n = p.node(s)
            let args = n.args.keys.sorted().map { "\($0)=\(n.args[$0]!)" }.joined(separator: " ")
            let ins = s.inputs.map { "%\($0)" }.joined(separator: ", ")
            let fused = s.fused.map { f -> String in
                switch f {
                case .batchnorm(let node): return " +batchnorm(\(p.graph.nodes[node].path.joined(separator: ".")))"
                case .activation(let a): return " +\(a)"
                }
            }.joined()
            out += "  %\(s.output) = \(s.op)(\(ins))\(args.isEmpty ? "" : " " + args)\(fused) : \(shape(p.values[s.output].shape))"
            out += place(p, s.output)
            switch s.storage {
            case .view: out += " (view)"
            case .inPlace: out += " (in place)"
            case .fresh: break
            }
            out += "  # \(n.path.joined(separator: "."))\n"
            for id in n.params {
                let prm = p.graph.params[id]
                out += "      \(prm.isBuffer ? "buffer" : "param") \(prm.name) \(prm.shape)\(n.ownParams.contains(id) ? "" : " (tied)")\n"
            }
            for case .batchnorm(let bn) in s.fused {
                for id in p.graph.nodes[bn].params where !p.graph.params[id].isInteger {
                    let prm = p.graph.params[id]
                    out += "      folded \(prm.isBuffer ? "buffer" : "param") \(prm.name) \(prm.shape)\n"
                }
            }
        }
        out += "  return %\(p.output)\n"
        if p.isPlanned {
            let a = PlanBuffers.alignment
            let unplanned = p.values.indices.filter { p.values[$0].buffer != nil }.reduce(0) { $0 + (p.values[$1].count + a - 1) / a * a }
            out += "  arena \(bytes(p.arenaCount * 4)) for \(p.buffers.count) buffers (\(bytes(unplanned * 4)) if every value had its own)\n"
            for (i, b) in p.buffers.enumerated() {
                out += "    b\(i) at \(b.offset), \(b.count) floats, live in steps \(b.firstStep)...\(b.lastStep)\n"
            }
        }
        return out + "}\n"
    }

    static func shape(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }

    static func place(_ p: Program, _ v: Int) -> String { p.values[v].buffer.map { " @b\($0)" } ?? "" }

    static func bytes(_ n: Int) -> String {
        if n >= 1 << 20 { return "\((Double(n) / Double(1 << 20) * 10).rounded() / 10) MB" }
        if n >= 1 << 10 { return "\((Double(n) / Double(1 << 10) * 10).rounded() / 10) KB" }
        return "\(n) B"
    }
}

import Foundation
import ArchSemantics
import ArchKernels

/// The program as text (`archc ir`, `archc run --dump-ir`): each step as its kernel call with every
/// field (values as `%n`, constants as `cN`), its shape, buffer and the layers it computes; the
/// schedule's estimates; the constants with their recipes; the buffers and the arena.
public enum ProgramPrinter {
    public static func print(_ p: Program) -> String {
        var out = "program \(p.name) after \(p.passes.joined(separator: ", ")), \(p.threads) thread\(p.threads == 1 ? "" : "s") {\n"
        for (name, v) in p.inputs { out += "  %\(v) = input \(name) : \(shape(p.values[v].shape))\(place(p, v))\n" }
        for s in p.steps { out += step(p, s) }
        out += "  return %\(p.output)\n"
        if !p.constants.isEmpty { out += "  constants:\n" }
        for (i, c) in p.constants.enumerated() where !p.isPrepared || c.isRuntime || isSource(i, p) {
            out += "    c\(i) = \(recipe(c.recipe)) : \(c.count) floats  # \(c.name)\(p.isPrepared && !c.isRuntime ? " (made once, then freed)" : "")\n"
        }
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

    /// The layers a step computes: the first by its full name, those fused into it by their own
    /// label (or their op, when unlabelled): `layer1.0.conv1 + bn1 + relu`.
    public static func layers(_ p: Program, _ s: Program.Step) -> String {
        s.nodes.enumerated().map { i, n in
            let node = p.graph.nodes[n]
            if i == 0 { return node.path.joined(separator: ".") }
            let label = node.path.last ?? ""
            return label.isEmpty || label.first!.isNumber || label.hasPrefix("(") ? node.op.rawValue : label
        }.joined(separator: " + ")
    }

    static func isSource(_ c: Int, _ p: Program) -> Bool { p.constants.contains { $0.sources.contains(c) } }

    static func step(_ p: Program, _ s: Program.Step) -> String {
        let reads = s.reads.map { "%\($0)" }.joined(separator: ", ")
        let f = fields(s.kind.call)
        var line = "  %\(s.output) = \(s.kind.name)(\(reads))\(f.isEmpty ? "" : " " + f) : \(shape(p.values[s.output].shape))\(place(p, s.output))"
        switch s.storage {
        case .view: line += " (view)"
        case .inPlace: line += " (in place)"
        case .fresh: break
        }
        line += "  # " + layers(p, s) + "\n"
        if let bn = s.batchnorm { line += "      batchnorm to fold: \(p.graph.nodes[bn.node].path.joined(separator: ".")) (eps \(bn.eps))\n" }
        if let e = s.estimate {
            line += "      \(e.chosen): \(milliseconds(e.seconds))" + e.alternatives.map { "; \($0.0) \(milliseconds($0.1))" }.joined() + "\n"
        }
        return line
    }

    /// Field names whose integers are values (printed `%n`) and constants (printed `cN`).
    static let valueFields: Set = ["input", "output", "lhs", "rhs", "q", "k", "v", "ids", "base", "qkv", "residual", "gate", "scratch", "inputs"]
    static let constantFields: Set = ["weight", "bias", "table", "token", "scale", "shift", "constant", "router", "first", "firstBias", "second",
                                      "secondBias", "inputWeights", "hiddenWeights", "inputBiases", "hiddenBiases"]

    /// A call's fields other than the values it reads (shown as its arguments) and its output,
    /// leaving out what is absent, zero offsets and no activation.
    static func fields(_ call: Any) -> String {
        Mirror(reflecting: call).children.compactMap { child -> String? in
            guard let label = child.label, !["input", "output", "lhs", "rhs", "q", "k", "v", "mask", "ids", "base", "qkv", "inputs"].contains(label) else {
                return nil
            }
            let text = describe(child.value, prefix: valueFields.contains(label) ? "%" : constantFields.contains(label) ? "c" : "")
            if text == "nil" || text == "none" || (label.hasSuffix("Offset") && text == "0") { return nil }
            return "\(label) \(text)"
        }.joined(separator: ", ")
    }

    static func describe(_ value: Any, prefix: String = "") -> String {
        let m = Mirror(reflecting: value)
        switch value {
        case let g as ConvGeometry:
            return "\(g.inChannels)->\(g.outChannels) \(g.inH)x\(g.inW)->\(g.outH)x\(g.outW) kernel \(g.kernelH)x\(g.kernelW)"
                + " stride \(g.strideH)x\(g.strideW) pad \(g.padTop)x\(g.padLeft)" + (g.dilationH * g.dilationW > 1 ? " dilation \(g.dilationH)x\(g.dilationW)" : "")
                + (g.groups > 1 ? " groups \(g.groups)" : "")
        case let n as Int: return prefix + String(n)
        case let a as [Any]: return "[" + a.map { describe($0, prefix: prefix) }.joined(separator: ", ") + "]"
        default: break
        }
        switch m.displayStyle {
        case .optional: return m.children.first.map { describe($0.value, prefix: prefix) } ?? "nil"
        case .enum: return "\(value)"
        case .struct: return "(" + m.children.map { "\($0.label ?? "") \(describe($0.value))" }.joined(separator: ", ") + ")"
        default: return "\(value)"
        }
    }

    static func recipe(_ r: Recipe) -> String {
        switch r {
        case .parameter(let i): return "parameter \(i)"
        case .batchnormScale(let g, let v, let eps): return "batchnormScale(gamma \(g.map { "c\($0)" } ?? "1"), variance c\(v), eps \(eps))"
        case .batchnormShift(let b, let m, let s, let bias):
            return "batchnormShift(beta \(b.map { "c\($0)" } ?? "0"), mean c\(m), scale c\(s), bias \(bias.map { "c\($0)" } ?? "0"))"
        case .scaleRows(let w, let s, let width): return "scaleRows(c\(w), by c\(s), width \(width))"
        case .convWeights(let w, _, let a): return "convWeights(c\(w), \(a))"
        case .linearWeights(let w, let n, let k): return "linearWeights(c\(w), \(n)x\(k))"
        case .matrixA(let w, let rows, let k): return "matrixA(c\(w), \(rows)x\(k))"
        case .transposedConvWeights(let w, _): return "transposedConvWeights(c\(w))"
        case .concat(let parts): return "concat(" + parts.map { "c\($0)" }.joined(separator: ", ") + ")"
        case .sinusoid(let n, let d): return "sinusoid(\(n)x\(d))"
        case .relativeBias(let t, let w, let h): return "relativeBias(c\(t), window \(w), heads \(h))"
        case .rotary(let n, let start, let d, let base): return "rotary(\(n)x\(d) from position \(start), base \(base))"
        case .slice(let c, let start, let count): return "slice(c\(c), \(count) from \(start))"
        case .number(let x): return "number(\(x))"
        }
    }

    static func shape(_ s: [Int]) -> String { "[" + s.map(String.init).joined(separator: ", ") + "]" }

    static func place(_ p: Program, _ v: Int) -> String { p.values[v].buffer.map { " @b\($0)" } ?? "" }

    static func milliseconds(_ s: Double) -> String { String(format: "%.3g ms", s * 1000) }

    /// Decimal units, as `archc params` and the memory errors: 1 MB = 10^6 bytes.
    static func bytes(_ n: Int) -> String {
        if n >= 1_000_000 { return "\((Double(n) / 1e6 * 10).rounded() / 10) MB" }
        if n >= 1_000 { return "\((Double(n) / 1e3 * 10).rounded() / 10) kB" }
        return "\(n) B"
    }
}

/// Structural invariants of the checked graph; a violation is a compiler bug, reported as such.
public enum GraphVerifier {
    public static func verify(_ g: Graph) -> [String] {
        var problems: [String] = []
        for (i, n) in g.nodes.enumerated() {
            if n.output < 0 || n.output >= g.values.count { problems.append("node \(i) '\(n.op)' writes value \(n.output), which does not exist") }
            for v in n.inputs where v < 0 || v >= n.output { problems.append("node \(i) '\(n.op)' reads value \(v) before it is defined") }
            for p in n.params where p < 0 || p >= g.params.count { problems.append("node \(i) '\(n.op)' uses parameter \(p), which does not exist") }
        }
        var names = Set<String>()
        for p in g.params where !names.insert(p.name).inserted { problems.append("parameter name '\(p.name)' is used twice") }
        for m in g.modules where m.nodes.upperBound > g.nodes.count { problems.append("module '\(m.name)' covers nodes past the end") }
        if let o = g.output, o >= g.values.count { problems.append("the output value \(o) does not exist") }
        return problems
    }
}

/// A readable text form of the checked graph (`archc check --dump-graph`).
public enum GraphPrinter {
    public static func print(_ g: Graph) -> String {
        var out = "graph \(g.modelName) {\n"
        for (name, v) in g.inputs { out += "  %\(v) = input \(name) : \(g.values[v].description)\n" }
        for n in g.nodes {
            let args = n.args.keys.sorted().map { "\($0)=\(n.args[$0]!)" }.joined(separator: " ")
            let ins = n.inputs.map { "%\($0)" }.joined(separator: ", ")
            out += "  %\(n.output) = \(n.op)(\(ins))\(args.isEmpty ? "" : " " + args) : \(g.values[n.output].description)"
            out += "  # \(n.path.joined(separator: "."))\n"
            for p in n.params {
                let prm = g.params[p]
                out += "      \(prm.isBuffer ? "buffer" : "param") \(prm.name) \(prm.shape)\(n.ownParams.contains(p) ? "" : " (tied)")\n"
            }
        }
        if let o = g.output { out += "  return %\(o)\n" }
        return out + "}\n"
    }
}

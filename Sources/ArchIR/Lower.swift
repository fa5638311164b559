import ArchSemantics

/// Lowers a checked graph whose sizes are all bound to a program: one step per node, every shape
/// concrete. Sizes are multiplied with overflow checks; a size left symbolic is an error that says
/// how to bind it.
public enum Lower {
    public static let name = "lower"

    public static func run(_ graph: Graph) throws -> Program {
        guard let output = graph.output else { throw IRError("the network has no output") }
        var values: [Program.Value] = []
        values.reserveCapacity(graph.values.count)
        for (v, t) in graph.values.enumerated() {
            var shape: [Int] = []
            var count = 1
            for d in t.shape {
                guard let n = d.value else {
                    let place = graph.node(producing: v).map { "%\(v) (\($0.op) at \($0.loc.description))" }
                        ?? graph.inputs.first { $0.value == v }.map { "input '\($0.name)'" } ?? "%\(v)"
                    throw IRError("the size \(d) of \(place) is not bound",
                                  notes: ["bind it with --set \(d.symbols.first ?? "NAME")=N, or from an input file's shape"])
                }
                let (product, overflow) = count.multipliedReportingOverflow(by: n)
                guard !overflow, n >= 0 else { throw IRError("%\(v) has \(t.shape) elements: more than this machine can address") }
                count = product
                shape.append(n)
            }
            values.append(Program.Value(shape: shape, buffer: nil))
        }
        let steps = graph.nodes.enumerated().map { i, n in
            Program.Step(node: i, op: n.op, inputs: n.inputs, output: n.output)
        }
        return Program(name: graph.modelName, graph: graph, values: values, steps: steps, inputs: graph.inputs, output: output,
                       passes: [name])
    }
}

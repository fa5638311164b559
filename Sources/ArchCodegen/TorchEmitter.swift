import ArchSemantics

/// `archc emit torch`: a self-contained PyTorch module whose parameters have the spec's names and
/// shapes, in the same state_dict order, drawn at init as `archc init` draws them, so weights move
/// between archc and PyTorch unchanged.
public enum TorchEmitter {
    public struct Unsupported: Error, CustomStringConvertible {
        public let description: String
    }

    public static func emit(_ g: Graph) throws -> String {
        // Containers whose children are 0, 1, ... are nn.ModuleLists (`self.layer1[0]`); one whose
        // registered children turn out otherwise is emitted again as a plain module.
        var lists = Emitter.numberedContainers(g)
        while true {
            var e = Emitter(graph: g, lists: lists)
            try e.run()
            let wrong = e.misnumberedLists()
            if wrong.isEmpty { return e.text }
            lists.subtract(wrong)
        }
    }

    struct Emitter {
        let graph: Graph
        /// Containers emitted as nn.ModuleList.
        let lists: Set<String>
        /// `__init__`'s lines, each with the module or tensor it registers (for `order`).
        var initLines: [(path: String, text: String)] = []
        var forwardLines: [String] = []
        /// Every module path registered so far (containers, layers, the helpers' dotted groups).
        var registered: Set<String> = [""]
        /// The children registered in each container, in order.
        var children: [String: [String]] = [:]
        var helpers: Set<TorchHelper> = []
        /// What each tensor's constructor draws, where it is not what `archc init` draws.
        var text = ""
        var names: ValueNames
        /// The uses of blocks emitted as classes, and the classes written so far.
        var units: [Unit] = []
        var classes: [(name: String, block: String, body: String, arguments: [Graph.Argument]?, parameters: [String])] = []
        /// The path of the module whose class is being written (`self` there); [] for Model.
        var base: [String] = []
        /// The names of the block whose class is being written; nil for Model.
        var scope: ClassScope?

        init(graph: Graph, lists: Set<String>) {
            self.graph = graph
            self.lists = lists
            self.names = ValueNames(graph)
        }

        func py(_ v: Value?) -> String {
            switch v {
            case .int(let n)?: return String(n)
            case .float(let x)?: return String(x)
            case .bool(let b)?: return b ? "True" : "False"
            case .word(let w)?: return TorchNames.literal(w)
            case .list(let vs)?: return "(" + vs.map { py($0) }.joined(separator: ", ") + (vs.count == 1 ? ",)" : ")")
            default: return "None"
            }
        }
        func int(_ n: Graph.Node, _ k: String) -> Int? { if case .int(let v)? = n.args[k] { return v }; return nil }
        func word(_ n: Graph.Node, _ k: String) -> String? { if case .word(let w)? = n.args[k] { return w }; return nil }
        func bool(_ n: Graph.Node, _ k: String) -> Bool { if case .bool(let b)? = n.args[k] { return b }; return false }
        func known(_ v: Int, _ i: Int) throws -> Int {
            let s = graph.values[v].shape
            let d = s[i < 0 ? s.count + i : i]
            guard let n = d.value else {
                throw Unsupported(description: "emit torch needs the size \(d) of \(describe(s)) bound (--set \(d)=N) to build the layer that reads it")
            }
            return n
        }

        mutating func run() throws {
            units = Self.units(graph)
            let top = items(0..<graph.nodes.count)
            names = ValueNames(inputs: graph.inputs, steps: steps(top), output: graph.output)
            try emit(top)
            let resets = resetLines()
            var initText = compressLists(try ordered(initLines).map(\.text)).map { indent($0, 8) }
            if !resets.isEmpty { initText.append("        self.reset_parameters()") }
            let inputs = graph.inputs.map { names.name(of: $0.value) }.joined(separator: ", ")
            let renamed = graph.inputs.filter { names.name(of: $0.value) != $0.name }
                .map { "input '\($0.name)' is the argument \(names.name(of: $0.value))" }
            let helperText = TorchHelper.closure(helpers).map { "\n\n\n" + $0.source.trimmingTrailing() }.joined()
                + classes.map { "\n\n\n" + classText($0) }.joined()
            var doc = "\(graph.modelName), emitted by archc: its state_dict holds the tensors `archc params --names` lists."
            if !renamed.isEmpty { doc += "\n    In forward, " + renamed.joined(separator: ", ") + "." }
            text = """
            import math
            import torch
            import torch.nn as nn
            import torch.nn.functional as F\(helperText)


            class Model(nn.Module):
                \"\"\"\(doc)\"\"\"

                def __init__(self):
                    super().__init__()
            \(initText.joined(separator: "\n"))

            """
            if !resets.isEmpty {
                text += """

                    def reset_parameters(self):
                        \"\"\"Draws the tensors whose layers PyTorch initialises otherwise as `archc init` does.\"\"\"
                \(resets.map { "        " + $0 }.joined(separator: "\n"))

                """
            }
            text += """

                def forward(self, \(inputs)):
            \(loops(forwardLines).map { indent($0, 8) }.joined(separator: "\n"))
                    return \(names.name(of: graph.output ?? 0))

            """
        }

        /// The lines with each name of the spec's `order` moved before its first sibling's line, so
        /// the module's state_dict lists it first among them as `--names` does. A tensor inside a
        /// PyTorch module (a linear layer's bias) keeps that module's order: it cannot be emitted.
        func ordered(_ lines: [(path: String, text: String)]) throws -> [(path: String, text: String)] {
            var out = lines
            func parent(_ path: String) -> Substring { path.lastIndex(of: ".").map { path[..<$0] } ?? "" }
            for name in graph.stateDictFirst.reversed() {
                guard let from = out.firstIndex(where: { $0.path == name }) else {
                    throw Unsupported(description: "emit torch cannot put '\(name)' first: it is a tensor of a PyTorch module, which orders its own tensors")
                }
                guard let to = out.firstIndex(where: { parent($0.path) == parent(name) }), to < from else { continue }
                out.insert(out.remove(at: from), at: to)
            }
            return out
        }
    }
}

extension String {
    func trimmingTrailing() -> String {
        var s = self
        while s.last == "\n" || s.last == " " { s.removeLast() }
        return s
    }
}

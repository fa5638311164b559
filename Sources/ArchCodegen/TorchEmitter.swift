import ArchSemantics

/// `archc emit torch`: a self-contained PyTorch module whose parameters have the spec's names and
/// shapes, in the same state_dict order, so weights move between archc and PyTorch unchanged.
public enum TorchEmitter {
    public struct Unsupported: Error, CustomStringConvertible {
        public let description: String
    }

    public static func emit(_ g: Graph) throws -> String {
        var e = Emitter(graph: g)
        try e.run()
        return e.text
    }

    struct Emitter {
        let graph: Graph
        /// `__init__`'s lines, each with the module or tensor it registers (for `order`).
        var initLines: [(path: String, text: String)] = []
        var forwardLines: [String] = []
        var groups: Set<String> = [""]
        var text = ""

        init(graph: Graph) { self.graph = graph }

        func py(_ v: Value?) -> String {
            switch v {
            case .int(let n)?: return String(n)
            case .float(let x)?: return String(x)
            case .bool(let b)?: return b ? "True" : "False"
            case .word(let w)?: return "\"\(w)\""
            case .list(let vs)?: return "(" + vs.map { py($0) }.joined(separator: ", ") + (vs.count == 1 ? ",)" : ")")
            default: return "None"
            }
        }
        func int(_ n: Graph.Node, _ k: String) -> Int? { if case .int(let v)? = n.args[k] { return v }; return nil }
        func word(_ n: Graph.Node, _ k: String) -> String? { if case .word(let w)? = n.args[k] { return w }; return nil }
        func bool(_ n: Graph.Node, _ k: String) -> Bool { if case .bool(let b)? = n.args[k] { return b }; return false }
        func dims(_ v: Int) -> [String] { graph.values[v].shape.map { $0.value.map(String.init) ?? "?" } }
        func known(_ v: Int, _ i: Int) throws -> Int {
            let s = graph.values[v].shape
            let d = s[i < 0 ? s.count + i : i]
            guard let n = d.value else { throw Unsupported(description: "size \(d) must be known to emit PyTorch") }
            return n
        }

        /// Makes sure every level of `path` above the module exists as a Group (a dotted label's too:
        /// `model.embed_tokens` needs `model`).
        mutating func ensureGroups(_ path: [String]) {
            let levels = path.joined(separator: ".").split(separator: ".").map(String.init)
            for i in 1..<max(1, levels.count) {
                let prefix = levels[..<i].joined(separator: ".")
                if groups.insert(prefix).inserted {
                    initLines.append((prefix, "self._add(\"\(prefix)\", Group())"))
                }
            }
        }

        mutating func addModule(_ path: [String], _ ctor: String) {
            ensureGroups(path)
            groups.insert(path.joined(separator: "."))
            initLines.append((path.joined(separator: "."), "self._add(\"\(path.joined(separator: "."))\", \(ctor))"))
        }

        /// A bare nn.Parameter registered on its parent (made as a Group where it is no module yet).
        mutating func register(_ p: Graph.Param) {
            ensureGroups(p.name.split(separator: ".").map(String.init))
            initLines.append((p.name, "self._param(\"\(p.name)\", \(py(.list(p.shape.map { .int($0) }))))"))
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

        func m(_ node: Graph.Node) -> String { "self.get_submodule(\"\(node.path.joined(separator: "."))\")" }

        mutating func run() throws {
            for (name, v) in graph.inputs { forwardLines.append("v\(v) = \(name)") }
            for node in graph.nodes { try emit(node) }
            let inputs = graph.inputs.map(\.name).joined(separator: ", ")
            let initText = try ordered(initLines).map { "        " + $0.text }.joined(separator: "\n")
            text = TorchPrelude.source + """


            class Model(nn.Module):
                \"\"\"\(graph.modelName), emitted by archc. Its state_dict has the names `archc params --names` lists.\"\"\"

                def __init__(self):
                    super().__init__()
            \(initText)

                def _add(self, path, module):
                    parent, _, name = path.rpartition(".")
                    owner = self.get_submodule(parent) if parent else self
                    old = owner._modules.get(name)
                    if isinstance(old, Group):  # layers labelled under this one's name came first (PVT's attn.sr before attn)
                        for k, v in old.named_children():
                            module.add_module(k, v)
                    owner.add_module(name, module)

                def _param(self, path, shape):
                    parent, _, name = path.rpartition(".")
                    (self.get_submodule(parent) if parent else self).register_parameter(name, nn.Parameter(torch.zeros(shape)))

                def forward(self, \(inputs)):
            \(forwardLines.map { "        " + $0 }.joined(separator: "\n"))
                    return v\(graph.output ?? 0)

            """
        }

        mutating func emit(_ n: Graph.Node) throws {
            let x = "v\(n.inputs.first ?? 0)", out = "v\(n.output)"
            let inV = n.inputs.first ?? 0
            let rank = graph.values[inV].shape.count
            func line(_ s: String) { forwardLines.append("\(out) = \(s)") }
            switch n.op {
            case .linear:
                let inF = try known(inV, -1), o = int(n, "out")!
                if let tied = n.params.first(where: { !n.ownParams.contains($0) }) {
                    let owner = graph.params[tied].name
                    var bias = "None"
                    if let b = n.ownParams.first {
                        register(graph.params[b])
                        bias = "self.get_parameter(\"\(graph.params[b].name)\")"
                    }
                    line("F.linear(\(x), self.get_parameter(\"\(owner)\"), \(bias))")
                } else {
                    addModule(n.path, "nn.Linear(\(inF), \(o), bias=\(py(n.args["bias"])))")
                    line("\(m(n))(\(x))")
                }
            case .conv, .convt:
                let c = try known(inV, 1), spatial = rank - 2
                let groups = word(n, "groups") == "depthwise" ? "\(c)" : py(n.args["groups"])
                let pad = word(n, "pad") == "same" ? "\"same\"" : py(n.args["pad"])
                if n.op == .conv {
                    addModule(n.path, "nn.Conv\(spatial)d(\(c), \(int(n, "out")!), \(py(n.args["kernel"])), stride=\(py(n.args["stride"])), padding=\(pad), dilation=\(py(n.args["dilation"])), groups=\(groups), bias=\(py(n.args["bias"])))")
                } else {
                    addModule(n.path, "nn.ConvTranspose\(spatial)d(\(c), \(int(n, "out")!), \(py(n.args["kernel"])), stride=\(py(n.args["stride"])), padding=\(pad), output_padding=\(py(n.args["outpad"])), groups=\(groups), bias=\(py(n.args["bias"])), dilation=\(py(n.args["dilation"])))")
                }
                line("\(m(n))(\(x))")
            case .patch:
                let c = try known(inV, 1)
                addModule(n.path, "nn.Conv2d(\(c), \(int(n, "dim")!), \(py(n.args["size"])), stride=\(py(n.args["size"])), bias=\(py(n.args["bias"])))")
                line(bool(n, "grid") ? "\(m(n))(\(x)).permute(0, 2, 3, 1)" : "\(m(n))(\(x)).flatten(2).transpose(1, 2)")
            case .batchnorm:
                let eps = n.args["eps"].map { ", eps=\(py($0))" } ?? ""
                addModule(n.path, "nn.BatchNorm\(rank == 4 ? 2 : 1)d(\(try known(inV, 1))\(eps), affine=\(py(n.args["affine"])))")
                line("\(m(n))(\(x))")
            case .layernorm:
                let eps = n.args["eps"].map { ", eps=\(py($0))" } ?? ""
                addModule(n.path, "nn.LayerNorm(\(try known(inV, int(n, "dim") ?? -1))\(eps), elementwise_affine=\(py(n.args["affine"])), bias=\(py(n.args["bias"])))")
                line(normalised(n, rank: rank))
            case .rmsnorm:
                addModule(n.path, "nn.RMSNorm(\(try known(inV, int(n, "dim") ?? -1)), eps=\(py(n.args["eps"])))")
                line(normalised(n, rank: rank))
            case .groupnorm:
                let eps = n.args["eps"].map { ", eps=\(py($0))" } ?? ""
                addModule(n.path, "nn.GroupNorm(\(int(n, "groups")!), \(try known(inV, 1))\(eps))")
                line("\(m(n))(\(x))")
            case .embed:
                addModule(n.path, "nn.Embedding(\(int(n, "vocab")!), \(int(n, "dim")!))")
                line(n.inputs.count > 1 ? "\(x) + \(m(n))(v\(n.inputs[1]))" : "\(m(n))(\(x))")
            case .pos:
                switch word(n, "kind") {
                case "sinusoidal": line("\(x) + sinusoid(\(x).shape[1], \(x).shape[2], \(x).device)")
                case "table":
                    addModule(n.path, "nn.Embedding(\(int(n, "max")!), \(try known(inV, -1)))")
                    line("\(x) + \(m(n))(torch.arange(\(x).shape[1], device=\(x).device))")
                default:
                    let p = graph.params[n.ownParams[0]]
                    register(p)
                    line("\(x) + self.get_parameter(\"\(p.name)\")[:, :\(x).shape[1]]")
                }
            case .cls:
                let p = graph.params[n.ownParams[0]]
                register(p)
                line("torch.cat([self.get_parameter(\"\(p.name)\").expand(\(x).shape[0], -1, -1), \(x)], 1)")
            case .attention: line(try attention(n))
            case .mlp:
                let d = try known(inV, -1)
                addModule(n.path, "Mlp(\(d), \(int(n, "hidden")!), \(int(n, "out") ?? d), \"\(word(n, "act") ?? "gelu")\", \(py(n.args["bias"])))")
                line("\(m(n))(\(x))")
            case .swiglu: line(try swiglu(n))
            case .moe:
                addModule(n.path, "MoE(\(try known(inV, -1)), \(int(n, "experts")!), \(int(n, "top") ?? 2), \(int(n, "hidden")!), \"\(word(n, "expert") ?? "swiglu")\")")
                line("\(m(n))(\(x))")
            case .sgu:
                let src = n.inputs.count > 1 ? n.inputs[1] : inV
                addModule(n.path, "SGU(\(try known(inV, -1)), \(try known(inV, 1)), \(int(n, "attn").map(String.init) ?? "None"), \(try known(src, -1)), \(n.args["eps"].map { py($0) } ?? "1e-5"))")
                line(n.inputs.count > 1 ? "\(m(n))(\(x), v\(n.inputs[1]))" : "\(m(n))(\(x))")
            case .patchmerge:
                addModule(n.path, "PatchMerge(\(try known(inV, -1)), \(n.args["eps"].map { py($0) } ?? "1e-5"))")
                line("\(m(n))(\(x))")
            case .rnn, .lstm, .gru:
                let kind = n.op.rawValue.uppercased()
                addModule(n.path, "nn.\(kind)(\(try known(inV, -1)), \(int(n, "hidden")!), num_layers=\(int(n, "layers") ?? 1), bias=\(py(n.args["bias"])), batch_first=True, bidirectional=\(py(.bool(bool(n, "bidirectional")))))")
                line(bool(n, "last") ? "\(m(n))(\(x))[0][:, -1]" : "\(m(n))(\(x))[0]")
            case .relu, .relu6, .silu, .hardswish: line("F.\(n.op)(\(x))")
            case .gelu: line(word(n, "approx") == "tanh" ? "F.gelu(\(x), approximate=\"tanh\")" : "F.gelu(\(x))")
            case .sigmoid, .tanh: line("torch.\(n.op)(\(x))")
            case .softmax: line("\(x).softmax(\(int(n, "dim") ?? -1))")
            case .dropout: line("F.dropout(\(x), \(py(n.args["p"])), self.training)")
            case .identity: line(x)
            case .flatten: line("torch.flatten(\(x), \(int(n, "start") ?? 1), \(int(n, "end") ?? -1))")
            case .reshape:
                line("\(x).reshape(\(x).shape[0], " + dims(n.output).dropFirst().joined(separator: ", ") + ")")
            case .transpose: line("\(x).transpose(\(int(n, "a")!), \(int(n, "b")!))")
            case .permute: line("\(x).permute\(py(n.args["dims"]))")
            case .take:
                switch word(n, "which") {
                case "mean": line("\(x).flatten(1, -2).mean(1)")
                case "last": line("\(x)[:, -1]")
                default: line("\(x)[:, 0]")
                }
            case .maxpool, .avgpool:
                let stride = n.args["stride"].map { py($0) } ?? py(n.args["kernel"])
                line("F.\(n.op == .maxpool ? "max" : "avg")_pool\(rank - 2)d(\(x), \(py(n.args["kernel"])), \(stride), \(py(n.args["pad"])), ceil_mode=\(py(n.args["ceil"])))")
            case .adaptive_avgpool, .adaptive_maxpool:
                line("F.adaptive_\(n.op == .adaptive_avgpool ? "avg" : "max")_pool\(rank - 2)d(\(x), \(py(n.args["size"])))")
            case .globalpool:
                let f = word(n, "mode") == "max" ? "amax" : "mean"
                line("\(x).\(f)(dim=tuple(range(2, \(x).dim())), keepdim=\(py(n.args["keep"])))")
            case .upsample: line("F.interpolate(\(x), scale_factor=\(int(n, "scale")!), mode=\(py(n.args["mode"])))")
            case .add, .sub, .mul, .div, .rsub: line(arithmetic(n))
            case .sum, .mean, .max, .slice, .index, .view, .unfold, .fold: line(try tensorOp(n))
            case .concat: line("torch.cat([" + n.inputs.map { "v\($0)" }.joined(separator: ", ") + "], \(int(n, "dim") ?? 1))")
            case .seq, .residual, .parallel:
                throw Unsupported(description: "emit torch does not know the op '\(n.op)' yet")
            }
        }
    }
}

import ArchSyntax
import ArchSemantics

/// `archc params --json`: everything the table shows and more. Keys are only ever added (tools
/// read them); `schema_version` counts changes that are not additions.
extension ParamsReport {
    public static let schemaVersion = 1

    static func opt(_ v: Int?) -> String { v.map(String.init) ?? "null" }
    static func ints(_ xs: [Int]) -> String { "[" + xs.map(String.init).joined(separator: ", ") + "]" }
    static func shapeJSON(_ sh: Shape?) -> String {
        guard let sh else { return "null" }
        return "[" + sh.map { $0.value.map(String.init) ?? Format.json($0.description) }.joined(separator: ", ") + "]"
    }
    /// `{"a": 1, "b": 2}` from pairs whose values are JSON already.
    static func object(_ pairs: [(String, String)]) -> String {
        "{" + pairs.map { "\(Format.json($0.0)): \($0.1)" }.joined(separator: ", ") + "}"
    }
    /// A list, one item per line at the given indent.
    static func lines(_ items: [String], indent: String) -> String {
        items.isEmpty ? "[]" : "[\n" + items.map { indent + "  " + $0 }.joined(separator: ",\n") + "\n\(indent)]"
    }
    static func bindingsJSON(_ b: [String: Int]) -> String { object(b.keys.sorted().map { ($0, String(b[$0]!)) }) }

    public static func json(_ s: Summary, depth: Int, graph: Graph? = nil, training: TrainingMemory? = nil, bindings: [String: Int] = [:]) -> String {
        var top: [(String, String)] = [("schema_version", String(schemaVersion)), ("model", Format.json(s.model))]
        top += [("params", String(s.params)), ("trainable_params", String(s.params)), ("buffer_elements", String(s.bufferElements)),
                ("macs", opt(s.macs)), ("flops", opt(s.macs.map { $0 &* 2 })), ("other_ops", opt(s.otherOps)),
                ("param_bytes", opt(s.paramBytes)), ("activation_bytes", opt(s.activationBytes)),
                ("activation_threads", s.activationBytes == nil ? "null" : String(s.planThreads)),
                ("output_shape", shapeJSON(s.outputShape)), ("unbound_symbols", "[" + s.unboundSymbols.map(Format.json).joined(separator: ", ") + "]"),
                ("bindings", bindingsJSON(bindings))]
        let rows = s.rows.indices.filter { s.rows[$0].depth <= depth }
        top.append(("layers", lines(rows.map { layerJSON(s, $0, graph: graph, training: training) }, indent: "  ")))
        if let graph {
            top.append(("tensors", lines(tensorsJSON(graph, dtype: training?.options.dtype), indent: "  ")))
            if let training { top.append(("training", trainingJSON(training, graph))) }
        }
        return "{\n" + top.map { "  \(Format.json($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n}\n"
    }

    static func layerJSON(_ s: Summary, _ i: Int, graph: Graph?, training: TrainingMemory?) -> String {
        let r = s.rows[i]
        var pairs: [(String, String)] = [("name", Format.json(r.name)), ("type", Format.json(r.type)), ("depth", String(r.depth)),
                                         ("output_shape", shapeJSON(r.outputShape)), ("params", String(r.params)), ("macs", opt(r.macs))]
        if let graph, i < graph.modules.count {
            let (loc, prelude) = specLocation(graph, graph.modules[i])
            let (line, column) = loc.file.lineAndColumn(of: loc.start)
            pairs += [("source", Format.json(loc.description)), ("line", String(line)), ("column", String(column))]
            if prelude { pairs.append(("from_prelude", "true")) }
        }
        if let t = training, i < t.layers.count {
            pairs.append(("training", figuresJSON(t.layers[i], total: nil)))
        }
        return object(pairs)
    }

    /// Where the spec writes a layer: its own line, or for a layer of a prelude block (`encoder`'s
    /// `attn`) the line that uses the block.
    static func specLocation(_ g: Graph, _ m: Graph.Module) -> (SourceLoc, Bool) {
        guard m.loc.file === Prelude.file else { return (m.loc, false) }
        let outer = g.modules.filter { $0.path.count < m.path.count && Array(m.path.prefix($0.path.count)) == $0.path && !($0.loc.file === Prelude.file) }
        return (outer.max { $0.path.count < $1.path.count }?.loc ?? m.loc, true)
    }

    static func figuresJSON(_ f: TrainingMemory.Figures, total: Int?) -> String {
        var pairs = [("weights_bytes", String(f.weights)), ("buffer_bytes", String(f.buffers)), ("gradient_bytes", String(f.gradients)),
                     ("optimizer_bytes", String(f.optimizer)), ("saved_bytes", String(f.saved))]
        if let total { pairs.append(("total_bytes", String(total))) }
        return object(pairs)
    }

    /// Every state_dict tensor in PyTorch's order: name, shape, dtype, parameter or buffer, the
    /// names that share it (tied weights), the layer that owns it.
    static func tensorsJSON(_ g: Graph, dtype: TrainingOptions.DType?) -> [String] {
        var tied: [Int: [String]] = [:]
        for n in g.nodes {
            for id in n.params where !n.ownParams.contains(id) {
                let local = g.params[id].name.split(separator: ".").last.map(String.init) ?? "weight"
                tied[id, default: []].append((n.path + [local]).joined(separator: "."))
            }
        }
        return g.stateDictOrder().map { i in
            let p = g.params[i]
            return object([("name", Format.json(p.name)), ("shape", ints(p.shape)),
                           ("dtype", Format.json(p.isInteger ? "int64" : (dtype ?? .f32).rawValue)),
                           ("kind", Format.json(p.isBuffer ? "buffer" : "parameter")), ("trainable", p.isBuffer ? "false" : "true"),
                           ("tied", "[" + (tied[i] ?? []).map(Format.json).joined(separator: ", ") + "]"),
                           ("layer", Format.json(g.nodes[p.node].path.joined(separator: ".")))])
        }
    }

    static func trainingJSON(_ t: TrainingMemory, _ g: Graph) -> String {
        let o = t.options
        let saved = t.saved.map { s in
            object([("layer", Format.json(g.nodes[s.node].path.joined(separator: "."))), ("op", Format.json(g.nodes[s.node].op.rawValue)),
                    ("what", Format.json(s.tensor.what)), ("shape", ints(s.tensor.shape)),
                    ("dtype", Format.json(s.tensor.element == .activation ? o.dtype.rawValue : s.tensor.element.rawValue)), ("bytes", String(s.bytes))])
        }
        let pairs: [(String, String)] = [
            ("dtype", Format.json(o.dtype.rawValue)), ("optimizer", Format.json(o.optimizer.rawValue)),
            ("optimizer_states", "[" + o.optimizer.stateNames.map(Format.json).joined(separator: ", ") + "]"),
            ("optimizer_step_tensors", String(o.optimizer == .adamw ? t.parameterTensors : 0)),
            ("totals", figuresJSON(t.total, total: try? t.total.total())),
            ("counts", Format.json(savedCounts)), ("not_counted", Format.json(notCounted)), ("autocast", Format.json(autocast)),
            ("saved", lines(saved, indent: "    ")),
        ]
        return "{\n" + pairs.map { "    \(Format.json($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n  }"
    }

    static let savedCounts = "saved_bytes: the tensors PyTorch's eager autograd keeps in training mode from the forward pass "
        + "for the backward pass, each storage once, at the first layer keeping it (a view keeps its base's storage)"
    static let notCounted = "the loss's saved tensors, activation gradients and other backward temporaries, cuDNN/cuBLAS "
        + "workspaces, the caching allocator's slack, the CUDA context, AdamW's step counts (4 bytes per parameter tensor, on the host)"

    static let autocast = "under torch.autocast weights, gradients and optimizer state stay f32 (as dtype f32) while most "
        + "saved activations are bf16/f16 (near dtype bf16's saved_bytes), plus the weights' casts"

    /// `params --names --json`: the tensors alone.
    public static func namesJSON(_ g: Graph) -> String {
        "{\n  \"schema_version\": \(schemaVersion),\n  \"model\": \(Format.json(g.modelName)),\n  \"tensors\": \(lines(tensorsJSON(g, dtype: nil), indent: "  "))\n}\n"
    }

    /// A sweep as JSON: its lists, then each row's sizes and figures (or error).
    static func sweepJSON(_ rows: [Driver.SweepRow], sweep: [String], file: String, training: TrainingOptions?) -> String {
        let items = rows.map { r -> String in
            var pairs: [(String, String)] = [("label", Format.json(r.label)), ("bindings", bindingsJSON(r.bindings))]
            if let s = r.summary {
                pairs += [("params", String(s.params)), ("macs", opt(s.macs)), ("flops", opt(s.macs.map { $0 &* 2 })),
                          ("activation_bytes", opt(s.activationBytes))]
            }
            if let t = r.training { pairs.append(("training", figuresJSON(t.total, total: try? t.total.total()))) }
            pairs.append(("error", r.error.map(Format.json) ?? "null"))
            return object(pairs)
        }
        var top: [(String, String)] = [("schema_version", String(schemaVersion)), ("model", Format.json(rows.first { $0.summary != nil }?.summary?.model ?? "")),
                                       ("file", Format.json(file)), ("sweep", "[" + sweep.map(Format.json).joined(separator: ", ") + "]")]
        if let training { top.append(("training_options", object([("dtype", Format.json(training.dtype.rawValue)), ("optimizer", Format.json(training.optimizer.rawValue))]))) }
        top.append(("rows", lines(items, indent: "  ")))
        return "{\n" + top.map { "  \(Format.json($0.0)): \($0.1)" }.joined(separator: ",\n") + "\n}\n"
    }
}

import ArchSemantics

/// `archc params --train`: the layer table with the memory to train each layer, the totals, and
/// what the figures count; and the sweep's table, one row per size.
extension ParamsReport {
    /// Columns side by side under a header row and a rule; returns the lines and their width.
    static func grid(_ cols: [[String]], right: [Bool]) -> (text: String, width: Int) {
        let widths = cols.map { $0.map(\.count).max() ?? 0 }
        let width = widths.reduce(0, +) + 2 * (widths.count - 1)
        var out = ""
        for i in 0..<(cols.first?.count ?? 0) {
            out += cols.indices.map { Format.pad(cols[$0][i], widths[$0], right: right[$0]) }.joined(separator: "  ").replacingTrailingSpaces() + "\n"
            if i == 0 { out += String(repeating: "-", count: width) + "\n" }
        }
        return (out, width)
    }

    /// `f32 as model.to(torch.float32), AdamW, batch=2 seq=128`
    static func setting(_ t: TrainingOptions, _ bindings: [String: Int]) -> String {
        "\(t.dtype.rawValue) as model.to(\(t.dtype.torchName)), \(t.optimizer.title)" + (bindings.isEmpty ? "" : ", \(sizes(bindings))")
    }

    /// `batch=2 seq=128`: batch first, then the other sizes by name.
    static func sizes(_ bindings: [String: Int]) -> String {
        bindings.keys.sorted { ($0 == "batch" ? 0 : 1, $0) < ($1 == "batch" ? 0 : 1, $1) }.map { "\($0)=\(bindings[$0]!)" }.joined(separator: " ")
    }

    public static func trainingTable(_ s: Summary, _ t: TrainingMemory, depth: Int, bindings: [String: Int]) throws -> String {
        let rows = s.rows.indices.filter { s.rows[$0].depth <= depth }
        func bytes(_ f: (TrainingMemory.Figures) -> Int) -> [String] { rows.map { f(t.layers[$0]) == 0 ? "--" : Format.compactBytes(f(t.layers[$0])) } }
        var cols = [["Layer (type)"] + rows.map { String(repeating: "  ", count: s.rows[$0].depth - 1) + "\(s.rows[$0].name.split(separator: ".").last ?? "") (\(s.rows[$0].type))" },
                    ["Output shape"] + rows.map { Format.shape(s.rows[$0].outputShape) },
                    ["Params"] + rows.map { s.rows[$0].params == 0 ? "--" : Format.grouped(s.rows[$0].params) },
                    ["Weights"] + bytes(\.weights), ["Gradients"] + bytes(\.gradients)]
        if t.options.optimizer.statesPerParameter > 0 { cols.append(["Optimizer"] + bytes(\.optimizer)) }
        cols.append(["Saved for backward"] + bytes(\.saved))
        let table = grid(cols, right: [false, false] + Array(repeating: true, count: cols.count - 2))
        let rule = String(repeating: "=", count: table.width) + "\n"
        var out = "\(s.model): memory to train (\(setting(t.options, bindings)))\n" + rule + table.text + rule
        out += totals(s, rule: rule) + rule
        out += try trainingTotals(t, params: s.params) + rule
        out += trainingNotes(t.options)
        return out
    }

    /// The five figures and their sum, each with what it is.
    static func trainingTotals(_ t: TrainingMemory, params: Int) throws -> String {
        let f = t.total, dtype = t.options.dtype
        var lines: [(String, Int, String)] = [
            ("Weights", f.weights, "\(Format.grouped(params)) parameters x \(dtype.bytes) bytes (\(dtype.rawValue))")]
        if f.buffers > 0 { lines.append(("Buffers", f.buffers, "not trained: BatchNorm's running statistics, index tables")) }
        lines.append(("Gradients", f.gradients, "param.grad, one per parameter, \(dtype.rawValue)"))
        let states = t.options.optimizer.stateNames
        lines.append(("Optimizer state", f.optimizer, states.isEmpty ? "\(t.options.optimizer.title) keeps none"
                        : "\(t.options.optimizer.title)'s \(states.joined(separator: " and ")) per parameter, \(dtype.rawValue)"))
        lines.append(("Saved for backward", f.saved, "activations autograd keeps from forward to backward"))
        lines.append(("Total", try f.total(), "the sum"))
        let cells = lines.map { ($0.0, Format.compactBytes($0.1), $0.2) }
        let w0 = cells.map(\.0.count).max()!, w1 = cells.map(\.1.count).max()!
        return "Training memory:\n" + cells.map { "  " + Format.pad($0.0, w0) + "  " + Format.pad($0.1, w1, right: true) + "  " + $0.2 + "\n" }.joined()
    }

    /// What the training figures count and leave out.
    static func trainingNotes(_ o: TrainingOptions) -> String {
        let steps = o.optimizer == .adamw ? ", AdamW's step counts (4 bytes per parameter tensor, on the host)" : ""
        let notes = [
            "Saved for backward: the tensors PyTorch's eager autograd keeps in training mode from the forward pass until the "
                + "backward pass has used them, each storage once, at the first layer that keeps it (a ReLU's output that the next "
                + "conv keeps too counts at the ReLU); the input batch where a layer keeps it; norm statistics in f32, pooling "
                + "indices in int64, dropout masks as bool (the fused kernel's); attention as F.scaled_dot_product_attention's "
                + "flash kernel: q, k, v, output and an f32 logsumexp per query and head, never the n x n scores.",
            "Not counted: the loss (cross-entropy keeps a log-softmax of the logits), activation gradients and other temporaries "
                + "of the backward pass, cuDNN and cuBLAS workspaces, the caching allocator's slack, the CUDA context (hundreds of "
                + "MB per GPU)\(steps). The total adds the figures: with zero_grad(set_to_none=True), PyTorch's default, gradients "
                + "appear while the saved activations are freed, so the real peak can be lower.",
            "Autocast (mixed precision) instead keeps weights, gradients and optimizer state in f32 (as --dtype f32) and saves "
                + "most activations in bf16/f16 (near --dtype bf16's figure), plus the weights' casts.",
        ]
        return notes.map { wrap($0, width: 100) }.joined()
    }

    /// Words wrapped at `width`, lines after the first indented by two spaces.
    static func wrap(_ text: String, width: Int) -> String {
        var out = "", line = ""
        for word in text.split(separator: " ") {
            if !line.isEmpty && line.count + 1 + word.count > width {
                out += line + "\n"
                line = "  "
            }
            line += (line.isEmpty || line == "  " ? "" : " ") + word
        }
        return out + line + "\n"
    }

    /// One row per size of the sweep: parameters, MACs, the planned arena and, with --train, the memory to train.
    static func sweepTable(_ rows: [Driver.SweepRow], sweep: [String], bindings: [String: Int], training: TrainingOptions?) -> String {
        let fixed = bindings.filter { !sweep.contains($0.key) }
        var cols: [[String]] = [["Sizes"], ["Params"], ["MACs"], ["Activation memory"]]
        if training != nil { cols += [["Saved for backward"], ["Training memory"]] }
        for r in rows {
            let total: Int? = try? r.training?.total.total()
            let s = r.summary
            let cells = [r.label, s.map { Format.grouped($0.params) } ?? "", s.map { $0.macs.map(Format.grouped) ?? "?" } ?? "",
                         s.map { $0.activationBytes.map(Format.compactBytes) ?? "?" } ?? "",
                         r.training.map { Format.compactBytes($0.total.saved) } ?? "", total.map(Format.compactBytes) ?? ""]
            for i in cols.indices { cols[i].append(cells[i]) }
        }
        let table = grid(cols, right: [false] + Array(repeating: true, count: cols.count - 1))
        // A row with an error prints its message across the columns.
        var lines = table.text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for (i, r) in rows.enumerated() where r.summary == nil || r.error != nil {
            lines[i + 2] = Format.pad(r.label, cols[0].map(\.count).max() ?? 0) + "  error: " + (r.error ?? "")
        }
        let rule = String(repeating: "=", count: max(table.width, lines.map(\.count).max() ?? 0)) + "\n"
        let title = training.map { setting($0, fixed) } ?? sizes(fixed)
        var out = "\(rows.first?.summary?.model ?? "sweep"): one row per size\(title.isEmpty ? "" : " (\(title))")\n" + rule
        out += lines.joined(separator: "\n") + rule
        let threads = rows.compactMap { $0.summary?.planThreads }.first ?? 1
        out += "Activation memory: the planned arena archc run allocates (fp32, inference, \(threads) thread\(threads == 1 ? "" : "s")).\n"
        if training != nil { out += "Training memory: weights, gradients, optimizer state and saved activations (params --train shows each, per layer).\n" }
        return out
    }
}

extension Format {
    /// Decimal units, as `bytes`, down to single bytes and up to petabytes: 512 B, 4.10 KB, 46.76 MB, 1.20 GB.
    static func compactBytes(_ n: Int) -> String {
        let x = Double(n)
        if n < 1000 { return "\(n) B" }
        if x < 1e6 { return fixed(x / 1e3, 2) + " KB" }
        if x >= 1e15 { return fixed(x / 1e15, 2) + " PB" }
        if x >= 1e12 { return fixed(x / 1e12, 2) + " TB" }
        return bytes(n)
    }
}

import ArchSemantics

/// Multi-head attention's saved tensors, as F.scaled_dot_product_attention's flash kernel keeps them.
extension SavedForBackward {
    /// The projections' inputs; each projection's output (one tensor per group of the layout: qkv, or
    /// q and kv, ...) while the kernel or a q/k norm keeps a view of it (v always; q and k unless
    /// rotated or normalised into new tensors); the norms' statistics and outputs; the rotated q and
    /// k with the rotary cos and sin (one pair for the whole network, as transformers computes them);
    /// the output (which the output projection keeps too) and an f32 logsumexp per (batch, head,
    /// query); never the n x n scores. With a key padding mask the memory-efficient kernel runs
    /// instead (flash takes no mask): it keeps the mask too, and pads the logsumexp to 32 queries.
    mutating func attention(low: Bool) throws {
        let o = AttentionOperands(node)
        let (qs, ks) = (try shape(o.queries), try shape(o.keys))
        let (b, n, m) = (qs[0], qs[1], ks[1])
        let heads = int("heads") ?? 1, kvHeads = int("kvheads") ?? heads
        let di = int("dim") ?? qs[2], dh = di / max(1, heads), kv = kvHeads * dh
        let layout = (try? AttentionProjections(layout: word("qkv") ?? "packed", names: arg("names")?.words, cross: o.cross))?.groups.map(\.parts)
            ?? [[.q, .k, .v]]
        // Each projection reading a permuted tensor makes its own contiguous copy.
        if o.cross == nil {
            try saveLinearInput(0, readers: layout.count)
        } else {
            try saveLinearInput(node.inputs.firstIndex(of: o.queries) ?? 0, "queries", readers: layout.filter { $0.contains(.q) }.count)
            try saveLinearInput(node.inputs.firstIndex(of: o.keys) ?? 0, "keys and values", readers: layout.filter { !$0.contains(.q) }.count)
        }
        let norm = word("qknorm") ?? "off", rope = (word("rope") ?? "off") != "off"
        // A view of q or k stays referenced when the kernel reads it as projected, or a norm keeps its input.
        let viewed = !rope && norm == "off" || norm == "layer" || norm == "rms" && !low
        for group in layout where group.contains(.v) || viewed {
            let width = group.reduce(0) { $0 + ($1 == .q ? di : kv) }
            own(group.map(\.rawValue).joined(), [b, group.contains(.q) ? n : m, width])
        }
        for (prefix, t) in [("q_norm.", [b, heads, n, dh]), ("k_norm.", [b, kvHeads, m, dh])] where norm != "off" {
            if norm == "layer" { rowStatistics(t, prefix) } else { rmsNorm(input: nil, shape: t, low: low, prefix) }
            if !rope { own(prefix + "output", t) }
        }
        if rope {
            let key = "rope \(m) \(dh) \(arg("rope_base").map(\.description) ?? "10000")"
            shared(key + " cos", "rotary cos", [1, m, dh]); shared(key + " sin", "rotary sin", [1, m, dh])
            own("q (rotated)", [b, heads, n, dh]); own("k (rotated)", [b, kvHeads, m, dh])
        }
        own("output", [b, n, di])
        if o.mask != nil {
            own("mask", [b, 1, 1, m], .bool)
            own("logsumexp", [b, heads, (n + 31) / 32 * 32], .f32)
        } else {
            own("logsumexp", [b, heads, n], .f32)
        }
    }
}

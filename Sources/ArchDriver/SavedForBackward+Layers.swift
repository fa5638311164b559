import ArchSemantics

/// The composite ops' saved tensors: each as the PyTorch module it stands for runs it, part by part.
extension SavedForBackward {
    /// timm's Mlp: fc1 keeps x; GELU and SiLU keep fc1's output, ReLU its own; fc2 keeps the activation.
    mutating func mlp() throws {
        let hidden = Array(try shape(x).dropLast()) + [int("hidden") ?? 0]
        try saveLinearInput(0)
        if word("act") != "relu" { own("fc1 output", hidden) }
        own("activation", hidden)
    }

    /// w2(silu(w1 x) * w3 x): x (w1 and w3), w1 x (silu), silu's output and w3 x (the product), the product (w2).
    mutating func swiglu() throws {
        let h = Array(try shape(x).dropLast()) + [int("hidden") ?? 0]
        try saveLinearInput(0, readers: 2)
        own("w1 output", h); own("silu output", h); own("w3 output", h); own("gated", h)
    }

    /// As transformers' Mixtral sparse block routes tokens: the router keeps x, its f32 softmax, the
    /// top-k indices (int64), values and their sum (f32); each routed token (tokens x top in all)
    /// keeps its gathered input, the expert's tensors, the expert output, its f32 weight and the
    /// weighted output (cast back to the dtype), and two int64 positions.
    mutating func moe() throws {
        let s = try shape(x), d = s.last!, tokens = try checkedProduct(Array(s.dropLast()), "saved tensor size")
        let experts = int("experts") ?? 1, top = int("top") ?? 2, h = int("hidden") ?? 0
        let routed = try checkedMul(tokens, top, "saved tensor size")
        try saveLinearInput(0)
        own("router probabilities", [tokens, experts], .f32)
        own("top-k indices", [tokens, top], .int64)
        own("top-k weights", [tokens, top], .f32)
        own("top-k weight sums", [tokens, 1], .f32)
        own("expert positions", [routed, 2], .int64)
        own("expert inputs", [routed, d])
        if word("expert") == "mlp" {
            own("experts' fc1 output", [routed, h]); own("experts' activation", [routed, h])
        } else {
            own("experts' w1|w3 output", [routed, 2 * h]); own("experts' silu output", [routed, h]); own("experts' gated", [routed, h])
        }
        own("expert outputs", [routed, d])
        own("routing weights", [routed, 1], .f32)
        own("weighted outputs", [routed, d])
    }

    /// Swin's window attention as torchvision computes it (explicit softmax, no fused kernel): the
    /// partitioned windows (the qkv projection's input), the scaled q, k and v as the batched
    /// matmuls copy them, the softmax probabilities per window and head, and the heads merged for
    /// the output projection.
    mutating func windowAttention() throws {
        let s = try shape(x), ws = int("window") ?? 1, heads = int("heads") ?? 1, c = s[3]
        let ph = (s[1] + ws - 1) / ws * ws, pw = (s[2] + ws - 1) / ws * ws
        let windows = try checkedMul(s[0], (ph / ws) * (pw / ws), "saved tensor size"), t = ws * ws
        let perHead = [try checkedMul(windows, heads, "saved tensor size"), t, c / max(1, heads)]
        own("windows", [windows, t, c])
        own("q (scaled)", perHead)
        // The matmuls fold (windows, heads) into one batch dimension: a copy of k and v, except
        // with a single window, where k and v stay views of the qkv projection.
        if windows == 1 { own("qkv", [1, t, 3 * c]) } else { own("k", perHead); own("v", perHead) }
        own("probabilities", [windows, heads, t, t])
        own("output", [windows, t, c])
    }

    /// gMLP's gating unit (timm): x (the norm reads v and the gate u, both halves of x), the norm's
    /// statistics, the normalised v transposed and copied for the token projection, and the
    /// projection's output (the gate's other operand). aMLP's tiny attention adds its own tensors and
    /// the sum that then meets u.
    mutating func spatialGating() throws {
        let s = try shape(x), (b, n, e) = (s[0], s[1], s[2] / 2)
        save(x, "input")
        rowStatistics([b, n, e], "norm.")
        own("normalised (transposed copy)", [b, e, n])
        guard let da = int("attn") else {
            own("projection output", [b, e, n])
            return
        }
        if node.inputs.count > 1 { try saveLinearInput(1, "attn.input") }
        own("attn.qkv", [b, n, 3 * da]); own("attn.output", [b, n, da]); own("attn.logsumexp", [b, 1, n], .f32)
        own("gate (projection + attention)", [b, n, e])
    }

    /// nn.RNN, nn.LSTM, nn.GRU as PyTorch's own cells run them step by step (the path without cuDNN or
    /// oneDNN, which keep a workspace of their own instead): the layer's input (reversed too in the
    /// first bidirectional layer), per step the gates and states each cell keeps, the zero initial states.
    mutating func recurrent() throws {
        let s = try shape(x), (b, t) = (s[0], s[1]), h = int("hidden") ?? 1
        let layers = int("layers") ?? 1, directions = flag("bidirectional") ? 2 : 1
        for l in 0..<layers {
            if l == 0 {
                save(x, "input")
                if directions == 2 { own("input reversed", [t, b, s[2]]) }
            } else {
                own("layer \(l) input", [t, b, directions * h])
            }
            for d in 0..<directions {
                let p = "l\(l)\(d == 1 ? "_reverse" : "") ", steps = [t, b, h], earlier = [t - 1, b, h]
                switch node.op {
                case .lstm:
                    own(p + "gates", [t, b, 4 * h]); own(p + "tanh(cell)", steps)
                    own(p + "cell states", earlier); own(p + "hidden states", earlier)
                case .gru:
                    own(p + "hidden gates", [t, b, 3 * h]); own(p + "candidate input", steps); own(p + "candidate", steps)
                    own(p + "state difference", steps); own(p + "hidden states", earlier)
                default:
                    own(p + "hidden states", steps)
                }
            }
        }
        own("initial hidden state", [layers * directions, b, h])
        if node.op == .lstm { own("initial cell state", [layers * directions, b, h]) }
    }
}

/// The Python an emitted module may need besides torch: each helper once, written only when the
/// network uses it (with the helpers it calls). Their submodules and parameters carry the names
/// `archc params --names` lists, and each draws its tensors as `archc init` does (`InitRule`).
enum TorchHelper: String, CaseIterable, Comparable {
    case put, adopt, positions, sinusoid, act, conv1d, mlp, swiglu, moe, attention, sgu, patchMerge

    static func < (a: TorchHelper, b: TorchHelper) -> Bool { allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)! }

    var dependencies: [TorchHelper] {
        switch self {
        case .put, .adopt, .positions, .sinusoid, .act, .conv1d, .patchMerge: return []
        case .mlp: return [.act]
        case .swiglu: return [.put]
        case .moe: return [.swiglu, .mlp]
        case .attention: return [.put]
        case .sgu: return [.attention]
        }
    }

    /// The helpers `used` needs, each once, in a fixed order.
    static func closure(_ used: Set<TorchHelper>) -> [TorchHelper] {
        var all = used, todo = Array(used)
        while let h = todo.popLast() {
            for d in h.dependencies where all.insert(d).inserted { todo.append(d) }
        }
        return all.sorted()
    }

    var source: String {
        switch self {
        case .put: return #"""
            def _put(root, path, module):
                """Adds `module` under a dotted path of `root` (BERT's `self.query`), with plain modules on the way."""
                *parents, name = path.split(".")
                for p in parents:
                    if p not in root._modules:
                        root._modules[p] = nn.Module()
                    root = root._modules[p]
                root._modules[name] = module
            """#
        case .adopt: return #"""
            def _adopt(module, group):
                """`module` with the layers labelled under its name before it (PVT's attn.sr before attn) first."""
                mine = dict(module._modules)
                module._modules.clear()
                module._modules.update(group._modules)
                module._modules.update(mine)
                return module
            """#
        case .positions: return #"""
            def _positions(table, n, name):
                """The first n rows of a position table, or an error naming its length."""
                if n > table.shape[-2]:
                    raise ValueError(f"{name} holds {table.shape[-2]} positions; the sequence has {n}")
                return table[..., :n, :]
            """#
        case .sinusoid: return #"""
            def _sinusoid(n, d, device):
                """The Transformer's fixed sinusoidal positions, [n, d]."""
                pos = torch.arange(n, device=device, dtype=torch.float32)[:, None]
                angle = pos / torch.pow(10000.0, torch.arange(0, d, 2, device=device, dtype=torch.float32) / d)
                pe = torch.zeros(n, d, device=device)
                pe[:, 0::2] = torch.sin(angle)
                pe[:, 1::2] = torch.cos(angle[:, : d // 2])
                return pe
            """#
        case .act: return #"""
            def _act(x, name):
                if name == "gelu_tanh":
                    return F.gelu(x, approximate="tanh")
                return {"gelu": F.gelu, "relu": F.relu, "silu": F.silu}[name](x)
            """#
        case .conv1d: return TorchHelperSources.conv1d
        case .mlp: return TorchHelperSources.mlp
        case .swiglu: return TorchHelperSources.swiglu
        case .moe: return TorchHelperSources.moe
        case .attention: return TorchHelperSources.attention + TorchHelperSources.attentionForward
        case .sgu: return TorchHelperSources.sgu
        case .patchMerge: return TorchHelperSources.patchMerge
        }
    }
}

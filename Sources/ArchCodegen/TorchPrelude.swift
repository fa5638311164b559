/// Python classes the emitted PyTorch modules use for archc's composite ops; their submodules and
/// parameters carry the names `archc params --names` lists, so state_dicts move both ways.
enum TorchPrelude {
    static let source = #"""
import math
import torch
import torch.nn as nn
import torch.nn.functional as F


class Group(nn.Module):
    """A named level of the layer tree (a block, a seq)."""


def _put(root, path, module):
    """Adds `module` under a dotted path of `root` (BERT's `self.query`), with Groups on the way."""
    *parents, name = path.split(".")
    for p in parents:
        if p not in root._modules:
            root.add_module(p, Group())
        root = root._modules[p]
    root.add_module(name, module)


def _act(x, name):
    if name == "gelu_tanh":
        return F.gelu(x, approximate="tanh")
    return {"gelu": F.gelu, "relu": F.relu, "silu": F.silu}[name](x)


class Mlp(nn.Module):
    def __init__(self, d, hidden, out, act, bias):
        super().__init__()
        self.fc1, self.fc2, self.act = nn.Linear(d, hidden, bias=bias), nn.Linear(hidden, out, bias=bias), act

    def forward(self, x):
        return self.fc2(_act(self.fc1(x), self.act))


class SwiGLU(nn.Module):
    """down(silu(gate x) * up x): Mixtral's w1, w3, w2 (declared w1, w2, w3), or as named (declared gate, up, down)."""

    def __init__(self, d, hidden, out, bias=False, names=("w1", "w3", "w2"), named=False):
        super().__init__()
        self._names = names
        gate, up, down = names
        layers = {gate: nn.Linear(d, hidden, bias=bias), up: nn.Linear(d, hidden, bias=bias), down: nn.Linear(hidden, out, bias=bias)}
        for n in (names if named else (gate, down, up)):
            _put(self, n, layers[n])

    def forward(self, x):
        gate, up, down = (self.get_submodule(n) for n in self._names)
        return down(F.silu(gate(x)) * up(x))


class MoE(nn.Module):
    """Mixtral's sparse block: softmax router, top-k experts renormalised."""

    def __init__(self, d, experts, top, hidden, kind):
        super().__init__()
        self.top = top
        self.gate = nn.Linear(d, experts, bias=False)
        self.experts = nn.ModuleList([SwiGLU(d, hidden, d) if kind == "swiglu" else Mlp(d, hidden, d, "gelu", True) for _ in range(experts)])

    def forward(self, x):
        p = torch.softmax(self.gate(x), dim=-1)
        w, idx = torch.topk(p, self.top, dim=-1)
        w = w / w.sum(-1, keepdim=True)
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            weight = (w * (idx == e)).sum(-1, keepdim=True)
            if bool((weight != 0).any()):
                out = out + weight * expert(x)
        return out


class Attention(nn.Module):
    """Multi-head attention with archc's layouts, each projection under its name: `groups` lists them with
    the q, k, v rows each holds (packed: qkv + proj, timm; fused: in_proj_weight + out_proj,
    nn.MultiheadAttention; separate: q_proj, k_proj, v_proj, out_proj; q_kv: q, kv, proj, PVT; qk_v: qk,
    v, proj, TNT; or as named); grouped-query heads, q/k norms, rotary positions (rotate_half or
    interleaved pairs), causal and key padding masks, Swin windows."""

    def __init__(self, d, heads, dim, out, bias, outbias, layout, qknorm, causal, window, shift, relpos, dkv,
                 kvheads=None, rope=None, rope_base=10000.0, groups=(("qkv", "qkv"),), out_name="proj"):
        super().__init__()
        self._heads, self._kvheads, self._dim, self._causal, self._window, self._shift = heads, kvheads or heads, dim, causal, window, shift
        self._fused, self._rope, self._rope_base, self._groups, self._out = layout == "fused", rope, rope_base, groups, out_name
        self._widths = {"q": dim, "k": self._kvheads * (dim // heads), "v": self._kvheads * (dim // heads)}
        if relpos:
            self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
            t = torch.arange(window)
            c = torch.flatten(torch.stack(torch.meshgrid(t, t, indexing="ij")), 1)
            r = (c[:, :, None] - c[:, None, :]).permute(1, 2, 0)
            self.register_buffer("relative_position_index", ((r[:, :, 0] + window - 1) * (2 * window - 1) + r[:, :, 1] + window - 1).flatten())
        for name, parts in groups:
            rows, src = sum(self._widths[p] for p in parts), d if parts[0] == "q" else dkv
            if self._fused:
                self.register_parameter(name + "_weight", nn.Parameter(torch.zeros(rows, src)))
                self.register_parameter(name + "_bias", nn.Parameter(torch.zeros(rows)) if bias else None)
            else:
                _put(self, name, nn.Linear(src, rows, bias=bias))
        if qknorm != "off":
            norm = (lambda n: nn.LayerNorm(n, bias=bias)) if qknorm == "layer" else nn.RMSNorm
            self.q_norm, self.k_norm = norm(dim // heads), norm(dim // heads)
        _put(self, out_name, nn.Linear(dim, out, bias=outbias))

    def project(self, x, memory):
        """q from x, k and v from memory (or x): each projection's rows applied to their tensor."""
        src = x if memory is None else memory
        q, kv = [], []
        for name, parts in self._groups:
            if self._fused:
                w, b = getattr(self, name + "_weight"), getattr(self, name + "_bias")
            else:
                w, b = self.get_submodule(name).weight, self.get_submodule(name).bias
            at = 0
            for p in parts:
                rows = slice(at, at + self._widths[p])
                (q if p == "q" else kv).append(F.linear(x if p == "q" else src, w[rows], None if b is None else b[rows]))
                at += self._widths[p]
        k, v = torch.cat(kv, -1).split([self._widths["k"], self._widths["v"]], -1)
        return torch.cat(q, -1), k, v

    def rotate(self, t, start):
        """Rotary positions start, start + 1, ... on t [..., n, dh], as transformers computes the angles."""
        n, dh = t.shape[-2:]
        inv = 1.0 / (self._rope_base ** (torch.arange(0, dh, 2, dtype=torch.float, device=t.device) / dh))
        angle = torch.arange(start, start + n, dtype=torch.float, device=t.device)[:, None] * inv
        cos, sin = angle.cos().to(t.dtype), angle.sin().to(t.dtype)
        if self._rope == "half":
            a, b = t[..., : dh // 2], t[..., dh // 2:]
            return torch.cat([a * cos - b * sin, b * cos + a * sin], -1)
        a, b = t[..., 0::2], t[..., 1::2]
        return torch.stack([a * cos - b * sin, b * cos + a * sin], -1).flatten(-2)

    def attend(self, q, k, v, bias=None, causal=False, mask=None):
        split = lambda t: t.unflatten(-1, (-1, self._dim // self._heads)).transpose(-3, -2)
        q, k, v = split(q), split(k), split(v)
        if hasattr(self, "q_norm"):
            q, k = self.q_norm(q), self.k_norm(k)
        n, m = q.shape[-2], k.shape[-2]
        if self._rope:
            q, k = self.rotate(q, m - n), self.rotate(k, 0)
        if self._kvheads != self._heads:
            k, v = (t.repeat_interleave(self._heads // self._kvheads, -3) for t in (k, v))
        s = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)
        if bias is not None:
            s = s + bias
        if causal:
            s = s.masked_fill(torch.ones(n, m, dtype=torch.bool, device=s.device).triu(m - n + 1), float("-inf"))
        if mask is not None:
            s = s.masked_fill(mask[:, None, None, :] == 0, float("-inf"))
        # A row with every key masked is zeros (as archc, and transformers' SDPA attention, give it).
        return (s.softmax(-1).nan_to_num(0.0) @ v).transpose(-3, -2).flatten(-2)

    def out(self, x):
        return self.get_submodule(self._out)(x)

    def forward(self, x, memory=None, mask=None):
        if self._window is None:
            q, k, v = self.project(x, memory)
            return self.out(self.attend(q, k, v, causal=self._causal, mask=mask))
        B, H, W, C = x.shape
        ws = self._window
        ph, pw = (ws - H % ws) % ws, (ws - W % ws) % ws
        x = F.pad(x, (0, 0, 0, pw, 0, ph))
        _, PH, PW, _ = x.shape
        sy = 0 if ws >= PH else self._shift
        sx = 0 if ws >= PW else self._shift
        if sy or sx:
            x = torch.roll(x, shifts=(-sy, -sx), dims=(1, 2))
        x = x.view(B, PH // ws, ws, PW // ws, ws, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, ws * ws, C)
        bias = None
        if hasattr(self, "relative_position_bias_table"):
            n = ws * ws
            bias = self.relative_position_bias_table[self.relative_position_index].view(n, n, -1).permute(2, 0, 1)
        if sy or sx:
            mask = x.new_zeros(PH, PW)
            count = 0
            for h in ((0, -ws), (-ws, -sy), (-sy, None)):
                for w in ((0, -ws), (-ws, -sx), (-sx, None)):
                    mask[h[0]:h[1], w[0]:w[1]] = count
                    count += 1
            mask = mask.view(PH // ws, ws, PW // ws, ws).permute(0, 2, 1, 3).reshape(-1, ws * ws)
            mask = (mask.unsqueeze(1) - mask.unsqueeze(2)).ne(0).float() * -100.0
            mask = mask.repeat(B, 1, 1).unsqueeze(1)
            bias = mask if bias is None else bias + mask
        q, k, v = self.project(x, None)
        x = self.out(self.attend(q, k, v, bias))
        x = x.view(B, PH // ws, PW // ws, ws, ws, C).permute(0, 1, 3, 2, 4, 5).reshape(B, PH, PW, C)
        if sy or sx:
            x = torch.roll(x, shifts=(sy, sx), dims=(1, 2))
        return x[:, :H, :W, :].contiguous()


class SGU(nn.Module):
    """gMLP's spatial gating unit; with attn, aMLP's tiny attention is added to the gate."""

    def __init__(self, d2, n, attn, dsrc, eps):
        super().__init__()
        self.norm, self.proj = nn.LayerNorm(d2 // 2, eps=eps), nn.Linear(n, n)
        if attn:
            self.attn = Attention(dsrc, 1, attn, d2 // 2, True, True, "packed", "off", False, None, 0, False, dsrc)

    def forward(self, x, src=None):
        u, v = x.chunk(2, dim=-1)
        v = self.proj(self.norm(v).transpose(-1, -2)).transpose(-1, -2)
        if hasattr(self, "attn"):
            v = v + self.attn(x if src is None else src)
        return u * v


class PatchMerge(nn.Module):
    def __init__(self, c, eps):
        super().__init__()
        self.reduction, self.norm = nn.Linear(4 * c, 2 * c, bias=False), nn.LayerNorm(4 * c, eps=eps)

    def forward(self, x):
        x = F.pad(x, (0, 0, 0, x.shape[2] % 2, 0, x.shape[1] % 2))
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2], x[:, 1::2, 1::2]], -1)
        return self.reduction(self.norm(x))


def sinusoid(n, d, device):
    pos = torch.arange(n, device=device, dtype=torch.float32)[:, None]
    i = torch.arange(0, d, 2, device=device, dtype=torch.float32)
    angle = pos / torch.pow(10000.0, i / d)
    pe = torch.zeros(n, d, device=device)
    pe[:, 0::2] = torch.sin(angle)
    pe[:, 1::2] = torch.cos(angle[:, : d // 2])
    return pe
"""#
}

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
    def __init__(self, d, hidden, out, bias=False):
        super().__init__()
        self.w1, self.w2, self.w3 = nn.Linear(d, hidden, bias=bias), nn.Linear(hidden, out, bias=bias), nn.Linear(d, hidden, bias=bias)

    def forward(self, x):
        return self.w2(F.silu(self.w1(x)) * self.w3(x))


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
    """Multi-head attention with archc's layouts: packed (qkv, proj), fused (in_proj_weight, out_proj),
    separate (q_proj, k_proj, v_proj, out_proj); optional q/k norms, causal mask, Swin windows."""

    def __init__(self, d, heads, dim, out, bias, outbias, layout, qknorm, causal, window, shift, relpos, dkv):
        super().__init__()
        self.heads, self.dim, self.layout, self.causal, self.window, self.shift = heads, dim, layout, causal, window, shift
        if relpos:
            self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
            t = torch.arange(window)
            c = torch.flatten(torch.stack(torch.meshgrid(t, t, indexing="ij")), 1)
            r = (c[:, :, None] - c[:, None, :]).permute(1, 2, 0)
            self.register_buffer("relative_position_index", ((r[:, :, 0] + window - 1) * (2 * window - 1) + r[:, :, 1] + window - 1).flatten())
        if layout == "fused":
            self.in_proj_weight = nn.Parameter(torch.empty(3 * dim, d))
            self.in_proj_bias = nn.Parameter(torch.zeros(3 * dim)) if bias else None
        elif layout == "separate":
            self.q_proj, self.k_proj, self.v_proj = nn.Linear(d, dim, bias=bias), nn.Linear(dkv, dim, bias=bias), nn.Linear(dkv, dim, bias=bias)
        else:
            self.qkv = nn.Linear(d, 3 * dim, bias=bias)
        if qknorm != "off":
            norm = (lambda n: nn.LayerNorm(n, bias=bias)) if qknorm == "layer" else nn.RMSNorm
            self.q_norm, self.k_norm = norm(dim // heads), norm(dim // heads)
        if layout == "packed":
            self.proj = nn.Linear(dim, out, bias=outbias)
        else:
            self.out_proj = nn.Linear(dim, out, bias=outbias)

    def project(self, x, memory):
        if self.layout == "separate":
            src = x if memory is None else memory
            return self.q_proj(x), self.k_proj(src), self.v_proj(src)
        w, b = (self.in_proj_weight, self.in_proj_bias) if self.layout == "fused" else (self.qkv.weight, self.qkv.bias)
        return F.linear(x, w, b).chunk(3, dim=-1)

    def attend(self, q, k, v, bias=None, causal=False):
        split = lambda t: t.unflatten(-1, (self.heads, -1)).transpose(-3, -2)
        q, k, v = split(q), split(k), split(v)
        if hasattr(self, "q_norm"):
            q, k = self.q_norm(q), self.k_norm(k)
        s = (q * q.shape[-1] ** -0.5) @ k.transpose(-2, -1)
        if bias is not None:
            s = s + bias
        if causal:
            n, m = s.shape[-2:]
            s = s.masked_fill(torch.ones(n, m, dtype=torch.bool, device=s.device).triu(1), float("-inf"))
        return (s.softmax(-1) @ v).transpose(-3, -2).flatten(-2)

    def out(self, x):
        return self.proj(x) if self.layout == "packed" else self.out_proj(x)

    def forward(self, x, memory=None):
        if self.window is None:
            q, k, v = self.project(x, memory)
            return self.out(self.attend(q, k, v, causal=self.causal))
        B, H, W, C = x.shape
        ws = self.window
        ph, pw = (ws - H % ws) % ws, (ws - W % ws) % ws
        x = F.pad(x, (0, 0, 0, pw, 0, ph))
        _, PH, PW, _ = x.shape
        sy = 0 if ws >= PH else self.shift
        sx = 0 if ws >= PW else self.shift
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

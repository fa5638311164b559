import math
import torch
import torch.nn as nn
import torch.nn.functional as F


def _put(root, path, module):
    """Adds `module` under a dotted path of `root` (BERT's `self.query`), with plain modules on the way."""
    *parents, name = path.split(".")
    for p in parents:
        if p not in root._modules:
            root._modules[p] = nn.Module()
        root = root._modules[p]
    root._modules[name] = module


def _positions(table, n, name):
    """The first n rows of a position table, or an error naming its length."""
    if n > table.shape[-2]:
        raise ValueError(f"{name} holds {table.shape[-2]} positions; the sequence has {n}")
    return table[..., :n, :]


def _act(x, name):
    if name == "gelu_tanh":
        return F.gelu(x, approximate="tanh")
    return {"gelu": F.gelu, "relu": F.relu, "silu": F.silu}[name](x)


class Conv1D(nn.Module):
    """A linear layer whose weight is stored [in, out], as transformers' Conv1D (GPT-2): x @ weight + bias."""

    def __init__(self, d, out, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(d, out))
        self.register_parameter("bias", nn.Parameter(torch.empty(out)) if bias else None)
        for t in (self.weight, self.bias) if bias else (self.weight,):  # as nn.Linear draws: fan_in d
            nn.init.uniform_(t, -1 / math.sqrt(d), 1 / math.sqrt(d))

    def forward(self, x):
        return F.linear(x, self.weight.t(), self.bias)


class Mlp(nn.Module):
    """fc2(act(fc1 x)), timm's Mlp; `names` renames fc1 and fc2 (GPT-2's c_fc, c_proj), conv1d=True stores
    their weights [in, out] (transformers' Conv1D)."""

    def __init__(self, d, hidden, out, act="gelu", bias=True, names=("fc1", "fc2"), conv1d=False):
        super().__init__()
        dense = Conv1D if conv1d else nn.Linear
        self._names, self._act = names, act
        for name, layer in zip(names, (dense(d, hidden, bias=bias), dense(hidden, out, bias=bias))):
            _put(self, name, layer) if "." in name else self.add_module(name, layer)

    def forward(self, x):
        fc1, fc2 = (self.get_submodule(n) for n in self._names)
        return fc2(_act(fc1(x), self._act))


class Attention(nn.Module):
    """Multi-head attention with its projections under archc's names: `projections` lists each with the
    q, k, v rows it holds (timm's qkv; PVT's q, kv; TNT's qk, v; q_proj, k_proj, v_proj; with fused=True
    nn.MultiheadAttention's in_proj_weight), `output` names the output projection. Grouped-query heads,
    q/k norms, rotary positions (rotate_half or interleaved pairs), causal and key padding masks, Swin's
    windows; F.scaled_dot_product_attention attends."""

    def __init__(self, d, heads, dim=None, out=None, bias=True, outbias=None, qknorm="off", causal=False,
                 window=None, shift=0, relpos=False, dkv=None, kvheads=None, rope=None, rope_base=10000.0,
                 projections=(("qkv", "qkv"),), output="proj", fused=False, conv1d=False):
        super().__init__()
        dim, out, dkv, kvheads = dim or d, out or d, dkv or d, kvheads or heads
        outbias = bias if outbias is None else outbias
        self._heads, self._kvheads, self._head_dim, self._causal = heads, kvheads, dim // heads, causal
        self._window, self._shift, self._rope, self._rope_base = window, shift, rope, rope_base
        self._fused, self._projections, self._output, self._conv1d = fused, projections, output, conv1d
        dense = Conv1D if conv1d else nn.Linear  # conv1d: weights stored [in, out] (GPT-2's c_attn, c_proj)
        self._widths = {"q": dim, "k": kvheads * (dim // heads), "v": kvheads * (dim // heads)}
        if relpos:
            self.relative_position_bias_table = nn.Parameter(torch.zeros((2 * window - 1) ** 2, heads))
            t = torch.arange(window)
            c = torch.flatten(torch.stack(torch.meshgrid(t, t, indexing="ij")), 1)
            r = (c[:, :, None] - c[:, None, :]).permute(1, 2, 0)
            self.register_buffer("relative_position_index", ((r[:, :, 0] + window - 1) * (2 * window - 1) + r[:, :, 1] + window - 1).flatten())
        for name, parts in projections:
            layer = dense(d if parts[0] == "q" else dkv, sum(self._widths[p] for p in parts), bias=bias)
            if fused:  # nn.MultiheadAttention's tensors: in_proj_weight, in_proj_bias
                self.register_parameter(name + "_weight", layer.weight)
                self.register_parameter(name + "_bias", layer.bias)
            else:
                _put(self, name, layer)
        if qknorm != "off":
            norm = (lambda n: nn.LayerNorm(n, bias=bias)) if qknorm == "layer" else nn.RMSNorm
            self.q_norm, self.k_norm = norm(dim // heads), norm(dim // heads)
        _put(self, output, dense(dim, out, bias=outbias))

    def _project(self, x, source):
        """q from x, k and v from source: each projection's rows applied to their tensor."""
        q, kv = [], []
        for name, parts in self._projections:
            if self._fused:
                w, b = self._parameters[name + "_weight"], self._parameters[name + "_bias"]
            else:
                w, b = self.get_submodule(name).weight, self.get_submodule(name).bias
            if self._conv1d:  # stored [in, out]: its rows are the columns
                w = w.t()
            at = 0
            for p in parts:
                rows = slice(at, at + self._widths[p])
                (q if p == "q" else kv).append(F.linear(x if p == "q" else source, w[rows], None if b is None else b[rows]))
                at += self._widths[p]
        k, v = torch.cat(kv, -1).split([self._widths["k"], self._widths["v"]], -1)
        return torch.cat(q, -1), k, v

    def _rotate(self, t, start):
        """Rotary positions start, start + 1, ... on t [..., n, head_dim], as transformers computes the angles."""
        n, dh = t.shape[-2:]
        inv = 1.0 / (self._rope_base ** (torch.arange(0, dh, 2, dtype=torch.float, device=t.device) / dh))
        angle = torch.arange(start, start + n, dtype=torch.float, device=t.device)[:, None] * inv
        cos, sin = angle.cos().to(t.dtype), angle.sin().to(t.dtype)
        if self._rope == "half":
            a, b = t[..., : dh // 2], t[..., dh // 2:]
            return torch.cat([a * cos - b * sin, b * cos + a * sin], -1)
        a, b = t[..., 0::2], t[..., 1::2]
        return torch.stack([a * cos - b * sin, b * cos + a * sin], -1).flatten(-2)
    def _attend(self, q, k, v, bias=None, mask=None, causal=False):
        split = lambda t: t.unflatten(-1, (-1, self._head_dim)).transpose(-3, -2)
        q, k, v = split(q), split(k), split(v)
        if hasattr(self, "q_norm"):
            q, k = self.q_norm(q), self.k_norm(k)
        n, m = q.shape[-2], k.shape[-2]
        if self._rope:
            q, k = self._rotate(q, m - n), self._rotate(k, 0)
        if self._kvheads != self._heads:
            k, v = (t.repeat_interleave(self._heads // self._kvheads, -3) for t in (k, v))
        keep = None if mask is None else (mask != 0)[:, None, None, :]
        if causal and (n != m or keep is not None):  # the last query sees every key
            tri = torch.ones(n, m, dtype=torch.bool, device=q.device).tril(m - n)
            keep, causal = (tri if keep is None else keep & tri), False
        if keep is not None and bias is not None:
            bias, keep = bias.masked_fill(~keep, float("-inf")), None
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias if keep is None else keep, is_causal=causal)
        if keep is not None:  # a row with every key masked is zeros, as archc and transformers give it
            y = y.masked_fill(~keep.any(-1, keepdim=True), 0.0)
        return y.transpose(-3, -2).flatten(-2)

    def forward(self, x, memory=None, mask=None):
        if self._window is not None:
            return self._windows(x)
        q, k, v = self._project(x, x if memory is None else memory)
        return self.get_submodule(self._output)(self._attend(q, k, v, mask=mask, causal=self._causal))

    def _windows(self, x):
        """Swin: attention within windows of window x window positions, cyclically shifted."""
        B, H, W, C = x.shape
        ws = self._window
        x = F.pad(x, (0, 0, 0, (ws - W % ws) % ws, 0, (ws - H % ws) % ws))
        _, PH, PW, _ = x.shape
        sy, sx = (0 if ws >= PH else self._shift), (0 if ws >= PW else self._shift)
        if sy or sx:
            x = torch.roll(x, shifts=(-sy, -sx), dims=(1, 2))
        x = x.view(B, PH // ws, ws, PW // ws, ws, C).permute(0, 1, 3, 2, 4, 5).reshape(-1, ws * ws, C)
        bias = None
        if hasattr(self, "relative_position_bias_table"):
            bias = self.relative_position_bias_table[self.relative_position_index].view(ws * ws, ws * ws, -1).permute(2, 0, 1)
        if sy or sx:
            region = x.new_zeros(PH, PW)
            count = 0
            for h in ((0, -ws), (-ws, -sy), (-sy, None)):
                for w in ((0, -ws), (-ws, -sx), (-sx, None)):
                    region[h[0]:h[1], w[0]:w[1]] = count
                    count += 1
            region = region.view(PH // ws, ws, PW // ws, ws).permute(0, 2, 1, 3).reshape(-1, ws * ws)
            shifted = ((region.unsqueeze(1) - region.unsqueeze(2)).ne(0).float() * -100.0).repeat(B, 1, 1).unsqueeze(1)
            bias = shifted if bias is None else bias + shifted
        q, k, v = self._project(x, x)
        x = self.get_submodule(self._output)(self._attend(q, k, v, bias))
        x = x.view(B, PH // ws, PW // ws, ws, ws, C).permute(0, 1, 3, 2, 4, 5).reshape(B, PH, PW, C)
        if sy or sx:
            x = torch.roll(x, shifts=(sy, sx), dims=(1, 2))
        return x[:, :H, :W, :].contiguous()


class Gpt2Block(nn.Module):
    """block gpt2_block(heads, hidden)"""

    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.ln_1 = nn.LayerNorm(dim, eps=1e-05)
        self.attn = Attention(dim, heads, causal=True, projections=(("c_attn", "qkv"),), output="c_proj", conv1d=True)
        self.ln_2 = nn.LayerNorm(dim, eps=1e-05)
        self.mlp = Mlp(dim, hidden, dim, act="gelu_tanh", names=("c_fc", "c_proj"), conv1d=True)

    def forward(self, x):
        h = self.ln_1(x)
        h = self.attn(h)
        x1 = h + x
        h = self.ln_2(x1)
        h = self.mlp(h)
        h = h + x1
        return h


class Model(nn.Module):
    """gpt2_small, emitted by archc: its state_dict holds the tensors `archc params --names` lists."""

    def __init__(self):
        super().__init__()
        self.transformer = nn.Module()
        self.transformer.wte = nn.Embedding(100, 32)
        self.transformer.wpe = nn.Embedding(16, 32)
        self.transformer.h = nn.ModuleList([Gpt2Block(32, 4, hidden=128) for _ in range(2)])
        self.transformer.ln_f = nn.LayerNorm(32, eps=1e-05)
        self.reset_parameters()

    def reset_parameters(self):
        """Draws the tensors whose layers PyTorch initialises otherwise as `archc init` does."""
        nn.init.normal_(self.transformer.wte.weight, std=0.02)
        nn.init.normal_(self.transformer.wpe.weight, std=0.02)

    def forward(self, input_ids):
        x = self.transformer.wte(input_ids)
        x = x + _positions(self.transformer.wpe.weight, x.shape[1], "transformer.wpe")
        x = F.dropout(x, 0.1, self.training)
        for layer in self.transformer.h:
            x = layer(x)
        x = self.transformer.ln_f(x)
        x = F.linear(x, self.transformer.wte.weight)
        return x

#!/usr/bin/env python3
"""Developer tool: numerics fixtures from PyTorch for the interpreter tests.

For each reduced configuration of a real library module it writes, under
Tests/ArchTests/Fixtures/numerics/NAME/: weights.safetensors (the module's state_dict, BatchNorm
statistics randomised), input.npy and output.npy (PyTorch's output). The matching spec is
model.arch beside them, written by hand. Needs torch, torchvision, timm, transformers and safetensors:
    python3 tools/make_fixtures.py                      # every fixture
    python3 tools/make_fixtures.py amlp_small gpt2_short  # only the fixtures named
Every model is still built (the random draws of the later fixtures stay the same), but only the
named fixtures are written.
"""
import os
import sys
import numpy as np
import torch
import torch.nn as nn
import torchvision
from safetensors.torch import save_file
from hf_names import bert_to_archc, gpt2_to_archc

root = "Tests/ArchTests/Fixtures/numerics"
torch.manual_seed(0)
only = set(sys.argv[1:])  # names of the fixtures to write; empty: all
known = set()


def selected(name):
    known.add(name)
    return not only or name in only


def randomise_batchnorm(m):
    for mod in m.modules():
        if isinstance(mod, nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 1.5)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.5, 0.5)


def write(name, model, x):
    model.eval()
    randomise_batchnorm(model)  # draws from the generator: done for the fixtures not written too
    with torch.no_grad():
        y = model(x)
    if not selected(name):
        return
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(d, "weights.safetensors"))
    np.save(os.path.join(d, "input.npy"), x.numpy())
    np.save(os.path.join(d, "output.npy"), y.numpy())
    print(name, tuple(y.shape), float(y.abs().max()))


class SmallResNet(nn.Module):
    """torchvision's own BasicBlock and Bottleneck, at small widths (the full ResNet class fixes them at 64-512)."""

    def __init__(self):
        super().__init__()
        from torchvision.models.resnet import BasicBlock, Bottleneck
        self.conv1 = nn.Conv2d(3, 8, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(8)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        self.layer1 = nn.Sequential(BasicBlock(8, 8))
        self.layer2 = nn.Sequential(BasicBlock(8, 16, 2, nn.Sequential(nn.Conv2d(8, 16, 1, 2, bias=False), nn.BatchNorm2d(16))))
        self.layer3 = nn.Sequential(Bottleneck(16, 8, 2, nn.Sequential(nn.Conv2d(16, 32, 1, 2, bias=False), nn.BatchNorm2d(32))),
                                    Bottleneck(32, 8))
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer3(self.layer2(self.layer1(x)))
        return self.fc(torch.flatten(self.avgpool(x), 1))


write("resnet_small", SmallResNet(), torch.randn(2, 3, 32, 32))

# torchvision's VisionTransformer: 2 layers, width 64, 4 heads, 32x32 images in 8x8 patches.
# Its head starts at zero; give it random weights so the output says something.
vit = torchvision.models.VisionTransformer(image_size=32, patch_size=8, num_layers=2, num_heads=4, hidden_dim=64, mlp_dim=128, num_classes=10)
nn.init.normal_(vit.heads.head.weight, std=0.1)
nn.init.normal_(vit.heads.head.bias, std=0.1)
write("vit_small", vit, torch.randn(2, 3, 32, 32))

# The seed MLP, narrower: 64 -> 128 (GELU) -> 10.
write("mlp_small", nn.Sequential(nn.Linear(64, 128), nn.GELU(), nn.Linear(128, 10)), torch.randn(3, 64))

# torchvision's SwinTransformer: 2 stages of 2 blocks, window 4 (shifted in every second block),
# patch merging between them; weights normal(0, 0.2) so the relative position bias matters.
from torchvision.models.swin_transformer import SwinTransformer
swin = SwinTransformer(patch_size=[4, 4], embed_dim=16, depths=[2, 2], num_heads=[2, 4], window_size=[4, 4], num_classes=10)
for p in swin.parameters():
    nn.init.normal_(p, std=0.2)
write("swin_small", swin, torch.randn(2, 3, 32, 32))

# timm's MlpMixer and gMLP (MlpMixer with SpatialGatingBlock and GatedMlp) at width 32, 2 blocks, 16 tokens.
# Their heads start at zero; random heads make the outputs say something.
import timm.models.mlp_mixer as mm


def random_head(m):
    nn.init.normal_(m.head.weight, std=0.1)
    nn.init.normal_(m.head.bias, std=0.1)
    return m


write("mixer_small", random_head(mm.MlpMixer(num_classes=10, img_size=32, patch_size=8, num_blocks=2, embed_dim=32, mlp_ratio=(0.5, 4.0))),
      torch.randn(2, 3, 32, 32))
write("gmlp_small", random_head(mm.MlpMixer(num_classes=10, img_size=32, patch_size=8, num_blocks=2, embed_dim=32, mlp_ratio=6,
                                            block_layer=mm.SpatialGatingBlock, mlp_layer=mm.GatedMlp)), torch.randn(2, 3, 32, 32))


class LSTMModel(nn.Module):
    """Embedding, a 2-layer bidirectional nn.LSTM (batch_first), a linear decoder."""

    def __init__(self):
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.rnn = nn.LSTM(16, 24, 2, batch_first=True, bidirectional=True)
        self.decoder = nn.Linear(48, 50)

    def forward(self, ids):
        return self.decoder(self.rnn(self.embed(ids))[0])


write("lstm_small", LSTMModel(), torch.randint(0, 50, (2, 7)))


class TinyUNet(nn.Module):
    """One U-Net level: conv block, pool, conv block, transposed conv up, concat with the skip, conv block, 1x1 head."""

    def __init__(self):
        super().__init__()
        block = lambda i, o: nn.Sequential(nn.Conv2d(i, o, 3, padding=1, bias=False), nn.BatchNorm2d(o), nn.ReLU())
        self.enc1, self.pool, self.mid = block(1, 4), nn.MaxPool2d(2), block(4, 8)
        self.up = nn.ConvTranspose2d(8, 4, 2, stride=2)
        self.dec, self.head = block(8, 4), nn.Conv2d(4, 2, 1)

    def forward(self, x):
        e = self.enc1(x)
        u = self.up(self.mid(self.pool(e)))
        return self.head(self.dec(torch.cat([u, e], 1)))


write("unet_small", TinyUNet(), torch.randn(2, 1, 16, 16))


class MoE(nn.Module):
    """Mixtral's sparse MoE block: softmax router, top 2 of 4 SwiGLU experts renormalised."""

    class Expert(nn.Module):
        def __init__(self, d, h):
            super().__init__()
            self.w1, self.w2, self.w3 = nn.Linear(d, h, bias=False), nn.Linear(h, d, bias=False), nn.Linear(d, h, bias=False)

        def forward(self, x):
            return self.w2(nn.functional.silu(self.w1(x)) * self.w3(x))

    def __init__(self, d=16, h=24, e=4):
        super().__init__()
        self.gate = nn.Linear(d, e, bias=False)
        self.experts = nn.ModuleList([MoE.Expert(d, h) for _ in range(e)])

    def forward(self, x):
        p = torch.softmax(self.gate(x), dim=-1)
        w, idx = torch.topk(p, 2, dim=-1)
        w = w / w.sum(-1, keepdim=True)
        out = torch.zeros_like(x)
        for k in range(2):
            for e, expert in enumerate(self.experts):
                sel = (idx[..., k] == e).unsqueeze(-1).float()
                out = out + sel * w[..., k:k + 1] * expert(x)
        return out


class MoEModel(nn.Module):
    def __init__(self):
        super().__init__()
        self.moe = MoE()

    def forward(self, x):
        return self.moe(x)


write("moe_small", MoEModel(), torch.randn(2, 5, 16))

# transformers' GPT-2 (2 layers, width 32, 4 heads) and BERT (2 layers, width 32, with pooler). Their
# state_dicts are renamed to the prelude blocks' names, the way a user's conversion script would;
# GPT-2's Conv1D weights are stored [in, out] and are transposed to Linear's [out, in].
from transformers import BertConfig, BertModel, GPT2Config, GPT2LMHeadModel


def write_converted(name, model, inputs, output, state):
    if not selected(name):
        return
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state.items()}, os.path.join(d, "weights.safetensors"))
    for i, (k, v) in enumerate(inputs.items()):
        np.save(os.path.join(d, "input.npy" if i == 0 else f"{k}.npy"), v.numpy())
    np.save(os.path.join(d, "output.npy"), output.numpy())
    print(name, tuple(output.shape), float(output.abs().max()))


gpt = GPT2LMHeadModel(GPT2Config(vocab_size=100, n_positions=16, n_embd=32, n_layer=2, n_head=4, attn_implementation="eager")).eval()
ids = torch.randint(0, 100, (2, 9))
with torch.no_grad():
    logits = gpt(ids).logits


def gpt2_state(gpt):
    return gpt2_to_archc(gpt.state_dict())


write_converted("gpt2_small", gpt, {"input_ids": ids}, logits, gpt2_state(gpt))

bert = BertModel(BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                            max_position_embeddings=16, attn_implementation="eager")).eval()
ids = torch.randint(0, 100, (2, 9))
types = torch.randint(0, 2, (2, 9))
with torch.no_grad():
    pooled = bert(input_ids=ids, token_type_ids=types).pooler_output
state = bert_to_archc(bert.state_dict(), layers=2)
write_converted("bert_small", bert, {"input_ids": ids, "token_type_ids": types}, pooled, state)

# torchvision's MobileNetV2 at width 0.25 (channels rounded to multiples of 8), 10 classes, 32x32.
write("mobilenet_small", torchvision.models.MobileNetV2(width_mult=0.25, num_classes=10), torch.randn(2, 3, 32, 32))

# timm's ConvMixer: width 32, depth 2, 5x5 depthwise kernels, 4x4 patches, GELU.
from timm.models.convmixer import ConvMixer
write("convmixer_small", random_head(ConvMixer(dim=32, depth=2, kernel_size=5, patch_size=4, num_classes=10)), torch.randn(2, 3, 32, 32))


# The fixtures below reseed first, so that each is the same whether or not the others are written.

class TinyAttention(nn.Module):
    """aMLP's tiny attention, as the paper's pseudo-code: single head, no mask.
    qkv = proj(x, 3 d_attn); q, k, v = split(qkv); a = softmax(q k^T rsqrt(d_attn)); proj(a v, d_out)."""

    def __init__(self, d_in, d_out, d_attn):
        super().__init__()
        self.d_attn = d_attn
        self.qkv = nn.Linear(d_in, 3 * d_attn)
        self.proj = nn.Linear(d_attn, d_out)

    def forward(self, x):
        q, k, v = self.qkv(x).chunk(3, dim=-1)
        w = torch.einsum("bnd,bmd->bnm", q, k)
        a = torch.softmax(w * self.d_attn ** -0.5, dim=-1)
        return self.proj(torch.einsum("bnm,bmd->bnd", a, v))


class SpatialGatingUnit(nn.Module):
    """u, v = split(x); v = norm(v); v = proj over tokens (v); with tiny attention: v = v + tiny_attn(src); u * v."""

    def __init__(self, d_ffn, n, d_src, d_attn):
        super().__init__()
        self.norm = nn.LayerNorm(d_ffn // 2)
        self.proj = nn.Linear(n, n)
        self.attn = TinyAttention(d_src, d_ffn // 2, d_attn)

    def forward(self, x, src):
        u, v = x.chunk(2, dim=-1)
        v = self.proj(self.norm(v).transpose(-1, -2)).transpose(-1, -2)
        return u * (v + self.attn(src))


class AMLPBlock(nn.Module):
    """The paper's gmlp_block with the hybrid gate: shortcut = x; x = norm(x); gate_res = tiny_attn(x) (the
    normalised input, before the channel expansion); x = proj(gelu(proj(x, d_ffn)) gated, d_model) + shortcut.
    The norm is named x, as the spec's label that the gate's `from x` reads."""

    def __init__(self, d_model, d_ffn, n, d_attn):
        super().__init__()
        self.x = nn.LayerNorm(d_model)
        self.proj_in = nn.Linear(d_model, d_ffn)
        self.gate = SpatialGatingUnit(d_ffn, n, d_model, d_attn)
        self.proj_out = nn.Linear(d_ffn // 2, d_model)

    def forward(self, x):
        shortcut = x
        x = self.x(x)
        return self.proj_out(self.gate(nn.functional.gelu(self.proj_in(x)), x)) + shortcut


class AMLP(nn.Module):
    """aMLP (Liu et al. 2021, "Pay Attention to MLPs") as a small masked-LM: embedding, blocks, norm, head tied to the embedding."""

    def __init__(self, vocab=50, d_model=32, d_ffn=64, n=8, depth=2, d_attn=16):
        super().__init__()
        self.embed = nn.Embedding(vocab, d_model)
        self.blocks = nn.Sequential(*[AMLPBlock(d_model, d_ffn, n, d_attn) for _ in range(depth)])
        self.norm = nn.LayerNorm(d_model)

    def forward(self, ids):
        return nn.functional.linear(self.norm(self.blocks(self.embed(ids))), self.embed.weight)


torch.manual_seed(1)
amlp = AMLP()
with torch.no_grad():
    for mod in amlp.modules():
        if isinstance(mod, nn.LayerNorm):  # affine parameters away from 1 and 0, so they matter
            mod.weight.uniform_(0.5, 1.5)
            mod.bias.uniform_(-0.5, 0.5)
        elif isinstance(mod, TinyAttention):  # larger q, k: softmax weights far from uniform
            nn.init.normal_(mod.qkv.weight, std=0.5)
write("amlp_small", amlp, torch.randint(0, 50, (2, 8)))


class SmallAlexNet(nn.Module):
    """torchvision.models.AlexNet's layers and module names at small widths (its constructor fixes them at 64-4096)."""

    def __init__(self, c=(8, 16, 24, 16, 16), pool=(3, 2), hidden=64, num_classes=10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(3, c[0], kernel_size=11, stride=4, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(c[0], c[1], kernel_size=5, padding=2), nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=3, stride=2),
            nn.Conv2d(c[1], c[2], kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c[2], c[3], kernel_size=3, padding=1), nn.ReLU(inplace=True),
            nn.Conv2d(c[3], c[4], kernel_size=3, padding=1), nn.ReLU(inplace=True), nn.MaxPool2d(kernel_size=3, stride=2))
        self.avgpool = nn.AdaptiveAvgPool2d(pool)
        self.classifier = nn.Sequential(
            nn.Dropout(0.5), nn.Linear(c[4] * pool[0] * pool[1], hidden), nn.ReLU(inplace=True),
            nn.Dropout(0.5), nn.Linear(hidden, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, num_classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


# A non-square 191x127 image leaves a 5x3 map: pooled to 3x2 by uneven and overlapping windows.
# He-normal weights keep the activations near unit size through the ReLUs (PyTorch's default
# initialisation shrinks them to outputs of ~0.1, where the tolerance would be loose).
torch.manual_seed(2)
alexnet = SmallAlexNet()
for mod in alexnet.modules():
    if isinstance(mod, (nn.Conv2d, nn.Linear)):
        nn.init.kaiming_normal_(mod.weight, nonlinearity="relu")
        nn.init.uniform_(mod.bias, -0.1, 0.1)
write("alexnet_small", alexnet, torch.randn(2, 3, 191, 127))

# gpt2_small's configuration on 3 sequences of a single token (gpt2_small runs 9 of the 16 positions).
torch.manual_seed(3)
gpt = GPT2LMHeadModel(GPT2Config(vocab_size=100, n_positions=16, n_embd=32, n_layer=2, n_head=4, attn_implementation="eager")).eval()
ids = torch.randint(0, 100, (3, 1))
with torch.no_grad():
    logits = gpt(ids).logits
write_converted("gpt2_short", gpt, {"input_ids": ids}, logits, gpt2_state(gpt))


# ---------------------------------------------------------------------------------------------------
# Op coverage: small networks that together run every op and option of the language that the library
# networks above leave out (the model.arch beside each says which). Plain torch.nn layers and functional
# ops, named as the spec names its parameters; norms and BatchNorm statistics randomised so that each
# one changes the output. Each reseeds, so it is the same whether or not the others are written.

def randomise_norms(m):
    with torch.no_grad():
        for mod in m.modules():
            if isinstance(mod, nn.modules.batchnorm._BatchNorm):
                mod.running_mean.uniform_(-0.5, 0.5)
                mod.running_var.uniform_(0.5, 1.5)
            if isinstance(mod, (nn.modules.batchnorm._BatchNorm, nn.GroupNorm, nn.LayerNorm, nn.RMSNorm)):
                if getattr(mod, "weight", None) is not None:
                    mod.weight.uniform_(0.5, 1.5)
                if getattr(mod, "bias", None) is not None:
                    mod.bias.uniform_(-0.5, 0.5)
    return m


def write_module(name, model, inputs):
    """The module's state_dict, its inputs (the first as input.npy, the others as NAME.npy) and its output."""
    model.eval()
    with torch.no_grad():
        y = model(*inputs.values())
    write_converted(name, model, inputs, y, model.state_dict())
    return y


class OpsConv(nn.Module):
    """ops_conv_small: 2-d convolutions, norms, pools, upsampling and broadcasting."""

    def __init__(self):
        super().__init__()
        self.stem = nn.Conv2d(3, 12, (3, 5), stride=(1, 2), padding=(1, 2), dilation=(2, 1))
        self.bn0 = nn.BatchNorm2d(12, eps=0.1)
        self.feat = nn.Conv2d(12, 12, 3, padding="same", groups=3, bias=False)
        self.gn = nn.GroupNorm(4, 12, eps=1e-4)
        self.y = nn.BatchNorm2d(12, affine=False)
        self.rows = nn.Sequential(nn.AdaptiveAvgPool2d((9, 1)), nn.Conv2d(12, 12, 1), nn.Sigmoid())
        self.cols = nn.Sequential(nn.AdaptiveAvgPool2d((1, 6)), nn.Conv2d(12, 12, 1), nn.Sigmoid())
        self.se = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(12, 4, 1), nn.ReLU(), nn.Conv2d(4, 12, 1), nn.Tanh())
        self.up = nn.ConvTranspose2d(12, 8, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2)
        self.out = nn.Conv2d(8, 16, (2, 3), stride=2, bias=False)
        self.bn1 = nn.BatchNorm2d(16)
        self.head = nn.Linear(144, 10)

    def forward(self, x):
        x = nn.functional.hardswish(self.bn0(self.stem(x)))
        x = nn.functional.silu(self.gn(self.feat(x)))
        y = self.y(nn.functional.max_pool2d(x, 2, ceil_mode=True))
        z = self.rows(y) * self.cols(y) * y
        x = z + self.se(z)
        x = x.amax((2, 3), keepdim=True) + z
        x = torch.cat([nn.functional.interpolate(x, scale_factor=2, mode="nearest"),
                       nn.functional.interpolate(x, scale_factor=2, mode="bilinear")], 3)
        x = nn.functional.avg_pool2d(x, 3, 2, 1, ceil_mode=True)
        m = nn.functional.adaptive_max_pool2d(nn.functional.gelu(self.up(x), approximate="tanh"), (5, 6))
        x = torch.cat([nn.functional.adaptive_avg_pool2d(m, (3, 6)), m], -2)
        x = nn.functional.relu6(self.bn1(self.out(x)))
        return self.head(torch.cat([torch.flatten(x, 1), x.amax((2, 3))], 1))


torch.manual_seed(10)
conv = randomise_norms(OpsConv())
with torch.no_grad():
    conv.out.weight.mul_(10)  # so that some inputs of the ReLU6 pass 6
write_module("ops_conv_small", conv, {"image": torch.randn(2, 3, 19, 22)})


class OpsConv1d(nn.Module):
    """ops_conv1d_small: the same kinds of ops on [batch, channels, length]."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv1d(4, 8, 5, dilation=2, padding="same")
        self.bn1 = nn.BatchNorm1d(8)
        self.c2 = nn.Conv1d(8, 8, 3, stride=2, padding=1, groups=2)
        self.gn = nn.GroupNorm(2, 8)
        self.ct = nn.ConvTranspose1d(8, 6, 4, stride=2, padding=1, groups=2)
        self.bn2 = nn.BatchNorm1d(6, eps=0.1)
        self.dw = nn.ConvTranspose1d(6, 6, 3, padding=1, groups=6, bias=False)
        self.head = nn.Linear(6, 5)

    def forward(self, x):
        x = nn.functional.gelu(self.bn1(self.c1(x)))
        x = self.gn(self.c2(x))
        x = nn.functional.max_pool1d(x, 3, 2, ceil_mode=True)
        x = nn.functional.avg_pool1d(x, 3, 1, 1)
        x = self.dw(torch.sigmoid(self.bn2(self.ct(x))))
        s = nn.functional.adaptive_max_pool1d(nn.functional.interpolate(x, scale_factor=3, mode="nearest"), 9)
        x = torch.cat([nn.functional.adaptive_avg_pool1d(s, 4), s], 2)
        x = x + x.amax(2, keepdim=True)
        return self.head(x.transpose(1, 2))


torch.manual_seed(11)
write_module("ops_conv1d_small", randomise_norms(OpsConv1d()), {"signal": torch.randn(2, 4, 40)})


def sinusoidal_positions(n, d):
    """The Transformer's table (Vaswani et al.; PyTorch's tutorial): sin at even, cos at odd features."""
    pos = torch.arange(n, dtype=torch.float32)[:, None]
    div = torch.exp(torch.arange(0, d, 2, dtype=torch.float32) * (-np.log(10000.0) / d))
    pe = torch.zeros(n, d)
    pe[:, 0::2], pe[:, 1::2] = torch.sin(pos * div), torch.cos(pos * div)
    return pe


class ProjAttention(nn.Module):
    """Multi-head attention with separate q, k, v, out projections (any widths); keys and values from
    `memory` when given (cross-attention)."""

    def __init__(self, d, heads, dim=None, out=None, dkv=None, bias=True, outbias=True):
        super().__init__()
        dim, out, dkv = dim or d, out or d, dkv or d
        self.heads = heads
        self.q_proj, self.k_proj, self.v_proj = nn.Linear(d, dim, bias=bias), nn.Linear(dkv, dim, bias=bias), nn.Linear(dkv, dim, bias=bias)
        self.out_proj = nn.Linear(dim, out, bias=outbias)

    def forward(self, x, memory=None):
        src = x if memory is None else memory
        split = lambda t: t.unflatten(-1, (self.heads, -1)).transpose(1, 2)
        o = nn.functional.scaled_dot_product_attention(split(self.q_proj(x)), split(self.k_proj(src)), split(self.v_proj(src)))
        return self.out_proj(o.transpose(1, 2).flatten(2))


class Mlp(nn.Module):
    def __init__(self, d, hidden, out=None, act=nn.functional.gelu, bias=True):
        super().__init__()
        self.fc1, self.fc2, self.act = nn.Linear(d, hidden, bias=bias), nn.Linear(hidden, out or d, bias=bias), act

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class SwiGLU(nn.Module):
    def __init__(self, d, hidden, out, bias):
        super().__init__()
        self.w1, self.w2, self.w3 = nn.Linear(d, hidden, bias=bias), nn.Linear(hidden, out, bias=bias), nn.Linear(d, hidden, bias=bias)

    def forward(self, x):
        return self.w2(nn.functional.silu(self.w1(x)) * self.w3(x))


class MlpMoE(nn.Module):
    """A mixture of GELU MLP experts: softmax router, top k renormalised (Mixtral's routing)."""

    def __init__(self, d, experts, top, hidden):
        super().__init__()
        self.top = top
        self.gate = nn.Linear(d, experts, bias=False)
        self.experts = nn.ModuleList([Mlp(d, hidden) for _ in range(experts)])

    def forward(self, x):
        p = torch.softmax(self.gate(x), dim=-1)
        w, idx = torch.topk(p, self.top, dim=-1)
        s = p.sort(-1, descending=True).values
        assert float((s[..., self.top - 1] - s[..., self.top]).min()) > 1e-3, "a routing decision is too close to call"
        w = w / w.sum(-1, keepdim=True)
        out = torch.zeros_like(x)
        for e, expert in enumerate(self.experts):
            out = out + (w * (idx == e)).sum(-1, keepdim=True) * expert(x)
        return out


class ParallelEncoder(nn.Module):
    """The prelude's `encoder norm parallel` (ViT-22B): x + attn(norm1 x) + mlp(norm1 x); here causal, q/k
    RMSNorm, no biases in the projections and the norm (the MLP keeps them), ReLU."""

    def __init__(self, d, heads, hidden):
        super().__init__()
        from timm.layers import Attention
        self.norm1 = nn.LayerNorm(d, bias=False)
        self.attn = Attention(d, heads, qkv_bias=False, qk_norm=True, proj_bias=False, norm_layer=nn.RMSNorm)
        self.mlp = Mlp(d, hidden, act=nn.functional.relu)

    def forward(self, x):
        h = self.norm1(x)
        return x + self.attn(h, is_causal=True) + self.mlp(h)


class CrossDecoder(nn.Module):
    """The prelude's `decoder memory M`: pre-norm causal self-attention, cross-attention to M, MLP."""

    def __init__(self, d, heads, dkv):
        super().__init__()
        from timm.layers import Attention
        self.norm1, self.norm_cross, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.attn = Attention(d, heads, qkv_bias=True)
        self.cross_attn = ProjAttention(d, heads, dkv=dkv)
        self.mlp = Mlp(d, 4 * d, act=lambda t: nn.functional.gelu(t, approximate="tanh"))

    def forward(self, x, memory):
        x = x + self.attn(self.norm1(x), is_causal=True)
        x = x + self.cross_attn(self.norm_cross(x), memory)
        return x + self.mlp(self.norm2(x))


def variance_preserving(m, qk_std=0.5):
    """Linear weights normal(0, 1 / fan_in) (PyTorch's default shrinks activations ~0.6x a layer, and a
    stack of them fades to the biases), biases U(-0.1, 0.1); q and k projections normal(0, qk_std) so
    that attention is far from uniform. Embedding and class token keep normal(0, 1)."""
    with torch.no_grad():
        for name, p in m.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if p.dim() == 2 and leaf in ("weight", "in_proj_weight") and "embed" not in name and not name.startswith("tok."):
                nn.init.normal_(p, std=p.shape[1] ** -0.5)
            elif leaf in ("bias", "in_proj_bias") and "norm" not in name and not name.startswith(("ln", "lnb")):
                nn.init.uniform_(p, -0.1, 0.1)
        for name, mod in m.named_modules():
            if name.endswith(("qkv", "cross_attn.q_proj", "cross_attn.k_proj", "sa.q_proj", "sa.k_proj")):
                rows = mod.weight.shape[0] // 3 * 2 if name.endswith("qkv") else mod.weight.shape[0]
                nn.init.normal_(mod.weight[:rows], std=qk_std)
            elif isinstance(mod, nn.MultiheadAttention):
                nn.init.normal_(mod.in_proj_weight[:2 * mod.embed_dim], std=qk_std)
    return m


class OpsTransformer(nn.Module):
    """ops_transformer_small: the prelude's encoder (pre-norm: timm's Block; parallel) and decoder variants."""

    def __init__(self):
        super().__init__()
        from timm.models.vision_transformer import Block
        self.cls = nn.Parameter(torch.randn(1, 1, 16))
        self.tok = nn.Embedding(40, 16)
        self.enc1 = Block(16, 4, qkv_bias=True, qk_norm=True, act_layer=nn.SiLU, norm_layer=nn.LayerNorm)
        self.enc2 = ParallelEncoder(16, 2, 24)
        self.dec = CrossDecoder(16, 2, 12)
        self.norm = nn.RMSNorm(16, eps=0.1)
        self.head = nn.Linear(16, 6)

    def forward(self, ids, mem):
        x = self.tok(ids)
        x = x + sinusoidal_positions(x.shape[1], x.shape[2])
        x = torch.cat([self.cls.expand(x.shape[0], -1, -1), x], 1)
        x = self.norm(self.dec(self.enc2(self.enc1(x)), mem))
        return self.head(x.mean(1))


torch.manual_seed(12)
write_module("ops_transformer_small", randomise_norms(variance_preserving(OpsTransformer())),
             {"ids": torch.randint(0, 40, (2, 7)), "mem": torch.randn(2, 5, 12)})


class OpsTokens(nn.Module):
    """ops_tokens_small: a learned position table longer than the sequence, attention layouts, shape ops,
    softmax along the sequence, swiglu, the two GELUs, a mixture of MLP experts, rmsnorm, the last token."""

    def __init__(self):
        super().__init__()
        from timm.layers import Attention
        self.pe = nn.Parameter(0.5 * torch.randn(1, 12, 16))
        self.sa = ProjAttention(16, 3, dim=24, out=20, bias=False, outbias=True)
        self.ln = nn.LayerNorm(20, elementwise_affine=False)
        self.lnb = nn.LayerNorm(16, bias=False)
        self.sw = SwiGLU(16, 32, 24, bias=True)
        self.neg = nn.Sequential(nn.GELU(), nn.Linear(24, 24, bias=False))
        self.amp = nn.Linear(24, 24, bias=False)
        self.moe = MlpMoE(24, 4, 3, 12)
        self.fc = Mlp(24, 20, 16, act=nn.functional.silu, bias=False)
        self.pk = Attention(16, 4, qkv_bias=True, proj_bias=False)
        self.mha = nn.MultiheadAttention(16, 2, bias=False, batch_first=True)
        self.rms = nn.RMSNorm(16, eps=1e-2)
        self.head = nn.Linear(16, 6)

    def forward(self, x):
        x = self.ln(self.sa(x + self.pe[:, :x.shape[1]]))
        x = x.reshape(-1, 8, 4, 5).permute(0, 2, 1, 3).softmax(2)
        x = x.flatten(2).transpose(1, 2).reshape(x.shape[0], -1, 16)
        x = self.sw(self.lnb(x))
        x = x + self.amp(nn.functional.gelu(x, approximate="tanh") + self.neg(x))
        x = self.fc(self.moe(x))
        x = x + self.pk(x)
        x = torch.sigmoid(self.rms(self.mha(x, x, x, need_weights=False)[0]))
        return self.head(x[:, -1])


torch.manual_seed(16)  # 15 routes one token with a margin under 1e-3 (MlpMoE asserts)
tokens = randomise_norms(variance_preserving(OpsTokens()))
with torch.no_grad():
    tokens.neg[1].weight.copy_(-torch.eye(24))
    tokens.amp.weight.copy_(40 * torch.eye(24))
write_module("ops_tokens_small", tokens, {"x": torch.randn(2, 8, 16)})


class OpsRecurrent(nn.Module):
    """ops_recurrent_small: nn.RNN and nn.GRU stacks (bidirectional, with and without biases), then the
    last time step of a GRU, an RNN without biases and a bidirectional LSTM, concatenated; BatchNorm1d on
    those features; a linear layer with ReLU6."""

    def __init__(self):
        super().__init__()
        self.r = nn.RNN(10, 12, 2, batch_first=True, bidirectional=True)
        self.g = nn.GRU(24, 10, 2, bias=False, batch_first=True, bidirectional=True)
        self.g1 = nn.GRU(20, 8, batch_first=True)
        self.r1 = nn.RNN(20, 6, bias=False, batch_first=True)
        self.l1 = nn.LSTM(20, 7, batch_first=True, bidirectional=True)
        self.bnf = nn.BatchNorm1d(28)
        self.proj = nn.Linear(28, 16)
        self.head = nn.Linear(16, 5)

    def forward(self, x):
        x = self.g(self.r(x)[0])[0]
        x = self.bnf(torch.cat([self.g1(x)[0][:, -1], self.r1(x)[0][:, -1], self.l1(x)[0][:, -1]], 1))
        return self.head(nn.functional.relu6(self.proj(x)))


torch.manual_seed(13)
rec = randomise_norms(OpsRecurrent())
with torch.no_grad():  # wider than PyTorch's U(-1/sqrt(h), 1/sqrt(h)), so the gates are far from linear
    for name, p in rec.named_parameters():
        if name.startswith(("r.", "g.", "g1.", "r1.", "l1.")):
            p.uniform_(-0.6, 0.6)
    nn.init.normal_(rec.proj.weight, std=1.5)  # some inputs of the ReLU6 pass 6
write_module("ops_recurrent_small", rec, {"x": torch.randn(2, 9, 10)})


class WindowAttention(nn.Module):
    """torchvision's shifted_window_attention (padding to whole windows, cyclic shift, shift mask) with
    no relative position bias, on qkv / proj weights named as the spec's packed layout."""

    def __init__(self, d, heads, window, shift):
        super().__init__()
        self.heads, self.window, self.shift = heads, window, shift
        self.qkv, self.proj = nn.Linear(d, 3 * d), nn.Linear(d, d)

    def forward(self, x):
        from torchvision.models.swin_transformer import shifted_window_attention
        n = self.window * self.window
        return shifted_window_attention(x, self.qkv.weight, self.proj.weight, x.new_zeros(1, self.heads, n, n), [self.window] * 2,
                                        self.heads, [self.shift] * 2, qkv_bias=self.qkv.bias, proj_bias=self.proj.bias)


class OpsWindow(nn.Module):
    """ops_window_small: patch grid, window attention on grids that windows do not divide, patch merging
    of an odd grid, aMLP's gating unit with tiny attention on its own input."""

    def __init__(self):
        super().__init__()
        from torchvision.models.swin_transformer import PatchMerging
        self.embed = nn.Conv2d(3, 16, 4, stride=4, bias=False)
        self.ln0, self.norm1, self.norm2 = nn.LayerNorm(16), nn.LayerNorm(16), nn.LayerNorm(32, eps=1e-6)
        self.attn = WindowAttention(16, 2, 4, 2)
        self.merge = PatchMerging(16, norm_layer=lambda c: nn.LayerNorm(c, eps=1e-3))
        self.attn2 = WindowAttention(32, 4, 2, 1)
        self.gate = SpatialGatingUnit(32, 12, 32, 8)
        self.gate.norm.eps = 0.1
        self.head = nn.Linear(16, 7)

    def forward(self, img):
        x = self.ln0(self.embed(img).permute(0, 2, 3, 1))
        x = x + self.attn(self.norm1(x))
        x = self.merge(x)
        x = x + self.attn2(self.norm2(x))
        t = x.flatten(1, 2)
        return self.head(self.gate(t, t).mean(1))


torch.manual_seed(14)
win = randomise_norms(OpsWindow())
with torch.no_grad():  # larger q, k: attention weights far from uniform
    for a in (win.attn, win.attn2, win.gate.attn):
        nn.init.normal_(a.qkv.weight, std=0.5)
write_module("ops_window_small", win, {"image": torch.randn(2, 3, 24, 28)})


class Gate(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.fc = nn.Conv2d(c, c, 1)

    def forward(self, x):
        return torch.sigmoid(self.fc(x.mean((2, 3), keepdim=True)))


class Gated(nn.Module):
    """A highway over channels: t = gate(x), t * dw(x) + (1 - t) * x; dw(x) is returned too (the spec reads it as g.dw)."""

    def __init__(self, c):
        super().__init__()
        self.gate, self.dw = Gate(c), nn.Conv2d(c, c, 3, padding=1, groups=c)

    def forward(self, x):
        t, d = self.gate(x), self.dw(x)
        return d * t + (1 - t) * x, d


class Affine(nn.Module):
    """timm's Affine (alpha, beta), with the shapes of the spec's learned operands."""

    def __init__(self, c):
        super().__init__()
        self.alpha, self.beta = nn.Parameter(1 + 0.3 * torch.randn(1, c, 1, 1)), nn.Parameter(0.3 * torch.randn(c, 1, 1))

    def forward(self, x):
        return x * self.alpha + self.beta


class OpsDataflow(nn.Module):
    """ops_dataflow_small: LayerNorm2d, layer scale, a highway block with a side branch and a second output,
    arithmetic with labels, numbers and learned tensors, max/mean/sum reductions, unfold, a view folding the
    patches into the batch and back (TNT's pixel embedding), fold, RMSNorm over channels, slices and an index."""

    def __init__(self):
        super().__init__()
        self.pixel_pos = nn.Parameter(0.5 * torch.randn(1, 8, 2, 2))  # first in the state_dict: the spec's 'order'
        self.layer_scale = nn.Parameter(1 + 0.3 * torch.randn(8, 1, 1))
        self.stem = nn.Conv2d(4, 8, 3, padding=1)
        self.ln = nn.LayerNorm(8, eps=1e-6)
        self.dw = nn.Conv2d(8, 8, 3, padding=1, groups=8)
        self.g = Gated(8)
        self.pix = nn.Conv2d(8, 8, 1)
        self.affine = Affine(8)
        self.rms = nn.RMSNorm(8, eps=1e-5)
        self.head2 = nn.Linear(8, 5)

    def forward(self, x):
        x = self.stem(x)
        x = self.ln(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        x = x + self.layer_scale * self.dw(x)
        x, d = self.g(x)
        x = 1 - (x - x.amax(1, keepdim=True)) / 4
        b = x.shape[0]
        t = nn.functional.unfold(x, 2, stride=2).transpose(1, 2).reshape(b * 16, 8, 2, 2)
        t = (self.pix(t) + self.pixel_pos).reshape(b, 16, 32).transpose(1, 2)
        x = self.affine(nn.functional.fold(t, (8, 8), 2, stride=2) + d)
        x = self.rms(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
        tokens = x.flatten(2).transpose(1, 2)
        den = torch.sigmoid(tokens.mean(1)) + 0.5
        y = (tokens[:, -1] - tokens[:, 1:-2:3].sum(1)) / den
        return self.head2(y)


torch.manual_seed(15)
write_module("ops_dataflow_small", randomise_norms(OpsDataflow()), {"image": torch.randn(2, 4, 8, 8)})


# The specs written with the dataflow and tensor ops, at small sizes: torchvision's DenseNet and
# ConvNeXt, timm's distilled DeiT, and a highway network. Each reseeds.

torch.manual_seed(17)
from torchvision.models.densenet import DenseNet
write_module("densenet_small", randomise_norms(DenseNet(growth_rate=8, block_config=(2, 3), num_init_features=16, bn_size=2, num_classes=10)),
             {"image": torch.randn(2, 3, 32, 32)})

torch.manual_seed(18)
from torchvision.models.convnext import ConvNeXt, CNBlockConfig
convnext = randomise_norms(ConvNeXt([CNBlockConfig(16, 32, 2), CNBlockConfig(32, None, 1)], num_classes=10))
with torch.no_grad():  # layer_scale starts at 1e-6: the blocks would add nothing
    for name, p in convnext.named_parameters():
        if name.endswith("layer_scale"):
            p.uniform_(0.3, 1.0)
write_module("convnext_small", convnext, {"image": torch.randn(2, 3, 32, 32)})

torch.manual_seed(19)
from timm.models.deit import VisionTransformerDistilled
deit = randomise_norms(VisionTransformerDistilled(img_size=32, patch_size=8, embed_dim=32, depth=2, num_heads=2, num_classes=10))
with torch.no_grad():  # tokens, positions and heads start at zero or near it
    for p in (deit.cls_token, deit.dist_token, deit.pos_embed):
        nn.init.normal_(p, std=0.5)
    for head in (deit.head, deit.head_dist):
        nn.init.normal_(head.weight, std=0.2)
        nn.init.normal_(head.bias, std=0.2)
write_module("deit_small", deit, {"image": torch.randn(2, 3, 32, 32)})


class HighwayLayer(nn.Module):
    """Srivastava et al. 2015: y = t * relu(plain x) + (1 - t) * x, t = sigmoid(gate x)."""

    def __init__(self, width):
        super().__init__()
        self.gate, self.plain = nn.Linear(width, width), nn.Linear(width, width)

    def forward(self, x):
        t = torch.sigmoid(self.gate(x))
        return t * torch.relu(self.plain(x)) + (1 - t) * x


class Highway(nn.Module):
    def __init__(self):
        super().__init__()
        self.proj = nn.Linear(20, 16)
        self.layers = nn.Sequential(*[HighwayLayer(16) for _ in range(3)])
        self.head = nn.Linear(16, 4)

    def forward(self, x):
        return self.head(self.layers(torch.relu(self.proj(x))))


torch.manual_seed(20)
highway = Highway()
with torch.no_grad():  # the paper's negative gate bias (carry by default), spread so the gates vary
    for layer in highway.layers:
        layer.gate.bias.uniform_(-3, 1)
write_module("highway_small", highway, {"x": torch.randn(3, 20)})


# ---------------------------------------------------------------------------------------------------
# REGRESSIONS: the smallest specs on which the interpreter once disagreed with PyTorch, found by
# probing every op; each fixture writes its spec (model.arch) too. Two more disagreements (window
# attention with qknorm, and with dim / out / qkv layouts other than packed) are now errors of the
# checker, in Fixtures/bad/window_attention_options.arch.


def write_regression(name, spec, build):
    """build() -> (module, inputs): the spec, the module's state_dict, its inputs and its output."""
    known.add(name)
    if only and name not in only:
        return
    model, inputs = build()
    model.eval()
    with torch.no_grad():
        y = model(*inputs.values())
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "model.arch"), "w") as f:
        f.write(spec)
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, os.path.join(d, "weights.safetensors"))
    for i, (k, v) in enumerate(inputs.items()):
        np.save(os.path.join(d, "input.npy" if i == 0 else f"{k}.npy"), v.numpy())
    np.save(os.path.join(d, "output.npy"), y.numpy())
    print(name, tuple(y.shape), float(y.abs().max()))


class Only(nn.Module):
    """One labelled layer: forward(x) = fn(layer, x)."""

    def __init__(self, label, layer, fn=lambda layer, x: layer(x)):
        super().__init__()
        self.label, self.fn = label, fn
        self.add_module(label, layer)

    def forward(self, x):
        return self.fn(getattr(self, self.label), x)


def seeded(seed, fn):
    def build():
        torch.manual_seed(seed)
        return fn()
    return build


# 1. `pad same` when dilation x (kernel - 1) is odd (an even kernel): PyTorch pads the extra row and column
#    at the end (left = total // 2, right = total - left); the interpreter once computed a 7x7 result.
write_regression("regress_conv_same_even_kernel", "model p\ninput x 2x8x8\nc: conv 4 3 pad same\n",
                   seeded(20, lambda: (Only("c", nn.Conv2d(2, 3, 4, padding="same")), {"x": torch.randn(2, 2, 8, 8)})))

# 2. rmsnorm without eps: nn.RMSNorm(eps=None) uses torch.finfo(float32).eps = 1.19e-7 (the interpreter
#    once used 1e-6, which shows once mean(x^2) is small: here inputs of size ~0.01).
write_regression("regress_rmsnorm_default_eps", "model p\ninput x 5x16\nn: rmsnorm\n",
                   seeded(21, lambda: (Only("n", randomise_norms(nn.RMSNorm(16))), {"x": 0.01 * torch.randn(2, 5, 16)})))


def small_qk_attention(norm_layer):
    from timm.layers import Attention
    a = Attention(16, 4, qkv_bias=True, qk_norm=True, norm_layer=norm_layer)
    with torch.no_grad():
        for p in a.parameters():
            nn.init.normal_(p, std=0.3)
        a.qkv.weight.mul_(0.005)  # small q and k: the norms' eps shows
        a.qkv.bias.mul_(0.005)
        a.q_norm.weight.normal_(0, 2)  # large normalised q and k: attention far from uniform
        a.k_norm.weight.normal_(0, 2)
    return Only("attn", a), {"x": torch.randn(2, 6, 16)}


# 3. qknorm layer: timm's Attention(qk_norm=True, norm_layer=nn.LayerNorm) and archc's own `emit torch`
#    normalise q and k with nn.LayerNorm's eps 1e-5 (the interpreter once used 1e-6; visible when q, k are small).
write_regression("regress_qknorm_layer_eps", "model p\ninput x 6x16\nattn: attention heads 4 qknorm layer\n",
                   seeded(22, lambda: small_qk_attention(nn.LayerNorm)))




# ---------------------------------------------------------------------------------------------------
# ISSUE 10's ATTENTION: networks as their reference code writes them, their checkpoints unchanged.
# transformers' LlamaForCausalLM (grouped-query heads, rope half, RMSNorm, SwiGLU, tied head, a padding
# mask) saved by save_pretrained itself; BertModel under its own names on a padded batch; and op
# coverage in plain PyTorch with transformers' own rotary functions and timm's PVT attention.

def write_pretrained(name, model, inputs, output):
    """The checkpoint exactly as transformers writes it (save_pretrained: tied tensors once), inputs, output."""
    known.add(name)
    if only and name not in only:
        return
    import shutil
    import tempfile
    d = os.path.join(root, name)
    os.makedirs(d, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        model.save_pretrained(tmp)
        shutil.copy(os.path.join(tmp, "model.safetensors"), os.path.join(d, "weights.safetensors"))
    for i, (k, v) in enumerate(inputs.items()):
        np.save(os.path.join(d, "input.npy" if i == 0 else f"{k}.npy"), v.numpy())
    np.save(os.path.join(d, "output.npy"), output.numpy())
    print(name, tuple(output.shape), float(output.abs().max()))


def spread(model, std=0.15, embed=1.0):
    """Weights far from transformers' init (std 0.02, which leaves attention nearly uniform and rotary
    positions nearly invisible); norm weights around 1."""
    with torch.no_grad():
        for n, p in model.named_parameters():
            if "norm" in n.lower():
                p.uniform_(0.5, 1.5) if n.endswith("weight") else p.uniform_(-0.5, 0.5)
            elif "embed" in n:
                p.normal_(0, embed)
            else:
                p.normal_(0, std)
    return model


# LLaMA-3.2-style (tied head, rope base 500000) at width 64: 2 layers, 4 heads of 16, 2 key/value heads;
# two sequences, the second right-padded (attention_mask 0 on its last 3 tokens).
from transformers import LlamaConfig, LlamaForCausalLM
torch.manual_seed(30)
llama = spread(LlamaForCausalLM(LlamaConfig(vocab_size=100, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                            num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=32,
                                            rms_norm_eps=1e-5, rope_theta=500000.0, tie_word_embeddings=True))).eval()
ids = torch.randint(0, 100, (2, 9))
mask = torch.tensor([[1] * 9, [1] * 6 + [0] * 3])
with torch.no_grad():
    logits = llama(input_ids=ids, attention_mask=mask).logits
write_pretrained("llama_small", llama, {"input_ids": ids, "attention_mask": mask}, logits)

# BERT under transformers' own names (no renaming), a padded batch: the second sequence has 6 tokens and 3 of padding.
torch.manual_seed(31)
bert = spread(BertModel(BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                                   max_position_embeddings=16)), std=0.2, embed=0.5).eval()
ids = torch.randint(1, 100, (2, 9))
ids[1, 6:] = 0
types = torch.tensor([[0] * 4 + [1] * 5, [0] * 3 + [1] * 3 + [0] * 3])
mask = torch.tensor([[1] * 9, [1] * 6 + [0] * 3])
with torch.no_grad():
    pooled = bert(input_ids=ids, token_type_ids=types, attention_mask=mask).pooler_output
write_pretrained("bert_masked", bert, {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}, pooled)


class RotaryAttention(nn.Module):
    """Grouped-query attention with rotary positions in plain PyTorch, the rotations by transformers' own
    functions (GPT-J's interleaved pairs, LLaMA's rotate_half): projections laid out as `parts` says
    (names -> which of q, k, v each holds), q/k RMSNorm, causal and key padding masks."""

    def __init__(self, d, heads, kv, parts, out, rope, base=10000.0, qknorm=False, causal=False):
        super().__init__()
        self._heads, self._kv, self._dh, self._rope, self._base, self._causal = heads, kv, d // heads, rope, base, causal
        widths = {"q": d, "k": kv * self._dh, "v": kv * self._dh}
        self._parts = parts
        for name, ps in parts.items():
            self.add_module(name, nn.Linear(d, sum(widths[p] for p in ps)))
        if qknorm:
            self.q_norm, self.k_norm = nn.RMSNorm(self._dh), nn.RMSNorm(self._dh)
        self.add_module(out, nn.Linear(d, d))
        self._out = out

    def turn(self, t):  # t [b, n, heads, dh]
        from transformers.models.gptj.modeling_gptj import apply_rotary_pos_emb as gptj_rotary
        from transformers.models.llama.modeling_llama import apply_rotary_pos_emb as llama_rotary
        n = t.shape[1]
        inv = 1.0 / (self._base ** (torch.arange(0, self._dh, 2, dtype=torch.float) / self._dh))
        angles = torch.arange(n, dtype=torch.float)[:, None] * inv
        if self._rope == "interleaved":
            return gptj_rotary(t, angles.sin()[None], angles.cos()[None])
        emb = torch.cat([angles, angles], -1)[None]
        return llama_rotary(t.transpose(1, 2), t.transpose(1, 2), emb.cos(), emb.sin())[0].transpose(1, 2)

    def forward(self, x, keep=None):
        y = torch.cat([getattr(self, name)(x) for name in self._parts], -1)
        q, k, v = y.split([self._heads * self._dh, self._kv * self._dh, self._kv * self._dh], -1)
        q, k, v = (t.unflatten(-1, (-1, self._dh)) for t in (q, k, v))  # [b, n, heads, dh]
        if hasattr(self, "q_norm"):
            q, k = self.q_norm(q), self.k_norm(k)
        if self._rope:
            q, k = self.turn(q), self.turn(k)
        k, v = (t.repeat_interleave(self._heads // self._kv, 2) for t in (k, v))
        s = torch.einsum("bnhd,bmhd->bhnm", q, k) / self._dh ** 0.5
        n = x.shape[1]
        if self._causal:
            s = s.masked_fill(torch.ones(n, n, dtype=torch.bool).triu(1), float("-inf"))
        if keep is not None:
            s = s.masked_fill(keep[:, None, None, :] == 0, float("-inf"))
        o = torch.einsum("bhnm,bmhd->bnhd", s.softmax(-1).nan_to_num(0.0), v)
        return getattr(self, self._out)(o.flatten(2))


class OpsAttention(nn.Module):
    """ops_attention_small: GQA with GPT-J's interleaved rope, causal and padding masks (packed qkv);
    timm's PVT v2 spatial-reduction attention (q, kv, proj, sr, norm) behind a norm; multi-query
    attention with TNT's qk_v layout, q/k RMSNorm and LLaMA's rope half; q_kv self-attention;
    nn.MultiheadAttention across to a memory (its in_proj_weight split between the two)."""

    def __init__(self):
        super().__init__()
        from timm.models.pvt_v2 import Attention as PvtAttention
        self.gqa = RotaryAttention(32, 4, 2, {"qkv": "qkv"}, "proj", "interleaved", causal=True)
        self.norm1 = nn.LayerNorm(32)
        self.attn = PvtAttention(32, num_heads=2, sr_ratio=2)
        self.mqa = RotaryAttention(32, 4, 1, {"qk": "qk", "v": "v"}, "proj", "half", base=100.0, qknorm=True)
        self.sa = RotaryAttention(32, 2, 2, {"q": "q", "kv": "kv"}, "proj", None)
        self.cross = nn.MultiheadAttention(32, 4, batch_first=True)
        self.head = nn.Linear(32, 6)

    def forward(self, x, keep, mem):
        x = x + self.gqa(x, keep)
        x = x + self.attn(self.norm1(x), (4, 4))
        x = x + self.mqa(x)
        x = x + self.sa(x)
        x = x + self.cross(x, mem, mem, need_weights=False)[0]
        return self.head(x)


torch.manual_seed(32)
ops_attention = randomise_norms(OpsAttention())
with torch.no_grad():  # larger q, k: attention far from uniform, rotary positions visible
    for a in (ops_attention.gqa.qkv, ops_attention.mqa.qk, ops_attention.sa.q, ops_attention.sa.kv, ops_attention.attn.q, ops_attention.attn.kv):
        nn.init.normal_(a.weight, std=0.4)
    nn.init.normal_(ops_attention.cross.in_proj_weight, std=0.4)
    ops_attention.cross.in_proj_bias.uniform_(-0.5, 0.5)
keep = torch.tensor([[1.0] * 16, [1.0] * 5 + [0.0, 1.0, 0.0] + [1.0] * 8])  # example 2: keys 5 and 7 masked
write_module("ops_attention_small", ops_attention, {"x": torch.randn(2, 16, 32), "keep": keep, "mem": torch.randn(2, 5, 32)})


unknown = only - known
if unknown:
    sys.exit(f"unknown fixture(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")

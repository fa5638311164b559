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
    renames = {"ln_1": "norm1", "ln_2": "norm2", "attn.c_attn": "attn.qkv", "attn.c_proj": "attn.proj", "mlp.c_fc": "mlp.fc1", "mlp.c_proj": "mlp.fc2"}
    state = {}
    for k, v in gpt.state_dict().items():
        if k == "lm_head.weight" or k.endswith(".attn.bias") or k.endswith(".attn.masked_bias"):
            continue  # tied to wte; causal-mask buffers
        k = k.removeprefix("transformer.")
        for a, b in renames.items():
            k = k.replace(a, b)
        state[k] = v.t() if k.endswith(("qkv.weight", "proj.weight", "fc1.weight", "fc2.weight")) else v
    return state


write_converted("gpt2_small", gpt, {"input_ids": ids}, logits, gpt2_state(gpt))

bert = BertModel(BertConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
                            max_position_embeddings=16, attn_implementation="eager")).eval()
ids = torch.randint(0, 100, (2, 9))
types = torch.randint(0, 2, (2, 9))
with torch.no_grad():
    pooled = bert(input_ids=ids, token_type_ids=types).pooler_output
sd = bert.state_dict()
state = {}
for k, v in sd.items():
    if k.startswith("embeddings.") and not k.endswith(("position_ids", "token_type_ids")):
        state[k] = v
    elif k.startswith("pooler."):
        state[k] = v
for i in range(2):
    p = f"encoder.layer.{i}."
    q = [sd[p + f"attention.self.{n}.weight"] for n in ("query", "key", "value")]
    qb = [sd[p + f"attention.self.{n}.bias"] for n in ("query", "key", "value")]
    state[p + "attn.qkv.weight"], state[p + "attn.qkv.bias"] = torch.cat(q), torch.cat(qb)
    for src, dst in [("attention.output.dense", "attn.proj"), ("attention.output.LayerNorm", "norm1"),
                     ("intermediate.dense", "mlp.fc1"), ("output.dense", "mlp.fc2"), ("output.LayerNorm", "norm2")]:
        state[p + dst + ".weight"], state[p + dst + ".bias"] = sd[p + src + ".weight"], sd[p + src + ".bias"]
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

unknown = only - known
if unknown:
    sys.exit(f"unknown fixture(s): {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")

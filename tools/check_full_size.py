#!/usr/bin/env python3
"""Developer tool: full-size networks through `archc run` against PyTorch.

For each spec, two checks:
- names: the weights `archc init` writes load into the library's module with strict=True;
- numerics: the library module with its own initialisation (and randomised BatchNorm statistics,
  so folding them is tested) is saved with safetensors' save_file, `archc run` runs it, and the
  largest difference from PyTorch's output on the same random input is printed. (The library's own
  initialisation keeps the signal alive; heads the libraries start at zero get small random weights through deep networks such as MobileNetV2, where nn's default
  initialisation, which `archc init` follows, shrinks the features to almost nothing.)
For the text specs (llama: transformers' LlamaForCausalLM with TinyLlama-1.1B's configuration and its
own initialisation), the input is 32 random token ids, and the model is freed before archc runs
(4.4 GB of weights each). Needs torch, torchvision, timm and transformers:
    python3 tools/check_full_size.py [--archc .build/release/archc] [spec ...]
"""
import argparse
import subprocess
import tempfile
import numpy as np
import torch
import timm
import torchvision
from safetensors.torch import load_file, save_file

MODELS = {"resnet18": torchvision.models.resnet18, "resnet50": torchvision.models.resnet50,
          "alexnet": torchvision.models.alexnet, "mobilenet_v2": torchvision.models.mobilenet_v2,
          "vit_b16": torchvision.models.vit_b_16, "swin_t": torchvision.models.swin_t,
          "mixer_b16": lambda: timm.create_model("mixer_b16_224", pretrained=False),
          "gmlp_s16": lambda: timm.create_model("gmlp_s16_224", pretrained=False),
          "gmlp_ti16": lambda: timm.create_model("gmlp_ti16_224", pretrained=False),
          "convmixer_768_32": lambda: timm.create_model("convmixer_768_32", pretrained=False),
          "densenet121": torchvision.models.densenet121, "convnext_t": torchvision.models.convnext_tiny,
          "deit_s_distilled": lambda: timm.create_model("deit_small_distilled_patch16_224", pretrained=False)}



def tinyllama():
    from transformers import LlamaConfig, LlamaForCausalLM
    return LlamaForCausalLM(LlamaConfig(vocab_size=32000, hidden_size=2048, intermediate_size=5632, num_hidden_layers=22,
                                        num_attention_heads=32, num_key_value_heads=4, max_position_embeddings=2048,
                                        rms_norm_eps=1e-5, rope_theta=10000.0, tie_word_embeddings=False))


TEXT = {"llama": tinyllama}


def check_text(name, archc, tmp):
    """The library's model and archc's on the same 32 token ids; names checked through `archc init`."""
    w, y, ids = f"{tmp}/{name}.safetensors", f"{tmp}/{name}.npy", f"{tmp}/ids.npy"
    np.save(ids, np.random.RandomState(0).randint(0, 32000, (1, 32)).astype(np.int64))
    subprocess.run([archc, "init", f"specs/{name}.arch", "-o", w, "--seed", "1"], check=True, capture_output=True)
    m = TEXT[name]().eval()
    m.load_state_dict(load_file(w), strict=True)
    m = TEXT[name]().eval()
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, w)
    with torch.no_grad():
        ref = m(torch.from_numpy(np.load(ids))).logits.numpy()
    del m
    run = subprocess.run([archc, "run", f"specs/{name}.arch", "--weights", w, "--input", ids, "--output", y],
                         check=True, capture_output=True, text=True)
    got = np.load(y)
    diff, scale = float(np.abs(ref - got).max()), max(1.0, float(np.abs(ref).max()))
    print(f"{name:16s} names ok  max|ref| {np.abs(ref).max():.4g}  std(ref) {ref.std():.3g}  max|diff| {diff:.3g}  "
          f"{'ok' if diff <= 1e-4 * scale else 'MISMATCH'}  ({run.stdout.splitlines()[0]})")


ap = argparse.ArgumentParser()
ap.add_argument("--archc", default=".build/release/archc")
ap.add_argument("specs", nargs="*")
args = ap.parse_args()
tmp = tempfile.mkdtemp()
x = np.random.RandomState(0).rand(1, 3, 224, 224).astype(np.float32)
np.save(f"{tmp}/x.npy", x)
torch.manual_seed(0)
for name in args.specs or list(MODELS) + list(TEXT):
    if name in TEXT:
        check_text(name, args.archc, tmp)
        continue
    w, y = f"{tmp}/{name}.safetensors", f"{tmp}/{name}.npy"
    subprocess.run([args.archc, "init", f"specs/{name}.arch", "-o", w, "--seed", "1"], check=True, capture_output=True)
    m = MODELS[name]().eval()
    m.load_state_dict(load_file(w), strict=True)
    m = MODELS[name]().eval()
    for mod in m.modules():
        if isinstance(mod, torch.nn.BatchNorm2d):
            mod.running_mean.uniform_(-0.5, 0.5)
            mod.running_var.uniform_(0.5, 1.5)
            mod.weight.data.uniform_(0.5, 1.5)
            mod.bias.data.uniform_(-0.5, 0.5)
        for pname, p in mod.named_parameters(recurse=False):
            if pname == "layer_scale":  # ConvNeXt's starts at 1e-6: its blocks would add nothing
                p.data.uniform_(0.1, 0.3)
        if isinstance(mod, torch.nn.Linear) and not mod.weight.any():
            # torchvision's ViT and timm's Mixer / gMLP start their heads at zero: an all-zero output.
            torch.nn.init.normal_(mod.weight, std=0.02)
    save_file({k: v.contiguous() for k, v in m.state_dict().items()}, w)
    run = subprocess.run([args.archc, "run", f"specs/{name}.arch", "--weights", w, "--input", f"{tmp}/x.npy", "--output", y],
                         check=True, capture_output=True, text=True)
    with torch.no_grad():
        ref = m(torch.from_numpy(x)).numpy()
    got = np.load(y)
    diff = float(np.abs(ref - got).max())
    scale = max(1.0, float(np.abs(ref).max()))
    print(f"{name:16s} names ok  max|ref| {np.abs(ref).max():.4g}  std(ref) {ref.std():.3g}  max|diff| {diff:.3g}  "
          f"{'ok' if diff <= 1e-4 * scale else 'MISMATCH'}  ({run.stdout.splitlines()[0]})")

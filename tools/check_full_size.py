#!/usr/bin/env python3
"""Developer tool: full-size networks through `archc run` against PyTorch.

For each spec: `archc init` writes random PyTorch-style weights, torchvision loads them with
strict=True (so the names are exactly its own), both run the same random input, and the largest
difference is printed. Needs torch, torchvision and timm:
    python3 tools/check_full_size.py [--archc .build/release/archc] [spec ...]
"""
import argparse
import subprocess
import tempfile
import numpy as np
import torch
import timm
import torchvision
from safetensors.torch import load_file

MODELS = {"resnet18": torchvision.models.resnet18, "resnet50": torchvision.models.resnet50,
          "alexnet": torchvision.models.alexnet, "mobilenet_v2": torchvision.models.mobilenet_v2,
          "vit_b16": torchvision.models.vit_b_16, "swin_t": torchvision.models.swin_t,
          "mixer_b16": lambda: timm.create_model("mixer_b16_224", pretrained=False),
          "gmlp_s16": lambda: timm.create_model("gmlp_s16_224", pretrained=False),
          "gmlp_ti16": lambda: timm.create_model("gmlp_ti16_224", pretrained=False),
          "convmixer_768_32": lambda: timm.create_model("convmixer_768_32", pretrained=False)}

ap = argparse.ArgumentParser()
ap.add_argument("--archc", default=".build/release/archc")
ap.add_argument("specs", nargs="*")
args = ap.parse_args()
tmp = tempfile.mkdtemp()
x = np.random.RandomState(0).rand(1, 3, 224, 224).astype(np.float32)
np.save(f"{tmp}/x.npy", x)
for name in args.specs or MODELS:
    w, y = f"{tmp}/{name}.safetensors", f"{tmp}/{name}.npy"
    subprocess.run([args.archc, "init", f"specs/{name}.arch", "-o", w, "--seed", "1"], check=True, capture_output=True)
    run = subprocess.run([args.archc, "run", f"specs/{name}.arch", "--weights", w, "--input", f"{tmp}/x.npy", "--output", y],
                         check=True, capture_output=True, text=True)
    m = MODELS[name]().eval()
    m.load_state_dict(load_file(w), strict=True)
    with torch.no_grad():
        ref = m(torch.from_numpy(x)).numpy()
    got = np.load(y)
    diff = float(np.abs(ref - got).max())
    scale = max(1.0, float(np.abs(ref).max()))
    print(f"{name:14s} max|ref| {np.abs(ref).max():.4g}  max|diff| {diff:.3g}  {'ok' if diff <= 1e-4 * scale else 'MISMATCH'}  ({run.stdout.splitlines()[0]})")

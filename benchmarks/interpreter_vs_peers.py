#!/usr/bin/env python3
"""Interpreter latency at batch 1 next to PyTorch eager and ONNX Runtime, measured in the same run.

Each engine runs the same network with the same random weights (archc init -> loaded into the
torchvision/timm module -> exported to ONNX), 2 threads, median of N runs after a warm-up.
Needs torch, torchvision, timm and onnxruntime:
    swift build -c release --product archc && python3 benchmarks/interpreter_vs_peers.py [--runs 10]
"""
import argparse
import re
import statistics
import subprocess
import tempfile
import time
import numpy as np
import onnxruntime as ort
import timm
import torch
import torchvision
from safetensors.torch import load_file

MODELS = {"resnet18": torchvision.models.resnet18, "vit_b16": torchvision.models.vit_b_16,
          "gmlp_s16": lambda: timm.create_model("gmlp_s16_224", pretrained=False),
          "mobilenet_v2": torchvision.models.mobilenet_v2, "alexnet": torchvision.models.alexnet}

ap = argparse.ArgumentParser()
ap.add_argument("--archc", default=".build/release/archc")
ap.add_argument("--runs", type=int, default=10)
ap.add_argument("specs", nargs="*")
args = ap.parse_args()
torch.set_num_threads(2)
tmp = tempfile.mkdtemp()
x = np.random.RandomState(0).rand(1, 3, 224, 224).astype(np.float32)
np.save(f"{tmp}/x.npy", x)
print(f"{'network':10s} {'archc (ms)':>11s} {'torch eager':>12s} {'onnxruntime':>12s} {'archc / ORT':>12s}")
for name in args.specs or MODELS:
    w = f"{tmp}/{name}.safetensors"
    subprocess.run([args.archc, "init", f"specs/{name}.arch", "-o", w], check=True, capture_output=True)
    out = subprocess.run([args.archc, "run", f"specs/{name}.arch", "--weights", w, "--input", f"{tmp}/x.npy", "--repeat", str(args.runs + 1)],
                         check=True, capture_output=True, text=True).stdout
    archc = float(re.search(r"in ([0-9.]+) ms", out).group(1))
    m = MODELS[name]().eval()
    m.load_state_dict(load_file(w), strict=True)
    t = torch.from_numpy(x)
    with torch.no_grad():
        m(t)
        eager = []
        for _ in range(args.runs):
            s = time.perf_counter(); m(t); eager.append((time.perf_counter() - s) * 1000)
    torch.onnx.export(m, (t,), f"{tmp}/{name}.onnx", opset_version=17, dynamo=False)
    so = ort.SessionOptions()
    so.intra_op_num_threads = 2
    sess = ort.InferenceSession(f"{tmp}/{name}.onnx", so, providers=["CPUExecutionProvider"])
    feed = {sess.get_inputs()[0].name: x}
    sess.run(None, feed)
    onnx = []
    for _ in range(args.runs):
        s = time.perf_counter(); sess.run(None, feed); onnx.append((time.perf_counter() - s) * 1000)
    e, o = statistics.median(eager), statistics.median(onnx)
    print(f"{name:10s} {archc:11.1f} {e:12.1f} {o:12.1f} {archc / o:12.2f}")

#!/usr/bin/env python3
"""Developer tool: `archc emit torch` checked against archc itself.

Emits the spec as a PyTorch module, loads weights from `archc init` with strict=True (so every name
and shape is the spec's), runs both on the given inputs and prints the largest difference.
Needs torch and safetensors:
    python3 tools/check_emit_torch.py specs/resnet18.arch image.npy
    python3 tools/check_emit_torch.py specs/bert_base.arch ids.npy token_type_ids=types.npy
"""
import sys, subprocess, importlib.util, numpy as np, torch
from safetensors.torch import load_file
A = ".build/release/archc"
spec, inputs = sys.argv[1], sys.argv[2:]
subprocess.run([A, "emit", "torch", spec, "-o", "/tmp/emitted.py"], check=True)
subprocess.run([A, "init", spec, "-o", "/tmp/emitted.safetensors", "--seed", "3"], check=True, capture_output=True)
args = []
for i in inputs: args += ["--input", i]
subprocess.run([A, "run", spec, "--weights", "/tmp/emitted.safetensors", "--output", "/tmp/emitted_out.npy"] + args, check=True, capture_output=True)
s = importlib.util.spec_from_file_location("emitted", "/tmp/emitted.py"); mod = importlib.util.module_from_spec(s); s.loader.exec_module(mod)
m = mod.Model().eval()
m.load_state_dict(load_file("/tmp/emitted.safetensors"), strict=True)
xs = [torch.from_numpy(np.load(i.split("=")[-1])) for i in inputs]
with torch.no_grad(): ref = m(*xs).numpy()
got = np.load("/tmp/emitted_out.npy")
print(spec.split("/")[-1], "max|ref|", np.abs(ref).max(), "max|diff|", np.abs(ref - got).max(), "names", list(m.state_dict().keys())[:3])

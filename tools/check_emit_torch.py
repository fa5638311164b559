#!/usr/bin/env python3
"""Developer tool: `archc emit torch` checked against archc itself, or against a numerics fixture.

Emits the spec as a PyTorch module, loads weights from `archc init` with strict=True (so every name
and shape is the spec's), runs both on the given inputs and prints the largest difference.
With --fixtures, each fixture's module is emitted from its model.arch, loads the fixture's own
checkpoint (transformers' LLaMA and BERT as saved by save_pretrained, ...) with strict=True and runs
on its inputs against the reference output PyTorch gave.
Needs torch and safetensors:
    python3 tools/check_emit_torch.py specs/resnet18.arch image.npy
    python3 tools/check_emit_torch.py specs/bert_base.arch ids.npy token_type_ids=types.npy
    python3 tools/check_emit_torch.py --fixtures llama_small bert_masked ops_attention_small
"""
import sys, os, subprocess, importlib.util, numpy as np, torch
from safetensors.torch import load_file
A = ".build/release/archc" if os.path.exists(".build/release/archc") else ".build/debug/archc"


def emitted(spec, path):
    subprocess.run([A, "emit", "torch", spec, "-o", path], check=True, capture_output=True)
    s = importlib.util.spec_from_file_location("emitted", path); mod = importlib.util.module_from_spec(s); s.loader.exec_module(mod)
    return mod.Model().eval()


def fixture(name):
    d = f"Tests/ArchTests/Fixtures/numerics/{name}/"
    m = emitted(d + "model.arch", "/tmp/emitted.py")
    m.load_state_dict(load_file(d + "weights.safetensors"), strict=True)
    # The inputs in the spec's order: the first is input.npy, the others NAME.npy.
    names = [l.split()[1] for l in open(d + "model.arch") if l.startswith("input ")]
    xs = [torch.from_numpy(np.load(d + ("input.npy" if i == 0 else f"{n}.npy"))) for i, n in enumerate(names)]
    with torch.no_grad(): y = m(*xs).numpy()
    ref = np.load(d + "output.npy")
    print(name, "max|ref|", np.abs(ref).max(), "max|diff|", np.abs(ref - y).max())


if sys.argv[1] == "--fixtures":
    for name in sys.argv[2:]:
        fixture(name)
    sys.exit(0)
spec, inputs = sys.argv[1], sys.argv[2:]
subprocess.run([A, "init", spec, "-o", "/tmp/emitted.safetensors", "--seed", "3"], check=True, capture_output=True)
args = []
for i in inputs: args += ["--input", i]
subprocess.run([A, "run", spec, "--weights", "/tmp/emitted.safetensors", "--output", "/tmp/emitted_out.npy"] + args, check=True, capture_output=True)
m = emitted(spec, "/tmp/emitted.py")
m.load_state_dict(load_file("/tmp/emitted.safetensors"), strict=True)
xs = [torch.from_numpy(np.load(i.split("=")[-1])) for i in inputs]
with torch.no_grad(): ref = m(*xs).numpy()
got = np.load("/tmp/emitted_out.npy")
print(spec.split("/")[-1], "max|ref|", np.abs(ref).max(), "max|diff|", np.abs(ref - got).max(), "names", list(m.state_dict().keys())[:3])

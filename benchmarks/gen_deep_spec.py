#!/usr/bin/env python3
"""Writes a spec with N layers (a deep MLP of alternating linear/relu/layernorm lines) to stdout.

    python3 benchmarks/gen_deep_spec.py 10000 > /tmp/deep10k.arch
"""
import sys

n = int(sys.argv[1]) if len(sys.argv) > 1 else 10000
print(f"# generated: {n} layers")
print(f"model deep{n}")
print("input x [seq, 256]")
kinds = ["linear 256", "relu", "layernorm"]
for i in range(n):
    print(kinds[i % 3])

#!/usr/bin/env python3
"""The peer for benchmarks/gemm-bench: numpy (OpenBLAS) on the same shapes, median of 7 runs.
    OPENBLAS_NUM_THREADS=1 python3 benchmarks/gemm_numpy.py
"""
import time
import numpy as np

shapes = [("square 512", 512, 512, 512), ("square 1024", 1024, 1024, 1024),
          ("vit qkv (197x2304x768)", 197, 2304, 768), ("vit mlp fc1 (197x3072x768)", 197, 3072, 768),
          ("vit mlp fc2 (197x768x3072)", 197, 768, 3072), ("gpt2 qkv (128x2304x768)", 128, 2304, 768),
          ("batch 8 vit fc1 (1576x3072x768)", 1576, 3072, 768),
          ("resnet conv3x3 (64x3136x576)", 64, 3136, 576), ("resnet conv3x3 (256x196x2304)", 256, 196, 2304)]
for name, m, n, k in shapes:
    a = np.random.rand(m, k).astype(np.float32)
    b = np.random.rand(k, n).astype(np.float32)
    ts = []
    for _ in range(8):
        t = time.perf_counter()
        a @ b
        ts.append(time.perf_counter() - t)
    med = sorted(ts[1:])[3]
    print(f"{name:40s} {med * 1e3:8.2f} ms {2 * m * n * k / med / 1e9:8.1f} GFLOP/s")

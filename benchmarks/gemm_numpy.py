#!/usr/bin/env python3
"""The peer for benchmarks/gemm-bench: numpy (OpenBLAS) on the same shapes (gemm_shapes.txt), median of
7 runs after a warm-up. BENCH_CLOCK=cpu times by process CPU time (use with one thread).
    OPENBLAS_NUM_THREADS=1 python3 benchmarks/gemm_numpy.py [only the cases whose name contains this]
"""
import os
import sys
import time
import numpy as np

clock = time.process_time if os.environ.get("BENCH_CLOCK") == "cpu" else time.perf_counter
only = sys.argv[1] if len(sys.argv) > 1 else ""
here = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(0)
for line in open(os.path.join(here, "gemm_shapes.txt")):
    f = line.split()
    if len(f) != 5 or f[0].startswith("#") or only not in f[0]:
        continue
    name, m, n, k, kind = f[0], int(f[1]), int(f[2]), int(f[3]), f[4]
    a = rng.random((m, k), dtype=np.float32)
    # A linear layer's weight is [n, k] and used transposed, 12 of them in turn (from memory, as in a network).
    weights = [rng.random((n, k), dtype=np.float32) for _ in range(12 if kind == "linear" else 1)]
    b = rng.random((k, n), dtype=np.float32)
    ts = []
    for run in range(8):
        t = clock()
        if kind == "linear":
            a @ weights[run % 12].T
        else:
            a @ b
        ts.append(clock() - t)
    med = sorted(ts[1:])[3]
    print(f"{name:40s} {med * 1e3:8.2f} ms {2 * m * n * k / med / 1e9:8.1f} GFLOP/s  (best {min(ts[1:]) * 1e3:.2f} ms)")

#!/usr/bin/env bash
# archc's SGEMM next to numpy/OpenBLAS, on 1 and 2 threads, in the same run.
#   bash benchmarks/gemm.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product gemm-bench >/dev/null
for t in 1 2; do
  echo "== $t thread(s): archc"
  .build/release/gemm-bench $t
  echo "== $t thread(s): numpy"
  OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t python3 benchmarks/gemm_numpy.py
done

#!/usr/bin/env bash
# Developer tool: every spec in specs/ through `archc init` and `archc run` (release build) on a
# random input at batch 1 (16 tokens for sequence inputs), printing each output's shape and time.
# The test suite runs the specs under 30M parameters; this covers the large ones too. Needs numpy.
#   bash tools/run_every_spec.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product archc >/dev/null
archc=.build/release/archc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for spec in specs/*.arch; do
  name=$(basename "$spec" .arch)
  sets=(--set batch=1)
  grep -qE "^input .*\bseq\b" "$spec" && sets+=(--set seq=16)
  "$archc" init "$spec" -o "$tmp/w.safetensors" "${sets[@]}" >/dev/null
  # One .npy per declared input, from the shapes `archc ir` prints (token ids 0 and 1, valid for any vocabulary, token types included).
  args=()
  while read -r input shape kind; do
    python3 - "$tmp/$input.npy" "$shape" "$kind" <<'PY'
import sys, numpy as np
path, shape, kind = sys.argv[1], [int(s) for s in sys.argv[2].split(",")], sys.argv[3]
rng = np.random.default_rng(0)
np.save(path, rng.integers(0, 2, shape).astype(np.int64) if kind == "ids" else rng.uniform(-1, 1, shape).astype(np.float32))
PY
    args+=(--input "$input=$tmp/$input.npy")
  done < <("$archc" ir "$spec" --after lower "${sets[@]}" | sed -n 's/^  %[0-9]* = input \([A-Za-z_0-9]*\) : \[\([0-9, ]*\)\].*/\1 \2/p' |
           while read -r input rest; do
             shape=$(echo "$rest" | tr -d ' ')
             kind=float; grep -q "^input $input .*tokens" "$spec" && kind=ids
             echo "$input $shape $kind"
           done)
  printf '%-18s ' "$name"
  "$archc" run "$spec" --weights "$tmp/w.safetensors" "${args[@]}" "${sets[@]}" | head -1
done

#!/usr/bin/env bash
# Developer tool: every spec in specs/ built with `archc build` at full size (batch 1, 16 tokens for
# sequence inputs) and run next to `archc run` on the same weights and random inputs; prints the
# largest difference (relative to max(1, max |output|)), which must stay within 1e-4, and both times.
# Needs numpy. About 30 s per spec (the swiftc stage).
#   bash tools/build_every_spec.sh [spec ...]
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product archc >/dev/null
archc=.build/release/archc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(specs/*.arch)
failed=0
for spec in "${specs[@]}"; do
  name=$(basename "$spec" .arch)
  sets=(--set batch=1)
  grep -qE "^input .*\bseq\b" "$spec" && sets+=(--set seq=16)
  "$archc" init "$spec" -o "$tmp/w.safetensors" "${sets[@]}" >/dev/null
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
  "$archc" build "$spec" -o "$tmp/$name" "${sets[@]}" 2>"$tmp/build.log" || { echo "$name: build failed"; cat "$tmp/build.log"; failed=1; continue; }
  built=$("$tmp/$name" --weights "$tmp/w.safetensors" "${args[@]}" --output "$tmp/built.npy" --bench 5 | tail -1)
  ran=$("$archc" run "$spec" --weights "$tmp/w.safetensors" "${args[@]}" "${sets[@]}" --output "$tmp/run.npy" --repeat 5 | head -1)
  python3 - "$tmp/built.npy" "$tmp/run.npy" "$name" "$built" "$ran" <<'PY' || failed=1
import sys, numpy as np
a, b = np.load(sys.argv[1]), np.load(sys.argv[2])
scale = max(1.0, float(np.abs(b).max()))
diff = float(np.abs(a - b).max()) if a.shape == b.shape else float("inf")
ok = diff <= 1e-4 * scale
print(f"{sys.argv[3]:18s} {'ok' if ok else 'MISMATCH'}  max|built - run| {diff:.3g}  built {sys.argv[4]}  run: {sys.argv[5]}")
sys.exit(0 if ok else 1)
PY
done
exit $failed

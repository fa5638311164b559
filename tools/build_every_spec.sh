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
source tools/spec_inputs.sh
specs=("$@")
[ ${#specs[@]} -gt 0 ] || specs=(specs/*.arch)
failed=0
for spec in "${specs[@]}"; do
  name=$(basename "$spec" .arch)
  spec_inputs
  "$archc" init "$spec" -o "$tmp/w.safetensors" "${sets[@]}" >/dev/null
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

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
source tools/spec_inputs.sh
for spec in specs/*.arch; do
  name=$(basename "$spec" .arch)
  spec_inputs
  "$archc" init "$spec" -o "$tmp/w.safetensors" "${sets[@]}" >/dev/null
  printf '%-18s ' "$name"
  "$archc" run "$spec" --weights "$tmp/w.safetensors" "${args[@]}" "${sets[@]}" | head -1
done

#!/usr/bin/env bash
# Developer tool: every spec in specs/ exported with `archc export onnx` at full size (release build),
# checked with onnx.checker (full_check) and run in ONNX Runtime against `archc run` on the same
# weights (archc init's) and inputs (tools/spec_inputs.sh: batch 1, seq 16). The batch is exported
# symbolic (--dynamic batch) and also run at batch 2. Prints each spec's max |diff| and its limit,
# 1e-4 x max(1, max |ref|). Needs numpy for the inputs, and onnx + onnxruntime for $PYTHON (default
# python3; e.g. PYTHON=.build/crosscheck-venv/bin/python, the test suite's environment).
#   bash tools/check_onnx_export.sh [SPEC.arch ...]
set -euo pipefail
cd "$(dirname "$0")/.."
python=${PYTHON:-python3}
"$python" -c "import onnx, onnxruntime" 2>/dev/null || { echo "error: $python lacks onnx or onnxruntime (set PYTHON=...)" >&2; exit 1; }
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
  "$archc" init "$spec" -o "$tmp/$name.safetensors" "${sets[@]}" >/dev/null
  "$archc" run "$spec" --weights "$tmp/$name.safetensors" "${args[@]}" "${sets[@]}" --output "$tmp/$name.ref.npy" >/dev/null
  exports=(--dynamic batch)
  for s in "${sets[@]}"; do case "$s" in --set|batch=*) ;; *) exports+=(--set "$s") ;; esac; done
  "$archc" export onnx "$spec" --weights "$tmp/$name.safetensors" -o "$tmp/$name.onnx" "${exports[@]}" | sed -n 1p
  feeds=""
  for ((i = 1; i < ${#args[@]}; i += 2)); do feeds+="${feeds:+, }\"${args[i]%%=*}\": \"${args[i]#*=}\""; done
  echo "{\"cases\": [{\"name\": \"$name\", \"model\": \"$tmp/$name.onnx\", \"inputs\": {$feeds}, \"reference\": \"$tmp/$name.ref.npy\", \"repeat\": 2}]}" > "$tmp/cases.json"
  "$python" tools/onnx_crosscheck.py "$tmp/cases.json" | sed -n 1p || failed=$((failed + 1))
  rm -f "$tmp"/*
done
echo "${#specs[@]} specs, $failed failed"
[ "$failed" = 0 ]

# Shared by tools/run_every_spec.sh and tools/build_every_spec.sh (sourced): for the spec $spec,
# sets `sets` (--set batch=1, and seq=16 when its inputs have a seq) and `args` (one --input
# NAME=FILE.npy per declared input, written to $tmp: random features in [-1, 1), token ids 0 and 1,
# valid for any vocabulary, token types included). Needs $archc, $tmp and numpy.
spec_inputs() {
  sets=(--set batch=1)
  grep -qE "^input .*\bseq\b" "$spec" && sets+=(--set seq=16)
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
}

#!/usr/bin/env bash
# Times `archc check` (release build) on every spec in specs/ and on generated specs of
# 1,000 / 10,000 / 20,000 layers (the last two show that the time grows linearly).
# Prints the median of 9 runs of each, in milliseconds, whole process included.
#   bash benchmarks/check_speed.sh
set -euo pipefail
cd "$(dirname "$0")/.."
swift build -c release --product archc >/dev/null
bin=.build/release/archc
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
for n in 1000 10000 20000; do python3 benchmarks/gen_deep_spec.py $n > "$tmp/deep$n.arch"; done
printf "%-28s %10s\n" "spec" "median ms"
for f in specs/*.arch "$tmp"/deep1000.arch "$tmp"/deep10000.arch "$tmp"/deep20000.arch; do
  ts=()
  for _ in $(seq 9); do
    s=$(date +%s%N); "$bin" check "$f" --set seq=128 >/dev/null 2>&1 || true; e=$(date +%s%N)
    ts+=($(( (e - s) / 1000 )))
  done
  med=$(printf "%s\n" "${ts[@]}" | sort -n | sed -n 5p)
  printf "%-28s %10s\n" "$(basename "$f")" "$(awk -v u="$med" 'BEGIN { printf "%.1f", u / 1000 }')"
done

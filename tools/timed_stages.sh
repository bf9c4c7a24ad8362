#!/usr/bin/env bash
# Run `make STAGE` for each stage in turn, stop at the first failure, and print how long each took
# (also written to _build/test-stages.txt, which benchmarks/chapter_times.py prints).
set -uo pipefail
cd "$(dirname "$0")/.."
mkdir -p _build
report=_build/test-stages.txt
# the CPU and its flags as every record and the tests' header name them (rlbook.provenance)
cpu=$(.venv/bin/python -m rlbook.provenance --cpu 2>/dev/null) || cpu="unknown CPU (no rlbook)"
echo "make test stages on $cpu, $(nproc) cores" >"$report"
total=0
stages=("$@")
for i in "${!stages[@]}"; do
  stage=${stages[$i]}
  start=$(date +%s)
  make --no-print-directory "$stage"
  rc=$?
  seconds=$(( $(date +%s) - start ))
  total=$(( total + seconds ))
  printf '%-22s %5d s%s\n' "$stage" "$seconds" "$([ $rc -ne 0 ] && echo "  FAILED (exit $rc)")" >>"$report"
  if [ $rc -ne 0 ]; then
    for rest in "${stages[@]:$((i + 1))}"; do printf '%-22s   not run\n' "$rest" >>"$report"; done
    cat "$report"
    exit $rc
  fi
done
printf '%-22s %5d s\n' "total (after setup)" "$total" >>"$report"
echo; cat "$report"

#!/usr/bin/env bash
# Run pytest under other, emulated x86-64 CPUs (qemu-user), so a tolerance that holds only with
# this machine's kernels fails here.
#   usage: tools/emulated_cpu.sh "CPU=CAPABILITY ..." PYTEST_ARGS...
#   e.g.   tools/emulated_cpu.sh "EPYC-Rome=AVX2" -m "not heavy" tests/test_euler.py
# For each CPU model (`qemu-x86_64 -cpu help` lists them) the whole process runs emulated, so torch,
# numpy and OpenBLAS pick their code paths from the emulated CPUID. CAPABILITY is the torch CPU
# capability that CPU must give (tests/conftest.py refuses to run otherwise, and its pytest header
# prints what each library got). qemu's warnings about CPUID bits its TCG cannot emulate (xsavec,
# rdseed, ...) are dropped from stderr; everything else is kept. The nbval and anyio plugins, which
# these tests do not use, are not loaded (their imports alone take about 20 s under emulation).
set -uo pipefail
cd "$(dirname "$0")/.."
cpus=$1
shift
# The real interpreter, not the venv's symlink chain: qemu-user runs one ELF file. argv[0] stays
# .venv/bin/python, so Python still finds .venv/pyvenv.cfg and the venv's site-packages.
python=$(readlink -f .venv/bin/python)
status=0
for spec in $cpus; do
  cpu=${spec%%=*}
  capability=${spec#*=}
  echo "=== pytest under qemu-x86_64 -cpu $cpu (torch capability expected: $capability) ==="
  start=$(date +%s)
  RLBOOK_EMULATED_CPU=$cpu RLBOOK_EXPECTED_CAPABILITY=$capability \
    qemu-x86_64 -cpu "$cpu" -0 .venv/bin/python "$python" -m pytest \
    -p no:cacheprovider -p no:nbval -p no:anyio "$@" \
    2> >(grep -v "warning: TCG doesn't support requested feature" >&2)
  rc=$?
  echo "=== $cpu: exit $rc after $(( $(date +%s) - start )) s ==="
  [ $rc -ne 0 ] && status=$rc
done
exit $status

#!/usr/bin/env bash
# A sharded tessera batch over local processes (or hosts, with parallel -S) with GNU
# parallel: job {#} gets PARALLEL_SEQ 1..N, read by --shard auto/N (-N0: no argument is
# appended to the command); then merge.
#   examples/cluster/gnu-parallel.sh scans out 4
set -euo pipefail
IN=$1 OUT=$2 N=${3:-4}
seq "$N" | parallel -N0 -j "$N" --halt never \
  "tessera batch '$IN' -o '$OUT' --workers 1 -q --shard auto/$N"
tessera merge "$OUT/reports" --expect "$N" -o "$OUT/report.json"

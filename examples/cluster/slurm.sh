#!/usr/bin/env bash
# A sharded tessera batch on Slurm: an array of N tasks, each `tessera batch --shard auto`,
# and a merge job that runs only if every task succeeded (afterok). Tested end to end by
# scripts/cluster/slurm_test.sh (a real Slurm 22.05 on one machine).
#
#   examples/cluster/slurm.sh /shared/scans /shared/out 64
#
# Choose N so that each task gets thousands of images (a task has a fixed cost: scheduling,
# start-up, listing the folder), and mind MaxArraySize (1001 by default): for millions of
# images, hundreds of shards, throttled with %K (at most K at once).
set -euo pipefail
IN=$1 OUT=$2 N=${3:-16}
OPTS=${TESSERA_OPTS:-"--op sauvola --workers 4"}
mkdir -p "$OUT/logs"
AID=$(sbatch --parsable --array=0-$((N - 1))%200 -J tessera -c 4 \
  -o "$OUT/logs/%A_%a.out" -e "$OUT/logs/%A_%a.err" \
  --wrap "tessera batch '$IN' -o '$OUT' $OPTS -q --shard auto")
MID=$(sbatch --parsable --dependency=afterok:"$AID" --kill-on-invalid-dep=yes -J tessera-merge \
  -o "$OUT/logs/merge.out" \
  --wrap "tessera merge '$OUT/reports' --expect $N -o '$OUT/report.json'")
echo "array $AID ($N tasks), merge $MID"
# For a folder too large to list in every task, list it once and give each task its slice:
#   tessera plan "$IN" --shards $N -o "$OUT/plan" --op sauvola   (the batch's --op options)
#   ... --wrap "tessera batch '$IN' -o '$OUT' $OPTS -q --shard auto --plan '$OUT/plan'"
# A task that failed leaves no report; `tessera merge` names it. Rerun only it, giving the
# count (an array of one task would otherwise count 1), then merge again:
#   sbatch --array=7 --wrap "tessera batch '$IN' -o '$OUT' $OPTS -q --shard auto/$N"
#   tessera merge "$OUT/reports" --expect $N -o "$OUT/report.json"

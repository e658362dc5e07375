#!/usr/bin/env bash
# End-to-end test of sharded batches on a real scheduler: brings up a throw-away Slurm
# cluster on this machine (munged + slurmctld + two slurmd emulating two nodes, no systemd,
# everything under WORKDIR; adapted from ../shared/scale/slurm_up.sh, whose README lists the
# pitfalls), then:
#   1. one `tessera batch` over ~200 images: the reference;
#   2. a 4-task `sbatch --array=0-3` of `tessera batch --shard auto` and a dependent
#      (`--dependency=afterok`) `tessera merge --expect 4`: the merged report must list the
#      same items with the same outcomes, and every output file must equal the reference's;
#   3. the same array from a plan made once by `tessera plan` (`--plan`), with task 2 made
#      to fail: the merge must refuse (exit 1, naming shard 2); rerunning task 2 alone
#      (`sbatch --array=2 ... --shard auto --plan DIR`, the count from the plan) must let it
#      pass, with the plan's listing in the merged report;
#   4. with S3_TEST_BIN=PATH (tessera built with --features s3): scripts/cluster/s3_test.sh on
#      this cluster, its shards a Slurm array reading and writing a local S3 server.
# It checks output files and reports, never only exit codes (Slurm can report a job that
# never ran as COMPLETED). Needs root and apt-get (Debian's slurm-wlm 22.05) unless Slurm and
# munge are installed; takes about 30 s warm.
#
#   scripts/cluster/slurm_test.sh [TESSERA_BIN] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
BIN=$(realpath "${1:-target/debug/tessera}")
W=${2:-$(mktemp -d /tmp/tessera-slurm.XXXXXX)}
NODES=2
PORT_CTLD=${PORT_CTLD:-17817}
PORT_SLURMD=${PORT_SLURMD:-17818}
log() { echo "[slurm_test $(date +%T)] $*"; }
fail() { echo "slurm_test: FAIL: $*" >&2; exit 1; }
[ -x "$BIN" ] || fail "no tessera binary at $BIN (cargo build first)"

# ------------------------------------------------------------------ install (idempotent)
if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null || ! command -v munged >/dev/null; then
  [ "$(id -u)" = 0 ] || fail "Slurm is not installed and this is not root: cannot install it"
  log "installing slurm + munge from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends slurmctld slurmd slurm-client munge >/dev/null
fi
command -v python3 >/dev/null || fail "python3 is needed to compare the reports"

# ------------------------------------------------------------------ config, all under $W
rm -rf "$W"; mkdir -p "$W"/{etc,state,spool/n1,spool/n2,log,run,munge,data}
chmod 755 "$W" "$W/run"
chmod 700 "$W/munge"
dd if=/dev/urandom of="$W/munge/munge.key" bs=1024 count=1 status=none
chmod 400 "$W/munge/munge.key"
H=$(hostname -s)
NODELINE=""
for n in $(seq 1 "$NODES"); do
  NODELINE+="NodeName=n$n NodeHostname=$H NodeAddr=127.0.0.1 Port=$((PORT_SLURMD+n)) CPUs=1 RealMemory=1000 State=UNKNOWN"$'\n'
done
cat > "$W/etc/slurm.conf" <<CONF
ClusterName=tessera
SlurmctldHost=$H(127.0.0.1)
SlurmUser=root
SlurmdUser=root
SlurmctldPort=$PORT_CTLD
SlurmdPort=$PORT_SLURMD
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$W/run/munge.socket
StateSaveLocation=$W/state
SlurmdSpoolDir=$W/spool/%n
SlurmctldPidFile=$W/run/slurmctld.pid
SlurmdPidFile=$W/run/slurmd-%n.pid
SlurmctldLogFile=$W/log/slurmctld.log
SlurmdLogFile=$W/log/slurmd-%n.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$W/log/jobcomp.txt
MailProg=/bin/true
MpiDefault=none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmctldTimeout=30
SlurmdTimeout=30
InactiveLimit=0
MinJobAge=600
KillWait=5
Waittime=0
$NODELINE
PartitionName=debug Nodes=n[1-$NODES] Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$W/etc/slurm.conf"

# ------------------------------------------------------------------ daemons, stopped by PID
PIDS=()
teardown() {
  set +e
  scontrol shutdown >/dev/null 2>&1
  sleep 1
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null && kill "$pid"
  done
  sleep 0.5
  for pid in "${PIDS[@]}"; do
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid"
  done
  log "daemons stopped"
  if [ "${PASSED:-0}" = 1 ]; then rm -rf "$W"; else log "left $W for inspection"; fi
}
trap teardown EXIT
munged --socket="$W/run/munge.socket" --key-file="$W/munge/munge.key" \
       --log-file="$W/log/munged.log" --pid-file="$W/run/munged.pid" --seed-file="$W/munge/munged.seed"
PIDS+=("$(cat "$W/run/munged.pid")")
slurmctld -f "$SLURM_CONF"
for _ in $(seq 1 40); do [ -s "$W/run/slurmctld.pid" ] && break; sleep 0.25; done
PIDS+=("$(cat "$W/run/slurmctld.pid")")
for n in $(seq 1 "$NODES"); do
  slurmd -f "$SLURM_CONF" -N "n$n"
  for _ in $(seq 1 40); do [ -s "$W/run/slurmd-n$n.pid" ] && break; sleep 0.25; done
  PIDS+=("$(cat "$W/run/slurmd-n$n.pid")")
done
nidle=0
for _ in $(seq 1 120); do
  nidle=$(sinfo -h -N -t idle -o '%N' 2>/dev/null | wc -l || true)
  [ "$nidle" -ge "$NODES" ] && break
  sleep 0.5
done
[ "$nidle" -ge "$NODES" ] || { sinfo -N; tail -n 20 "$W"/log/*.log; fail "the nodes never became idle"; }
log "Slurm $(slurmctld -V | awk '{print $2}') up: $NODES nodes idle"

# ------------------------------------------------------------------ input: ~200 images
IN="$W/data/in"; mkdir -p "$IN"
i=0
for rep in $(seq 1 "${REPS:-25}"); do
  for img in "$REPO"/crates/engine/tests/data/golden/{camera,chelsea,coins,horse,page,text,noise_13x17,noise_rgb_10x6}/input.png; do
    i=$((i+1)); cp "$img" "$IN/img_$(printf %03d $i).png"
  done
done
log "$(ls "$IN" | wc -l) input images"

# ------------------------------------------------------------------ 1. the reference
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN{printf "%.2f", b-a}'; }
T=$(now)
"$BIN" batch "$IN" -o "$W/data/single" --op sauvola --workers 2 -q --report "$W/data/single.json"
log "one tessera batch (2 workers): $(since "$T") s"

# Compares a merged report and its outputs with the reference.
compare() { # compare MERGED_JSON OUTPUT_DIR
  python3 - "$1" "$W/data/single.json" <<'PY' || fail "merged report differs from the single run's"
import json, sys
m, s = (json.load(open(p)) for p in sys.argv[1:3])
import os
def items(r):
    # Outputs relative to each run's output folder (the runs wrote to different folders).
    return sorted((x.get("path"), os.path.relpath(x.get("output"), r["output"]), x.get("status"))
                  for x in r["records"])
for k in ["found", "written", "skipped", "failed", "not_processed"]:
    assert m[k] == s[k], (k, m[k], s[k])
assert items(m) == items(s), "records differ"
assert m["shards"] == 4 and len({x["shard"] for x in m["records"]}) == 4
print("merged report: %d items, the same as the single run's" % len(m["records"]))
PY
  diff -r -x reports -x .tessera-manifest.jsonl "$W/data/single" "$2" >/dev/null \
    || fail "output files of $2 differ from the single run's"
}

# ------------------------------------------------------------------ 2. array + dependent merge
OUT="$W/data/sharded"
T=$(now)
AID=$(sbatch --parsable --array=0-3 -J tessera -o "$W/log/%A_%a.out" -e "$W/log/%A_%a.err" \
  --wrap "$BIN batch $IN -o $OUT --op sauvola --workers 1 -q --shard auto")
set +e
sbatch --wait --dependency=afterok:"$AID" --kill-on-invalid-dep=yes -J merge -o "$W/log/merge.out" \
  --wrap "$BIN merge $OUT/reports --expect 4 -o $W/data/merged.json"
MRC=$?
set -e
[ "$MRC" -eq 0 ] || { cat "$W"/log/*.err "$W/log/merge.out" 2>/dev/null; fail "merge job rc=$MRC"; }
for t in 0 1 2 3; do
  [ -s "$OUT/reports/shard-$t-of-4.json" ] || fail "no report from task $t"
done
[ -s "$W/data/merged.json" ] || fail "the merge job wrote no report"
ARRAY_S=$(since "$T")
compare "$W/data/merged.json" "$OUT"
log "4-task array + merge: outputs and report equal the single run's"
python3 - "$OUT/reports" "$ARRAY_S" <<'PY'
import glob, json, sys
rs = [json.load(open(p)) for p in sorted(glob.glob(sys.argv[1] + "/shard-*.json"))]
print("[slurm_test] submit to merged: %s s; each shard's own time %s s (of it listing %s s)" % (
    sys.argv[2],
    ", ".join("%.2f" % r["seconds"] for r in rs),
    ", ".join("%.3f" % r["discovery_seconds"] for r in rs)))
PY

# ------------------------------------------------------------------ 3. a failed shard, rerun
# The second array takes its slices from a plan made once (`tessera plan`): no task lists
# the folder, and `--shard auto` takes the count from the plan (so the rerun of task 2
# alone needs no auto/4).
OUT2="$W/data/sharded2"
"$BIN" plan "$IN" --shards 4 -o "$W/data/plan" --op sauvola -q
[ -s "$W/data/plan/plan.json" ] && [ -s "$W/data/plan/slice-3-of-4.jsonl" ] || fail "tessera plan wrote no plan"
sbatch --wait --array=0-3 -J failing -o "$W/log/f_%A_%a.out" -e "$W/log/f_%A_%a.err" \
  --wrap "if [ \$SLURM_ARRAY_TASK_ID = 2 ]; then echo 'task 2 crashed' >&2; exit 3; fi; $BIN batch $IN -o $OUT2 --op sauvola --workers 1 -q --shard auto --plan $W/data/plan" \
  >/dev/null || true
[ ! -e "$OUT2/reports/shard-2-of-4.json" ] || fail "the crashed task left a report"
set +e
"$BIN" merge "$OUT2/reports" --expect 4 -o "$W/data/merged2.json" 2>"$W/log/refused.txt"
RRC=$?
set -e
[ "$RRC" -eq 1 ] || fail "merge with a missing shard exited $RRC, not 1"
grep -q "no report for shard 2 of 4" "$W/log/refused.txt" || fail "the refusal does not name shard 2: $(cat "$W/log/refused.txt")"
[ ! -e "$W/data/merged2.json" ] || fail "a refused merge wrote a report"
log "missing shard 2: merge refused ($(cat "$W/log/refused.txt"))"
sbatch --wait --array=2 -J rerun -o "$W/log/r_%A_%a.out" -e "$W/log/r_%A_%a.err" \
  --wrap "$BIN batch $IN -o $OUT2 --op sauvola --workers 1 -q --shard auto --plan $W/data/plan" >/dev/null
"$BIN" merge "$OUT2/reports" --expect 4 -o "$W/data/merged2.json" -q
compare "$W/data/merged2.json" "$OUT2"
python3 - "$W/data/plan/plan.json" "$W/data/merged2.json" <<'PY' || fail "the merged report's listing is not the plan's"
import json, sys
p, m = (json.load(open(x)) for x in sys.argv[1:3])
assert p["listing"] == m["listing"], (p["listing"], m["listing"])
PY
log "rerunning task 2 alone (from the plan) let the merge pass; the listing is the plan's"

# ------------------------------------------------------------------ 4. the same on object storage
# With S3_TEST_BIN (a tessera built with --features s3), s3_test.sh runs on this cluster: its
# shards read and write a local S3 server as a 4-task array with a dependent merge.
if [ -n "${S3_TEST_BIN:-}" ]; then
  log "object storage on this cluster: scripts/cluster/s3_test.sh $S3_TEST_BIN"
  "$REPO/scripts/cluster/s3_test.sh" "$S3_TEST_BIN" || fail "the object-storage test on Slurm failed"
fi
log "PASS"
PASSED=1

#!/usr/bin/env bash
# End-to-end test of batches on object storage (tessera built with --features s3): starts a
# throw-away S3-compatible server on 127.0.0.1 (moto from PyPI, in a venv; adapted from
# ../shared/scale/s3_up.sh), uploads ~200 images and one corrupt object, then:
#   1. one local `tessera batch` over the same files: the reference;
#   2. four `tessera batch s3://.../in -o s3://.../out --shard auto` shards: a 4-task Slurm
#      array when a cluster is up (slurm_test.sh runs this script with S3_TEST_BIN, SLURM_CONF
#      set), else four concurrent processes (JOB_COMPLETION_INDEX, as a Kubernetes Indexed
#      Job); then `tessera merge` (a dependent job on Slurm) of the shard
#      reports they wrote into the bucket: the merged report must list the reference's items
#      with the same outcomes (the corrupt object failed, with its reason), and every object
#      written must equal the reference's file byte for byte;
#   3. `tessera plan s3://.../in` and two `--plan` shards from the bucket into a local folder:
#      the same files again;
#   4. an object deleted after planning: one failed item ("cannot download"), the rest written;
#   5. an output bucket that does not exist: exit 1, one line, no report.
# It checks objects and reports, never only exit codes.
#
#   scripts/cluster/s3_test.sh [TESSERA_BIN] [WORKDIR]
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$(pwd)
BIN=$(realpath "${1:-target/debug/tessera}")
W=${2:-$(mktemp -d /tmp/tessera-s3.XXXXXX)}
PORT=${S3_PORT:-25111}
VENV=${S3_VENV:-/tmp/tessera-s3-venv}
log() { echo "[s3_test $(date +%T)] $*"; }
fail() { echo "s3_test: FAIL: $*" >&2; exit 1; }
[ -x "$BIN" ] || fail "no tessera binary at $BIN (cargo build --features s3 first)"
mkdir -p "$W"

# ------------------------------------------------------------------ install (idempotent)
if [ ! -x "$VENV/bin/python" ] && ! python3 -m venv "$VENV" >/dev/null 2>&1; then
  [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null || fail "python3 -m venv failed and cannot install python3-venv"
  log "installing python3-venv from Debian"
  rm -rf "$VENV"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv python3-pip >/dev/null
  python3 -m venv "$VENV"
fi
"$VENV/bin/python" -c 'import moto, flask, flask_cors, boto3' 2>/dev/null || \
  "$VENV/bin/pip" install -q --disable-pip-version-check "moto[s3]" flask flask-cors boto3
PY="$VENV/bin/python"

# ------------------------------------------------------------------ server
SPID=""
teardown() {
  set +e
  if [ -n "$SPID" ] && kill -0 "$SPID" 2>/dev/null; then
    kill "$SPID"
    for _ in $(seq 1 20); do kill -0 "$SPID" 2>/dev/null || break; sleep 0.25; done
    kill -0 "$SPID" 2>/dev/null && kill -9 "$SPID"
  fi
  if [ "${PASSED:-0}" = 1 ]; then rm -rf "$W"; else log "left $W for inspection"; fi
}
trap teardown EXIT
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" > "$W/server.log" 2>&1 &
SPID=$!
"$PY" - "$PORT" <<'PY' || { cat "$W/server.log"; fail "the S3 server did not come up"; }
import sys, time, urllib.request
for _ in range(150):
    try:
        urllib.request.urlopen("http://127.0.0.1:%s/" % sys.argv[1], timeout=1)
        sys.exit(0)
    except Exception as e:
        if hasattr(e, "code"):  # an HTTP answer (even 403) means it is up
            sys.exit(0)
        time.sleep(0.1)
sys.exit(1)
PY
# What object_store's AmazonS3Builder::from_env reads (and boto3).
export AWS_ENDPOINT="http://127.0.0.1:$PORT" AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" \
       AWS_ALLOW_HTTP=true AWS_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing
log "moto S3 server on 127.0.0.1:$PORT (pid $SPID)"

# ------------------------------------------------------------------ data
IN="$W/in"; mkdir -p "$IN"
i=0
for rep in $(seq 1 "${REPS:-25}"); do
  for img in "$REPO"/crates/engine/tests/data/golden/{camera,chelsea,coins,horse,page,text,noise_13x17,noise_rgb_10x6}/input.png; do
    i=$((i+1)); cp "$img" "$IN/img_$(printf %03d $i).png"
  done
done
printf 'not an image' > "$IN/broken.png"
"$PY" - "$IN" <<'PY'
import os, sys, boto3
s3 = boto3.client("s3")
s3.create_bucket(Bucket="images")
d = sys.argv[1]
for n in sorted(os.listdir(d)):
    s3.upload_file(os.path.join(d, n), "images", "in/" + n)
# A key in a sub-"folder" (not taken without --recursive) and a folder marker.
s3.put_object(Bucket="images", Key="in/sub/deeper.png", Body=open(os.path.join(d, "img_001.png"), "rb").read())
s3.put_object(Bucket="images", Key="in/empty-folder/", Body=b"")
PY
log "$(ls "$IN" | wc -l) objects uploaded to s3://images/in"

secs() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b-a}'; }
set +e
T=$(date +%s.%N)
"$BIN" batch "$IN" -o "$W/single" --op sauvola --workers 2 -q --report "$W/single.json"
[ $? -eq 1 ] || fail "the local reference batch should fail exactly on broken.png (exit 1)"
log "one local batch, 2 workers (folder on the disk under $W): $(secs "$T") s"
T=$(date +%s.%N)
"$BIN" batch s3://images/in -o s3://images/out1 --op sauvola --workers 2 -q 2>/dev/null
[ $? -eq 1 ] || fail "one bucket-to-bucket batch should fail exactly on broken.png (exit 1)"
log "one batch bucket to bucket, 2 workers: $(secs "$T") s"
set -e

compare_report() { # MERGED_JSON: items and outcomes equal the reference's
  "$PY" - "$1" "$W/single.json" <<'PY' || fail "the merged report differs from the reference's"
import json, os, sys
m, s = (json.load(open(p)) for p in sys.argv[1:3])
def items(r):
    return sorted((os.path.basename(x["path"]), os.path.basename(x["output"]), x["status"]) for x in r["records"])
for k in ["found", "written", "failed", "not_processed"]:
    assert m[k] == s[k], (k, m[k], s[k])
assert items(m) == items(s), "records differ"
f = [x for x in m["failures"] if x["path"].endswith("broken.png")]
assert f and f[0]["path"].startswith("s3://images/in/"), m["failures"]
print("merged report: %d items as the reference's; broken.png failed: %s" % (len(m["records"]), f[0]["reason"]))
PY
}
compare_objects() { # PREFIX: every object under it equals the reference's file
  "$PY" - "$1" "$W/single" <<'PY' || fail "objects under $1 differ from the reference's files"
import os, sys, boto3
s3 = boto3.client("s3")
prefix, ref = sys.argv[1], sys.argv[2]
got = {}
for page in s3.get_paginator("list_objects_v2").paginate(Bucket="images", Prefix=prefix + "/"):
    for o in page.get("Contents", []):
        rel = o["Key"][len(prefix) + 1:]
        if not rel.startswith("reports/"):
            got[rel] = s3.get_object(Bucket="images", Key=o["Key"])["Body"].read()
want = {n: open(os.path.join(ref, n), "rb").read() for n in os.listdir(ref) if not n.startswith(".tessera-")}
assert sorted(got) == sorted(want), (sorted(set(got) ^ set(want)))[:5]
bad = [n for n in want if got[n] != want[n]]
assert not bad, bad[:5]
print("%d objects equal the reference's files byte for byte" % len(got))
PY
}

# ------------------------------------------------------------------ 4 shards, bucket to bucket
T=$(date +%s.%N)
if [ -n "${SLURM_CONF:-}" ] && sinfo -h >/dev/null 2>&1; then
  # Inside slurm_test.sh (a cluster is up): the shards are a 4-task Slurm array (the AWS_*
  # environment travels with sbatch's default --export=ALL) and the merge a dependent job
  # (afterany: the shard holding broken.png exits 1).
  AID=$(sbatch --parsable --array=0-3 -J s3shard -o "$W/shard-%a.out" -e "$W/shard-%a.err" \
    --wrap "$BIN batch s3://images/in -o s3://images/out --op sauvola --workers 1 -q --shard auto")
  set +e
  sbatch --wait --dependency=afterany:"$AID" -J s3merge -o "$W/merge.out" -e "$W/merge.err" \
    --wrap "$BIN merge s3://images/out/reports --expect 4 -o $W/merged.json -q" >/dev/null
  MRC=$?
  set -e
  nerr=$(grep -l "broken.png" "$W"/shard-*.err 2>/dev/null | wc -l)
  [ "$nerr" -eq 1 ] || { cat "$W"/shard-*.err "$W/merge.err"; fail "expected one array task to report broken.png, got $nerr"; }
  log "4-task Slurm array (job $AID, 1 worker each), bucket to bucket, + dependent merge: $(secs "$T") s"
  # sbatch --wait exits with the job's code, checked below with the plain merge's.
else
  pids=()
  for t in 0 1 2 3; do
    JOB_COMPLETION_INDEX=$t "$BIN" batch s3://images/in -o s3://images/out --op sauvola --workers 1 -q \
      --shard auto/4 2>"$W/shard-$t.err" &
    pids+=($!)
  done
  rcs=""
  for p in "${pids[@]}"; do set +e; wait "$p"; rcs+="$? "; set -e; done
  log "4 shard processes (1 worker each), bucket to bucket: exit codes $rcs($(secs "$T") s)"
  [ "$(echo $rcs | tr ' ' '\n' | sort -u | tr '\n' ' ')" = "0 1 " ] || fail "expected one shard to exit 1 (broken.png) and three 0: $rcs"
  set +e
  "$BIN" merge s3://images/out/reports --expect 4 -o "$W/merged.json" -q 2>"$W/merge.err"
  MRC=$?
  set -e
fi
grep -h "broken.png" "$W"/shard-*.err | head -1
# The merge exits 1 for the failed object (and writes its report, checked below).
[ "$MRC" -eq 1 ] || { cat "$W/merge.err"; fail "merge of a batch with a failed object exited $MRC, not 1"; }
[ -s "$W/merged.json" ] || fail "the merge wrote no report"
compare_report "$W/merged.json"
compare_objects out
log "bucket to bucket in 4 shards + merge from the bucket: outputs and report equal the local run's"

# ------------------------------------------------------------------ a plan over the bucket, into a local folder
"$BIN" plan s3://images/in --shards 2 -o "$W/plan" --op sauvola -q
for t in 0 1; do
  set +e
  "$BIN" batch s3://images/in -o "$W/local" --op sauvola -q --shard "$t/2" --plan "$W/plan" 2>/dev/null
  set -e
done
set +e
"$BIN" merge "$W/local/reports" --expect 2 -o "$W/merged-local.json" -q
set -e
"$PY" - "$W/merged-local.json" "$W/plan/plan.json" <<'PY' || fail "the planned merge is not the plan's listing"
import json, sys
m, p = (json.load(open(x)) for x in sys.argv[1:3])
assert m["listing"] == p["listing"] and m["listing"]["items"] == m["found"], (m["listing"], p["listing"], m["found"])
PY
diff -r -x reports -x .tessera-manifest.jsonl "$W/single" "$W/local" >/dev/null || fail "results from the planned shards differ from the reference's"
log "tessera plan over the bucket, 2 shards into a local folder: the same files, the plan's listing"

# ------------------------------------------------------------------ an object gone after planning
"$PY" -c 'import boto3; boto3.client("s3").delete_object(Bucket="images", Key="in/img_005.png")'
set +e
"$BIN" batch s3://images/in -o "$W/gone" --op sauvola -q --shard 0/2 --plan "$W/plan" 2>"$W/gone.err"
GRC=$?
set -e
[ "$GRC" -eq 1 ] || fail "a vanished object: exit $GRC, not 1"
"$PY" - "$W/gone/reports/shard-0-of-2.json" <<'PY' || fail "the vanished object is not a failed item with its reason"
import json, sys
r = json.load(open(sys.argv[1]))
f = {x["path"]: x["reason"] for x in r["failures"]}
assert "s3://images/in/img_005.png" in f and "cannot download" in f["s3://images/in/img_005.png"], f
assert r["written"] == r["found"] - len(f), r
print("vanished object reported:", f["s3://images/in/img_005.png"])
PY
log "an object deleted after planning is one failed item; the shard's other results are written"

# ------------------------------------------------------------------ an output bucket that does not exist
set +e
"$BIN" batch s3://images/in -o s3://no-such-bucket/out --op sauvola -q --report "$W/none.json" 2>"$W/nobucket.err"
NRC=$?
set -e
[ "$NRC" -eq 1 ] || fail "a missing output bucket exited $NRC, not 1: $(cat "$W/nobucket.err")"
[ "$(wc -l < "$W/nobucket.err")" -eq 1 ] || fail "not one line: $(cat "$W/nobucket.err")"
[ ! -e "$W/none.json" ] || fail "a fatal error left a report"
log "missing output bucket: $(cat "$W/nobucket.err")"
log "PASS"
PASSED=1

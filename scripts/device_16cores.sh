#!/usr/bin/env bash
# Issue 18, goal 5: the per-op table against OpenCV, the worker sweeps and the batch comparison
# on a many-core machine, in one run. Prints everything (and keeps it in OUTDIR/log.txt) and
# packs the raw files into OUTDIR/results.tar.gz.
#
# usage: scripts/device_16cores.sh OUTDIR [WORKERS (default 1,2,4,8,16)]
# Needs: target/release/tessera, target/release/examples/{opbench,batch_speed}
#        (cargo build --release --bin tessera && cargo build --release -p tessera-engine
#        --example opbench --example batch_speed), the peers folder ($PEERS, default
#        ../shared/peers) and a Python with OpenCV ($OPENCV_PYTHON, default python3).
# The 18 MP image is the 8 MP photo resized by OpenCV (INTER_CUBIC) to 5760x3240, JPEG 92.
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: scripts/device_16cores.sh OUTDIR [WORKERS]}
workers=${2:-1,2,4,8,16}
top=${workers##*,}
peers=${PEERS:-../shared/peers}
py=${OPENCV_PYTHON:-python3}
mkdir -p "$out"
exec > >(tee "$out/log.txt") 2>&1

work=$(mktemp -d "${WORK_DIR:-/tmp}/tessera16.XXXX")
raw=$work/raw
mkdir -p "$raw"
echo "== machine"
date -u
nproc
lscpu | grep -E 'Model name|Thread|Core|Socket|L2|L3|Flags' | cut -c1-200
free -g | head -2
echo "work folder: $work"
df -hT "$work" | tail -1
"$py" -c 'import cv2, numpy; print("OpenCV", cv2.__version__, "numpy", numpy.__version__, "threads", cv2.getNumThreads())' || exit 1
git log -1 --format='commit %h %s' 2>/dev/null || true

img8=$peers/photo_8mp.jpg
img18=$work/photo_18mp.jpg
"$py" -c "import cv2; im = cv2.imread('$img8'); cv2.imwrite('$img18', cv2.resize(im, (5760, 3240), interpolation=cv2.INTER_CUBIC), [cv2.IMWRITE_JPEG_QUALITY, 92])" || exit 1

t0=$(date +%s)
for round in 1 2; do
    for img in "$img8" "$img18"; do
        name=$(basename "$img" .jpg)
        echo "== round $round, $name: OpenCV, then tessera (compute only, medians of 15)"
        "$py" "$peers/opencv_bench.py" "$img" --threads "$workers" --repeats 15 \
            --json "$raw/opencv_${name}_$round.json"
        target/release/examples/opbench "$img" --workers "$workers" --repeats 15
    done
done
echo "per-op rounds took $(( $(date +%s) - t0 )) s"

if [ -x target/release/examples/fixedcost ]; then
    echo "== fixed cost of a cheap job (8 MP threshold, 1 worker)"
    target/release/examples/fixedcost "$img8" --repeats 301
fi

echo "== sweeps (tessera bench, medians of 9 interleaved runs)"
for op in adaptive-gaussian adaptive-mean; do
    target/release/tessera bench "$img8" --op "$op" --workers "1,2,4,6,8,12,$top" \
        --repeats 9 --warmup 2 --bandwidth -q \
        --json "$raw/sweep_$op.json" --png "$raw/charts_$op"
done
target/release/tessera bench "$img8" --op threshold --thresh 127 --workers "$workers" \
    --repeats 9 --warmup 2 -q --json "$raw/sweep_threshold.json"

echo "== batch (whole processes, fresh output folders in $work)"
PEERS=$peers OPENCV_PYTHON=$py "$py" scripts/batch_speed.py --repeats 5 --photos 24 \
    --work "$work/batch" --fresh --pool --workers "$workers" --procs "1,4,8,$top" \
    --json "$raw/batch.json"

echo "== done $(date -u)"
tar -czf "$out/results.tar.gz" -C "$raw" .
rm -rf "$work"

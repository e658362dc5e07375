#!/usr/bin/env bash
# The per-op comparison of README "Speed against OpenCV 5.1": ROUNDS rounds; in each, for the
# 8 MP photo and the 18.7 MP image, OpenCV's opencv_bench.py at 1 and 2 threads, then
# tessera's opbench at 1 and 2 workers (scripts/compare_opencv.sh's two commands).
# usage: measurements/2026-12-04-ops-final/rounds.sh OUT ROUNDS [REPEATS]
# env: PY (OpenCV's Python, default /tmp/opencv-peers/bin/python), IMG18 (the 18.7 MP JPEG:
#      cv2.resize(photo, (5760, 3240), interpolation=cv2.INTER_CUBIC), imwrite JPEG quality 92)
cd "$(dirname "$0")/../.."
out=$1; rounds=$2; rep=${3:-15}
py=${PY:-/tmp/opencv-peers/bin/python}
: > "$out"
for r in $(seq 1 "$rounds"); do
  for img in ../shared/peers/photo_8mp.jpg "${IMG18:?set IMG18}"; do
    echo "== round $r, $img: OpenCV, then tessera ($(date -u +%H:%M:%S), load $(cut -d' ' -f1 /proc/loadavg))" >> "$out"
    "$py" ../shared/peers/opencv_bench.py "$img" --threads 1,2 --repeats "$rep" >> "$out" 2>&1
    target/release/examples/opbench "$img" --workers 1,2 --repeats "$rep" >> "$out" 2>&1
  done
done

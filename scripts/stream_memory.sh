#!/usr/bin/env bash
# Peak RSS and wall time of `tessera run`, whole image (--whole) against streamed by bands,
# medians of 3, on a 10000x10000 and a 30000x30000 8-bit gray PNG (made with OpenCV if
# missing: a gradient plus noise, 76 MB and 686 MB).
#
#   scripts/stream_memory.sh [WORKDIR on a real disk]   (OPENCV_PYTHON: a python with cv2, numpy)
set -euo pipefail
B=$(realpath "${TESSERA:-target/release/tessera}")
W=${1:-/tmp/tessera-stream-memory}
PY=${OPENCV_PYTHON:-python3}
mkdir -p "$W" && cd "$W"
[ -s gray30000.png ] || "$PY" - <<'PYEOF'
import numpy as np, cv2
rng = np.random.default_rng(7)
for n in (10000, 30000):
    img = np.empty((n, n), np.uint8)
    for r in range(0, n, 1000):
        yy, xx = np.mgrid[r:r + 1000, 0:n]
        img[r:r + 1000] = ((xx * 0.01 + yy * 0.013) % 200 + rng.integers(0, 40, size=(1000, n))).astype(np.uint8)
    cv2.imwrite(f"gray{n}.png", img)
PYEOF
for op in gray adaptive-gaussian adaptive-mean sauvola otsu; do
  for mode in --whole ""; do
    rs=(); ts=()
    for r in 1 2 3; do
      out=$( { /usr/bin/time -f "%M %e" "$B" run gray10000.png -o o.png --op $op --workers 2 $mode >/dev/null; } 2>&1 | tail -1)
      rs+=("${out% *}"); ts+=("${out#* }")
    done
    echo "gray10000.png $op ${mode:-stream} rss_kb=$(printf '%s\n' "${rs[@]}" | sort -n | sed -n 2p) s=$(printf '%s\n' "${ts[@]}" | sort -n | sed -n 2p)"
  done
done
for mode in "" --whole; do
  out=$( { /usr/bin/time -f "%M %e" "$B" run gray30000.png -o o30.png --workers 2 $mode >/dev/null; } 2>&1 | tail -1)
  echo "gray30000.png adaptive-gaussian ${mode:-stream} rss_kb=${out% *} s=${out#* }"
done
rm -f o.png o30.png

#!/usr/bin/env bash
# Output digests of `tessera run` and `tessera batch` over the sample images, every op and
# every output format: run it with the binary before and after a refactor and diff the two
# lists (they must be identical, byte for byte).
#   scripts/output_digests.sh BIN WORK_DIR > digests.txt
set -euo pipefail
bin=$1
work=$2
root=$(cd "$(dirname "$0")/.." && pwd)
rm -rf "$work" && mkdir -p "$work/in" "$work/out"
cp "$root/assets/sample-text.png" "$root/assets/sample-coffee.png" "$work/in/"
for c in camera chelsea coins noise_rgb_10x6 noise_1x1; do
  cp "$root/crates/engine/tests/data/golden/$c/input.png" "$work/in/$c.png"
done
cp "$root"/crates/engine/tests/data/jpeg/*.jpg "$work/in/" 2>/dev/null || true
photo="$root/../shared/peers/photo_8mp.jpg"
[ -f "$photo" ] && cp "$photo" "$work/in/photo_8mp.jpg"
ops=(
  "--op gray"
  "--op threshold --thresh 100.5 --type tozero"
  "--op threshold --type trunc --max-value 200"
  "--op otsu"
  "--op triangle --type binary-inv"
  "--op adaptive-mean --block-size 51 --c -3"
  "--op adaptive-gaussian"
  "--op adaptive-gaussian --block-size 25 --c 10 --type binary-inv"
)
for f in "$work"/in/*; do
  name=$(basename "$f")
  i=0
  for op in "${ops[@]}"; do
    for ext in png jpg tif bmp webp pgm; do
      # One op per format would miss little; every op x PNG, every format x two ops.
      if [ "$ext" != png ] && [ $i -ne 0 ] && [ $i -ne 6 ]; then continue; fi
      out="$work/out/$name.$i.$ext"
      # shellcheck disable=SC2086
      "$bin" run "$f" -o "$out" $op --workers 3 >/dev/null 2>"$out.err" || echo "exit $? $(cat "$out.err")" > "$out.status"
      rm -f "$out.err"
    done
    i=$((i + 1))
  done
done
"$bin" batch "$work/in" -o "$work/batch" --workers 2 -q --format png >/dev/null 2>&1 || true
"$bin" batch "$work/in" -o "$work/batch-jpg" --op otsu --workers 1 -q --format jpg >/dev/null 2>&1 || true
cd "$work"
find out batch batch-jpg -type f | sort | xargs sha256sum

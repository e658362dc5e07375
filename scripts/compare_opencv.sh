#!/usr/bin/env bash
# Times OpenCV and tessera on the same image, one after the other, compute only (decode
# outside the timing), median of N repeats each. Needs ../shared/peers (OpenCV installed by its
# setup.sh) beside the checkout.
# usage: scripts/compare_opencv.sh [IMAGE] [WORKERS (default 1,2)] [REPEATS (default 9)]
set -euo pipefail
cd "$(dirname "$0")/.."
peers=../shared/peers
img=${1:-$peers/photo_8mp.jpg}
workers=${2:-1,2}
repeats=${3:-9}
venv=/tmp/opencv-peers
[ -x "$venv/bin/python" ] || bash "$peers/setup.sh" "$venv"
cargo build --release -p tessera-engine --example opbench -q
"$venv/bin/python" "$peers/opencv_bench.py" "$img" --threads "$workers" --repeats "$repeats"
target/release/examples/opbench "$img" --workers "$workers" --repeats "$repeats"

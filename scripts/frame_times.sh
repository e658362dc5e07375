#!/bin/sh
# Measures the window's frame times while the block-size slider is dragged on a large photo:
# runs the real binary under Xvfb with TESSERA_FRAME_LOG, drags the slider with xdotool (every
# step asks for a new job), then summarises the frame intervals and how many results were
# shown while the slider was held.
#
#   cargo build --release && scripts/frame_times.sh [IMAGE] [BIN]
#
# Defaults: ../shared/peers/photo_8mp.jpg (3840x2160) and target/release/tessera.
set -eu
cd "$(dirname "$0")/.."
IMAGE=${1:-../shared/peers/photo_8mp.jpg}
BIN=${2:-target/release/tessera}
LOG=${LOG:-$(mktemp --suffix=.frames)}
if [ -z "${TESSERA_IN_XVFB:-}" ]; then
    export TESSERA_IN_XVFB=1 LOG
    XDG_RUNTIME_DIR=$(mktemp -d)
    export XDG_RUNTIME_DIR
    xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$IMAGE" "$BIN"
    python3 - "$LOG" <<'EOF'
import sys
lines = open(sys.argv[1]).read().splitlines()
t0 = int(lines[0].split()[-1])                      # "# t0_unix_ms N"
rows = [l.split() for l in lines[2:] if l.strip()]
busy = sorted(float(r[1]) for r in rows if r[3] == "1" and float(r[1]) > 0)
idle = sorted(float(r[1]) for r in rows if r[3] == "0" and float(r[1]) > 0)
ui = sorted(float(r[2]) for r in rows)
def q(v, p): return v[min(len(v) - 1, round((len(v) - 1) * p))]
try:
    down, up = (int(open(sys.argv[1] + x).read()) - t0 for x in (".down", ".up"))
    held = [r for r in rows if down <= float(r[0]) <= up]
    if held:
        shown = int(held[-1][4]) - int(held[0][4])
        print(f"while the slider was held ({(up - down) / 1e3:.1f} s): {shown} results shown, "
              f"one every {(up - down) / max(shown, 1):.0f} ms")
except (OSError, ValueError, IndexError):
    pass
for name, v in [("frame interval while a job runs", busy),
                ("frame interval, no job running", idle),
                ("time in the app's code per frame", ui)]:
    if v:
        print(f"{name}: {len(v)} frames, median {q(v, .5):.1f} ms, "
              f"p95 {q(v, .95):.1f} ms, max {v[-1]:.1f} ms")
EOF
    echo "frame log: $LOG"
    exit 0
fi

XDG_DATA_HOME=$(mktemp -d)
export XDG_DATA_HOME
TESSERA_FRAME_LOG=$LOG "$BIN" "$IMAGE" &
APP=$!
sleep "${WAIT:-15}"          # decode and the first job
# The block-size slider's knob (block 25 of 3..255) in the default layout; drag right and back.
xdotool mousemove 88 260 mousedown 1
date +%s%3N > "${LOG}.down"
x=88
while [ $x -lt 172 ]; do x=$((x + 2)); xdotool mousemove $x 260; sleep 0.08; done
while [ $x -gt 88 ]; do x=$((x - 2)); xdotool mousemove $x 260; sleep 0.08; done
date +%s%3N > "${LOG}.up"
xdotool mouseup 1
sleep 4
import -window root "${LOG}.png"
kill "$APP"; wait "$APP" 2>/dev/null || true

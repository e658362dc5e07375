#!/bin/sh
# Takes the README's screenshots of the real window under Xvfb (1280x800, and a few at
# 1024x700), driving it with xdotool, into screenshots/. Needs: xvfb-run, xauth,
# imagemagick (import), xdotool, mesa. The overlay shot uses the 8 MP photo of
# ../shared/peers when it is there, else the coffee sample.
#
#   cargo build --release && scripts/screenshots.sh [BIN]
#
# Each shot starts the binary with a fresh settings folder, so the first start opens the
# embedded sample. Coordinates are those of the default layout at 1280x800 (with an 8-bit
# image: a 16-bit one adds the display range, and a note while an 8-bit-only op is chosen).
set -eu
cd "$(dirname "$0")/.."
BIN=${1:-target/release/tessera}
OUT=screenshots
if [ -z "${TESSERA_IN_XVFB:-}" ]; then
    export TESSERA_IN_XVFB=1
    XDG_RUNTIME_DIR=$(mktemp -d)
    export XDG_RUNTIME_DIR
    TESSERA_SCREEN=1280 xvfb-run -a -s "-screen 0 1280x800x24" "$0" "$BIN"
    TESSERA_SCREEN=1024 exec xvfb-run -a -s "-screen 0 1024x700x24" "$0" "$BIN"
fi
PHOTO=assets/sample-coffee.png
[ -f ../shared/peers/photo_8mp.jpg ] && PHOTO=$(cd ../shared/peers && pwd)/photo_8mp.jpg
NOTES=$(mktemp -d)/"notes from the scanner, not an image at all, with a long name.jpg"
echo "these are notes" > "$NOTES"
mkdir -p "$OUT"

start() { # start [ARGS...]: the app with a fresh profile
    XDG_DATA_HOME=$(mktemp -d)
    export XDG_DATA_HOME
    "$BIN" "$@" &
    APP=$!
    sleep "${WAIT:-8}"
    # No window manager under Xvfb: give the window the keyboard focus for typing.
    xdotool search --pid "$APP" 2>/dev/null | while read -r w; do
        xdotool windowfocus "$w" 2>/dev/null || true
    done
}
stop() { kill "$APP" 2>/dev/null || true; wait "$APP" 2>/dev/null || true; }
click() { # press, hold a moment (a slider reads the press), release
    xdotool mousemove "$1" "$2" mousedown 1; sleep 0.2; xdotool mouseup 1; sleep "${3:-1}"
}
shot() { xdotool mousemove "$2" "$3"; sleep 1; import -window root "$OUT/$1.png"; echo "$OUT/$1.png"; }

if [ "${TESSERA_SCREEN:-1280}" = 1024 ]; then
    # At 1024x700: the window, an error banner wrapped, and the overlay.
    start "$PHOTO"
    shot main-1024 700 300
    click 130 82; xdotool key ctrl+a; xdotool type "$NOTES"; xdotool key Return
    sleep 2
    shot error-1024 700 400
    click 337 47           # Dismiss
    click 597 67 3         # Overlay
    shot overlay-1024 700 400
    stop
    # The lab's summary at 1024x700.
    start assets/sample-coffee.png
    click 273 12
    click 55 315 25        # Run sweep, then wait
    shot lab-1024 200 650
    stop
    exit 0
fi

# 1. First start: the handwriting sample, split view, pointer on the image (pixel readout).
start
shot main 700 300
stop


# 2. A photo with Otsu, side by side.
start assets/sample-coffee.png
click 158 182          # Method
click 132 268          # Otsu threshold
click 519 67 2         # Side by side
shot before-after 560 330
stop

# 3. Histogram with the fixed threshold marked, and a timing chart of several runs.
start assets/sample-coffee.png
click 158 182          # Method
click 133 245          # Fixed threshold
for x in 70 99 128 157 70 99 128 157; do   # Workers 1..4, twice
    click "$x" 502 1.5
    click 106 601 1.5  # Run again
done
shot histogram-timing 1000 200
convert "$OUT/histogram-timing.png" -crop 990x230+290+570 +repage "$OUT/charts.png"
stop

# 3b. Dragging the threshold on the histogram (the button still held).
start assets/sample-coffee.png
xdotool mousemove 500 700 mousedown 1; sleep 0.3
for x in 510 520 530 540 550; do xdotool mousemove "$x" 700; sleep 0.3; done
sleep 2
import -window root "$OUT/histogram-drag.png"; echo "$OUT/histogram-drag.png"
xdotool mouseup 1
stop

# 3c. The 8 MP photo (or the sample) with Otsu and the red overlay; then a region's level.
start "$PHOTO"
click 158 182          # Method
click 132 268 4        # Otsu threshold
click 597 67 3         # Overlay
shot overlay 700 300
stop

# 3c2. A region of interest (Shift+drag) on the coffee sample: Otsu's level from it.
start assets/sample-coffee.png
click 158 182          # Method
click 132 268 2        # Otsu threshold
click 324 67 2         # Result view
xdotool mousemove 620 250 keydown shift mousedown 1; sleep 0.3
for p in "660 280" "700 320" "740 360" "780 390"; do xdotool mousemove $p; sleep 0.3; done
xdotool mouseup 1 keyup shift; sleep 3
shot roi 1000 200
stop

# 3c3. Every global level on the histogram (Huang chosen), then "Try all methods" on a
#      degraded document of the golden-methods pack (or the coffee sample).
DOC=assets/sample-coffee.png
[ -f ../shared/golden-methods/inputs/documents/doc05_degraded.png ] &&
    DOC=../shared/golden-methods/inputs/documents/doc05_degraded.png
start "$DOC"
click 158 182          # Method
click 270 245 2        # Huang
shot levels 560 700
stop
start "$DOC"
click 75 380 6         # Try all methods…
shot try-all 1200 780
stop

# 3c4. A 12-bit image in 16 bits (the photo at a twelfth of the range): Otsu on its 16-bit
#      values, the display range, the histogram over the real range, the real-value readout.
CAM12=$(mktemp -d)/camera12.png
convert "$PHOTO" -resize 1600x1200 -colorspace Gray -evaluate Multiply 0.0624 -depth 16 \
    -define png:color-type=0 "$CAM12"
start "$CAM12"
click 158 228          # Method (below the depth, display range and 8-bit note rows)
click 132 314 3        # Otsu threshold
shot sixteen-bit 640 300
stop

# 3d. An error banner, wrapped: a text file named like a JPEG, with a long name.
start assets/sample-coffee.png
click 130 82; xdotool key ctrl+a; xdotool type "$NOTES"; xdotool key Return
sleep 2
shot error 700 300
stop

# 4. The Batch tab after a batch of a folder holding good and bad files (made here from the
#    golden inputs, plus a text file, a truncated PNG and an empty file).
BATCH=$(mktemp -d)
mkdir -p "$BATCH/scans" "$BATCH/results"
for n in camera coins chelsea page text horse; do
    cp "crates/engine/tests/data/golden/$n/input.png" "$BATCH/scans/$n.png" 2>/dev/null || true
done
echo "not an image" > "$BATCH/scans/notes.png"
head -c 3000 crates/engine/tests/data/golden/chelsea/input.png > "$BATCH/scans/truncated.png"
: > "$BATCH/scans/empty.jpg"
start
click 202 12           # Batch tab
click 280 68; xdotool type "$BATCH/scans"
click 280 94; xdotool type "$BATCH/results"
click 30 269 4         # Start (below the ground-truth row)
click 40 459 1         # a failure: its reason shows
shot batch 700 600
stop

# 4b. A degraded document of the golden-methods pack with its ground truth (given on the
#     command line): Otsu, the Errors view (false positives red, false negatives blue) and
#     the metrics under the view and in the controls.
DOCS=crates/engine/tests/data/metrics/documents
start "$DOCS/images/doc05.png" --ground-truth "$DOCS/truth/doc05.png"
click 158 182          # Method
click 132 268 2        # Otsu threshold
xdotool mousemove 700 300; xdotool key e; sleep 2
shot ground-truth 700 300
stop

# 4c. The Tune tab: five methods and a grid over their parameters on that document, the
#     heat map of the best, the Pareto chart and the ranking.
start "$DOCS/images/doc05.png" --ground-truth "$DOCS/truth/doc05.png"
click 340 12 2         # Tune tab
click 205 93; xdotool key ctrl+a; xdotool type "sauvola,wolf,bradley,adaptive-gaussian,otsu"
click 285 119; xdotool key ctrl+a
xdotool type "block-size=11..101:10,k=0.05..0.5:0.05,c=0/5/10/20,t=5..30:5"
click 35 169 8         # Search
shot tune 900 700
stop

# 5. The Scaling lab after a sweep of the colour sample over 1-4 workers and two tile sizes:
# it opens on the summary (verdict and speedup chart); the pointer rests on the side panel so
# the chart shows no hover crosshair.
start assets/sample-coffee.png
click 273 12           # Scaling lab tab
click 190 148; xdotool key ctrl+a; xdotool type "auto,64"
click 55 315 25        # Run sweep (below the Memory ceiling and Command rows), then wait
shot lab 200 700
click 880 52 2         # All on one page
shot lab-all 200 700
stop

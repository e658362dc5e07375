#!/usr/bin/env python3
"""PNG size and encode time: tessera's settings against OpenCV's imwrite, on the same results
(tessera's ops are bit-exact to OpenCV's, so both encode the same pixels; the script checks).

usage: png_sizes.py TESSERA_BIN PHOTO [PAGE]     (needs opencv-python and numpy)

OpenCV: cv2.imencode('.png') with its defaults (zlib level 1, Z_RLE) and with
IMWRITE_PNG_BILEVEL, 1 thread, median of 7. tessera: `tessera run IMG -o - --json`-style
timing is not available with -o -, so each setting runs `tessera run ... -o FILE --json`
with the file on tmpfs-free disk and reports `encode_ms` (encode plus the atomic write and
its fsync), median of 5: an upper bound on tessera's encode time."""
import json, os, statistics, subprocess, sys, tempfile, time

import cv2
import numpy as np

cv2.setNumThreads(1)
BIN, PHOTO = sys.argv[1], sys.argv[2]
PAGE = sys.argv[3] if len(sys.argv) > 3 else None
CASES = [
    ("photo gray", PHOTO, ["--op", "gray"]),
    ("photo threshold 127", PHOTO, ["--op", "threshold", "--thresh", "127"]),
    ("photo adaptive Gaussian 11/2", PHOTO, ["--op", "adaptive-gaussian"]),
]
if PAGE:
    CASES.append(("page adaptive Gaussian 11/2", PAGE, ["--op", "adaptive-gaussian"]))
SETTINGS = [
    ("tessera auto (default)", []),
    ("tessera --compression fast", ["--compression", "fast"]),
    ("tessera --compression 1", ["--compression", "1"]),
    ("tessera --compression 6", ["--compression", "6"]),
    ("tessera --png-bilevel", ["--png-bilevel"]),
    ("tessera --png-bilevel --compression fast", ["--png-bilevel", "--compression", "fast"]),
]
out_dir = tempfile.mkdtemp(prefix="png-sizes-", dir=os.getcwd())
print(f"| result | writer | bytes | encode ms |\n|---|---|---:|---:|")
for name, src, op in CASES:
    ref = None
    for label, extra in SETTINGS:
        if "bilevel" in label and name == "photo gray":
            continue
        path = os.path.join(out_dir, "out.png")
        times = []
        for _ in range(5):
            r = subprocess.run([BIN, "run", src, "-o", path, "--workers", "1", "--json"] + op + extra,
                               check=True, capture_output=True, text=True)
            times.append(json.loads(r.stdout)["encode_ms"])
        img = cv2.imread(path, cv2.IMREAD_UNCHANGED)
        if ref is None:
            ref = img
        assert np.array_equal(img, ref), f"{label}: pixels differ"
        print(f"| {name} | {label} | {os.path.getsize(path)} | {statistics.median(times):.2f} |")
    for label, params in [("OpenCV 5.1 imwrite", []), ("OpenCV 5.1 IMWRITE_PNG_BILEVEL", [cv2.IMWRITE_PNG_BILEVEL, 1])]:
        if "BILEVEL" in label and name == "photo gray":
            continue
        ts = []
        for _ in range(7):
            t0 = time.perf_counter()
            ok, buf = cv2.imencode(".png", ref, params)
            ts.append(time.perf_counter() - t0)
        back = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        same = np.array_equal(back > 0, ref > 0) if "BILEVEL" in label else np.array_equal(back, ref)
        assert same, f"{label}: pixels differ"
        print(f"| {name} | {label} | {len(buf)} | {statistics.median(ts) * 1e3:.2f} |")
os.remove(os.path.join(out_dir, "out.png"))
os.rmdir(out_dir)

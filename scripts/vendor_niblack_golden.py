#!/usr/bin/env python3
"""Vendor the OpenCV contrib niBlackThreshold and scikit-image niblack/sauvola cases on the
pack's small 8-bit inputs (<= 128x128 pixels), and the scikit-image niblack/sauvola cases on three
16-bit inputs (SMALL16: full-range fluorescence 128x128, a ramp, a 12-bit camera in 16 bits;
about 160 KB), for crates/engine/tests/local_methods.rs.

Usage: scripts/vendor_niblack_golden.py [PACK] (default: ../shared/golden-methods next to the repo)

Writes crates/engine/tests/data/local/niblack/: the inputs and expected masks (and ambiguous
masks) under the pack's own relative paths, and cases.json (the manifest entries kept).
"""
import json, os, shutil, struct, sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
PACK = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "..", "shared", "golden-methods")
OUT = os.path.join(REPO, "crates", "engine", "tests", "data", "local", "niblack")
PARTS = ("opencv_niblack", "skimage_local")
SMALL16 = ("inputs/gray16/fluo16_small.png", "inputs/gray16/ramp16.png", "inputs/gray16/cam12_in16.png")


def png_size(path):
    with open(path, "rb") as f:
        head = f.read(24)
    w, h = struct.unpack(">II", head[16:24])
    return w, h


def main():
    manifest = json.load(open(os.path.join(PACK, "manifest.json")))
    keep = []
    for c in manifest["cases"]:
        if c["part"] not in PARTS:
            continue
        if c.get("bitdepth") == 16:
            if c["part"] != "skimage_local" or c["input"] not in SMALL16:
                continue
        elif c.get("bitdepth") != 8:
            continue
        else:
            w, h = png_size(os.path.join(PACK, c["input"]))
            if w * h > 128 * 128:
                continue
        keep.append({k: c.get(k) for k in ("id", "part", "method", "input", "bitdepth", "params", "expected", "ambiguous")})
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    files = set()
    for c in keep:
        for k in ("input", "expected", "ambiguous"):
            if c[k]:
                files.add(c[k])
    for f in sorted(files):
        dst = os.path.join(OUT, f)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(os.path.join(PACK, f), dst)
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump({"source": "golden-methods pack, parts " + ", ".join(PARTS), "cases": keep}, f, indent=0)
    print(f"{len(keep)} cases, {len(files)} files -> {OUT}")


main()

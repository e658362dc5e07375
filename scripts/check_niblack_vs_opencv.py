#!/usr/bin/env python3
"""tessera's OpenCV contrib local methods against cv2.ximgproc.niBlackThreshold on random
images, every pixel: gradients with noise 1500x1000 (six images, widths 1500, plus two of odd
widths 1233 and 999) and narrow tall ones (widths 5, 6, 7, 13: the box filters' scalar tail).
Prints the number of differing pixels per configuration (all should be 0).

usage: OPENCV_PYTHON-with-opencv-contrib python3 scripts/check_niblack_vs_opencv.py [WORKDIR]
Needs target/release/tessera (cargo build --release) and opencv-contrib-python-headless.
"""
import os, subprocess, sys, tempfile
import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TESSERA = os.path.join(HERE, "..", "target", "release", "tessera")
TYPES = ["THRESH_BINARY", "THRESH_BINARY_INV", "THRESH_TRUNC", "THRESH_TOZERO", "THRESH_TOZERO_INV"]
METHODS = [("NIBLACK", -0.2), ("NIBLACK", 0.3), ("SAUVOLA", 0.2), ("WOLF", 0.5), ("NICK", -0.2)]


def images():
    rng = np.random.default_rng(1)
    for i, (h, w) in enumerate([(1000, 1500)] * 6 + [(777, 1233), (401, 999)]):
        base = np.add.outer(np.linspace(0, 255, h), np.linspace(0, 60 + 30 * (i >= 6), w)) % 256
        yield f"photo{i}", np.clip(base + rng.normal(0, rng.uniform(1, 40), (h, w)), 0, 255).astype(np.uint8)
    for w in (5, 6, 7, 13):
        h = 40000
        yield f"narrow{w}", np.clip(np.linspace(0, 255, h)[:, None] + rng.normal(0, 20, (h, w)), 0, 255).astype(np.uint8)


def main():
    work = sys.argv[1] if len(sys.argv) > 1 else tempfile.mkdtemp(prefix="niblack-check.")
    os.makedirs(work, exist_ok=True)
    total, bad, configs = 0, 0, 0
    for name, img in images():
        src, out = os.path.join(work, name + ".png"), os.path.join(work, "out.png")
        cv2.imwrite(src, img)
        total += img.size
        for meth, k in METHODS:
            for bs in (5, 25):
                for tn in TYPES:
                    ref = cv2.ximgproc.niBlackThreshold(img, 200, getattr(cv2, tn), bs, k, r=128.0,
                                                        binarizationMethod=getattr(cv2.ximgproc, "BINARIZATION_" + meth))
                    t = tn.replace("THRESH_", "").lower().replace("_", "-")
                    subprocess.run([TESSERA, "run", src, "-o", out, "--op", meth.lower(), "--like", "opencv",
                                    "--block-size", str(bs), "--k", str(k), "--r", "128", "--type", t,
                                    "--max-value", "200"], check=True, capture_output=True)
                    got = cv2.imread(out, cv2.IMREAD_UNCHANGED)
                    d = int((got != ref).sum())
                    configs += 1
                    bad += d
                    if d:
                        print(f"{name} {meth} k {k} block {bs} {tn}: {d} pixels differ")
    print(f"OpenCV {cv2.__version__}: {configs} runs over {total} pixels, {bad} pixels differ")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()

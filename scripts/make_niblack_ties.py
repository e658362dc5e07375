#!/usr/bin/env python3
"""Vendors OpenCV contrib niBlackThreshold cases with a pixel where the 8-bit threshold
depends on how the float32 formula is evaluated (with or without OpenCV's fused
multiply-adds, or in float64: a threshold at or near a half integer; or how the box filter
scales the last `width mod 4` columns), and THRESH_TRUNC shows it. The golden-methods pack marks such pixels "ambiguous"; tessera evaluates the formulas as
OpenCV's matrix expressions do, and these cases check it.

usage: OPENCV_PYTHON-with-opencv-contrib python3 scripts/make_niblack_ties.py
Writes crates/engine/tests/data/local/niblack_ties/{cases.json, *.png}. Needs
opencv-contrib-python-headless 5.1.0.95 and numpy.
"""
import json, os
import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DST = os.path.join(HERE, "..", "crates", "engine", "tests", "data", "local", "niblack_ties")
F32 = np.float32
METHODS = [("NIBLACK", -0.2), ("NIBLACK", 0.3), ("SAUVOLA", 0.2), ("WOLF", 0.5), ("NICK", -0.2), ("NICK", 0.1)]
TYPES = ["THRESH_BINARY", "THRESH_BINARY_INV", "THRESH_TRUNC", "THRESH_TOZERO", "THRESH_TOZERO_INV"]
CROP = 64


def scenes():
    rng = np.random.default_rng(1)
    for i in range(6):
        h, w = 1000, 1500
        base = np.add.outer(np.linspace(0, 255, h), np.linspace(0, 60, w)) % 256
        yield np.clip(base + rng.normal(0, rng.uniform(1, 40), (h, w)), 0, 255).astype(np.uint8)


def thresholds(img, bs, k, meth):
    """OpenCV's float32 threshold as niBlackThreshold's expressions compute it (first), and
    the nearby ways of computing it that tessera must not follow: without the fused
    multiply-add, and in float64 from the float32 statistics (tessera before 2026-12-04)."""
    kf = float(F32(k))
    mean = cv2.boxFilter(img, cv2.CV_32F, (bs, bs), borderType=cv2.BORDER_REPLICATE)
    sq = cv2.sqrBoxFilter(img, cv2.CV_32F, (bs, bs), borderType=cv2.BORDER_REPLICATE)
    var = sq - mean * mean
    m64 = mean.astype(np.float64)
    with np.errstate(all="ignore"):
        sd = np.sqrt(var)
        if meth in ("NIBLACK", "NICK"):
            x = sd if meth == "NIBLACK" else np.sqrt(var + sq)
            return [cv2.scaleAdd(x, kf, mean), mean + x * F32(kf), m64 + kf * x]
        if meth == "SAUVOLA":
            a, b = F32(kf * (1.0 / 128.0)), F32(1.0 - kf)
            fused = (sd.astype(np.float64) * a + b).astype(F32)
            return [mean * fused, mean * (sd * a + b), m64 * (1 + kf * (sd / 128.0 - 1))]
        if meth == "WOLF":
            mn, smax = float(img.min()), float(np.nanmax(sd))
            e = cv2.multiply(sd, mean - F32(mn), scale=1.0 / smax)
            t = mean - cv2.addWeighted(mean, kf, e, -kf, -kf * mn)
            plain = mean - (mean * F32(kf) + e * F32(-kf) + F32(-kf * mn))
            return [t, plain, m64 - kf * (m64 - mn - sd * (m64 - mn) / smax)]


def main():
    os.makedirs(DST, exist_ok=True)
    cases, crops, done = [], 0, set()
    for si, img in enumerate(scenes()):
        for meth, k in METHODS:
            for bs in (5, 25):
                ts = [np.clip(np.rint(np.nan_to_num(t, nan=255.0)), 0, 255) for t in thresholds(img, bs, k, meth)]
                shown = img > np.minimum.reduce(ts)
                # One crop for each other way that disagrees on the 8-bit threshold at a
                # pixel trunc shows.
                for alt in (1, 2):
                    if (meth, k, bs, alt) in done:
                        continue
                    ys, xs = np.nonzero((ts[0] != ts[alt]) & shown)
                    if len(ys) == 0:
                        continue
                    done.add((meth, k, bs, alt))
                    y, x = int(ys[0]), int(xs[0])
                    y0 = min(max(y - CROP // 2, 0), img.shape[0] - CROP)
                    x0 = min(max(x - CROP // 2, 0), img.shape[1] - CROP)
                    crop = np.ascontiguousarray(img[y0:y0 + CROP, x0:x0 + CROP])
                    name = f"s{si}_{meth}_k{k}_bs{bs}_{('nofma', 'f64')[alt - 1]}".replace("-", "neg").replace(".", "p")
                    cv2.imwrite(os.path.join(DST, name + ".png"), crop)
                    crops += 1
                    write_cases(cases, crop, name, meth, k, bs, (y - y0, x - x0))
    crops += tail_cases(cases)
    with open(os.path.join(DST, "cases.json"), "w") as f:
        json.dump({"opencv": cv2.__version__, "cases": cases}, f, indent=1)
    print(crops, "crops,", len(cases), "cases, OpenCV", cv2.__version__)


def tail_cases(cases):
    """Crops 7 pixels wide: OpenCV's box filters scale the last `width mod 4` columns of a row
    (their scalar tail) in double, f32(S·(1/n)), the others as f32(S)·f32(1/n). One crop per
    method and block size where that decides a threshold trunc shows."""
    rng = np.random.default_rng(11)
    w, h = 7, 300000
    img = np.clip(np.linspace(0, 255, h)[:, None] + rng.normal(0, 25, (h, w)), 0, 255).astype(np.uint8)
    crops = 0
    for meth, k in (("NIBLACK", -0.2), ("NICK", -0.2), ("SAUVOLA", 0.2)):
        for bs in (5, 25):
            ref = cv2.ximgproc.niBlackThreshold(img, 255, cv2.THRESH_TRUNC, bs, k,
                                                binarizationMethod=getattr(cv2.ximgproc, "BINARIZATION_" + meth), r=128.0)
            n, kf = bs * bs, F32(k)
            p = np.pad(img.astype(np.int64), bs // 2, mode="edge")
            S = np.lib.stride_tricks.sliding_window_view(p, (bs, bs)).sum(axis=(2, 3))
            Q = np.lib.stride_tricks.sliding_window_view(p * p, (bs, bs)).sum(axis=(2, 3))
            # Every column scaled as the vectorised ones: wrong exactly in the tail.
            m, sq = S.astype(F32) * F32(1.0 / n), Q.astype(F32) * F32(1.0 / n)
            with np.errstate(all="ignore"):
                var = sq - m * m
                sd = np.sqrt(var)
                if meth == "NIBLACK":
                    t = (sd.astype(np.float64) * float(kf) + m).astype(F32)
                elif meth == "NICK":
                    t = (np.sqrt(var + sq).astype(np.float64) * float(kf) + m).astype(F32)
                else:
                    a, b = F32(float(kf) * (1 / 128.0)), F32(1 - float(kf))
                    t = m * (sd.astype(np.float64) * float(a) + float(b)).astype(F32)
            t8 = np.where(np.isnan(t), 255, np.clip(np.rint(np.nan_to_num(t)), 0, 255))
            bad = np.argwhere(np.where(img > t8, t8, img).astype(np.uint8) != ref)
            if len(bad) == 0:
                continue
            y, x = (int(v) for v in bad[0])
            y0 = min(max(y - CROP // 2, 0), h - CROP)
            crop = np.ascontiguousarray(img[y0:y0 + CROP])
            name = f"tail_{meth}_k{k}_bs{bs}".replace("-", "neg").replace(".", "p")
            cv2.imwrite(os.path.join(DST, name + ".png"), crop)
            crops += 1
            write_cases(cases, crop, name, meth, k, bs, (y - y0, x))
    return crops


def write_cases(cases, crop, name, meth, k, bs, tie):
    for tn in TYPES:
        out = cv2.ximgproc.niBlackThreshold(crop, 200, getattr(cv2, tn), bs, k,
                                            binarizationMethod=getattr(cv2.ximgproc, "BINARIZATION_" + meth), r=128.0)
        exp = f"{name}_{tn}.png"
        cv2.imwrite(os.path.join(DST, exp), out)
        cases.append({"id": f"ties/{name}/{tn}", "part": "opencv_niblack", "method": meth,
                      "input": name + ".png", "bitdepth": 8, "tie_at": list(tie),
                      "params": {"maxValue": 200, "type": tn, "blockSize": bs, "k": k,
                                 "binarizationMethod": "BINARIZATION_" + meth, "r": 128.0},
                      "expected": exp})


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Write the 16-bit (CV_16U) golden data for crates/engine/tests/wide_golden.rs into
crates/engine/tests/data/wide/, with OpenCV (cv2) as the oracle.

Usage: /work/cvenv/bin/python scripts/vendor_wide_golden.py [OUT]
  (any Python with opencv-python(-headless) 5.1 and numpy; OUT defaults to the folder above,
  which is rewritten). The inputs come from a fixed seed, so a rerun with the same OpenCV
  gives the same files.

Files (16-bit PNGs; colour PNGs in RGB(A) order, as the `image` crate reads them, while cv2 is
given the same pixels in its BGR(A) order):
* rgb_a.png, rgba_b.png, rgb12_c.png, rgb_d.png: colour inputs (random with extremes; random
  RGBA; 12-bit values in 16 bits; every combination of six extreme values), and gray_*.png:
  cv2.cvtColor(..., COLOR_BGR2GRAY / COLOR_BGRA2GRAY) of each.
* thresh_<input>.png: cv2.threshold(input, thresh, maxval, type) for every case of the input,
  stacked: case k is rows [k h, (k + 1) h) of the stack (h: the input's height).
* otsu_inputs.png / otsu_outputs.png: 64x48 gray images stacked likewise, and
  cv2.threshold(img, 0, maxval, type | THRESH_OTSU) of each.
* cases.json: which file is which, every threshold case with the level cv2 returned, the Otsu
  levels, histogram-only Otsu cases given as [value, count] pairs (cv2 ran on an image made of
  exactly those pixels): large images, and random histograms on which Otsu computed with
  other roundings (running sums, in double or float) gives another level than cv2, so that
  only OpenCV's exact arithmetic passes; and whether cv2 accepts THRESH_TRIANGLE on a 16-bit
  image.
"""
import json
import os
import sys

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.path.join(REPO, "crates", "engine", "tests", "data", "wide")
W, H = 64, 48
EXTREMES = np.array([0, 1, 32767, 32768, 65534, 65535], np.uint16)
TYPES = [("binary", cv2.THRESH_BINARY), ("binary-inv", cv2.THRESH_BINARY_INV),
         ("trunc", cv2.THRESH_TRUNC), ("tozero", cv2.THRESH_TOZERO),
         ("tozero-inv", cv2.THRESH_TOZERO_INV)]
# Fractional, negative, out-of-range and int-overflowing levels (cvFloor saturates).
THRESHES = [-1e10, -70000.0, -1.0, -0.5, 0.0, 0.5, 1.0, 99.999, 1000.5, 2047.5, 4095.0,
            30000.0, 32767.5, 32768.0, 65533.9, 65534.0, 65534.5, 65535.0, 65535.5, 70000.0, 3e9]
# Paired with the levels in turn: cvRound is half to even and saturates, then to 0..65535.
MAXVALS = [65535.0, 1000.5, 0.5, 1.5, 2.5, -3.0, 300.0, 70000.0, 255.0, 3e9, 65535.5, 4095.0]


def write_png(name, img):
    """Writes a uint16 image (gray, or colour in RGB(A) order) and checks it reads back."""
    assert img.dtype == np.uint16
    path = os.path.join(OUT, name)
    bgr = img if img.ndim == 2 else img[..., [2, 1, 0, 3][: img.shape[2]]]
    assert cv2.imwrite(path, bgr, [cv2.IMWRITE_PNG_COMPRESSION, 9]), path
    back = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    assert back.dtype == np.uint16 and np.array_equal(back, bgr), path
    return name


def with_extremes(rng, img, share=4):
    """Replaces about 1/share of the samples by extreme values."""
    pick = rng.integers(0, share, img.shape) == 0
    ext = EXTREMES[rng.integers(0, len(EXTREMES), img.shape)]
    return np.where(pick, ext, img).astype(np.uint16)


def gray_of(rgb):
    code = cv2.COLOR_BGR2GRAY if rgb.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
    bgr = np.ascontiguousarray(rgb[..., [2, 1, 0, 3][: rgb.shape[2]]])
    return cv2.cvtColor(bgr, code)


def level_image(rng):
    """A gray image holding T - 1, T, T + 1 for every tested level T (where in range), the
    extremes, and random values for the rest."""
    vals = set(int(v) for v in EXTREMES)
    for t in THRESHES:
        f = int(np.floor(t))
        for v in (f - 1, f, f + 1):
            if 0 <= v <= 65535:
                vals.add(v)
    vals = np.array(sorted(vals), np.uint16)
    img = rng.integers(0, 65536, W * H).astype(np.uint16)
    reps = np.repeat(vals, 4)
    img[: len(reps)] = reps
    rng.shuffle(img)
    return img.reshape(H, W)


def threshold_cases(name, gray):
    cases, outs = [], []
    for i, t in enumerate(THRESHES):
        m = MAXVALS[i % len(MAXVALS)]
        for tname, tcode in TYPES:
            ret, out = cv2.threshold(gray, t, m, tcode)
            assert out.dtype == np.uint16 and out.shape == gray.shape
            cases.append({"type": tname, "thresh": t, "maxval": m, "retval": int(ret)})
            outs.append(out)
    expected = write_png(f"thresh_{name}", np.vstack(outs))
    return {"input": name, "expected": expected, "height": int(gray.shape[0]), "cases": cases}


def otsu_images(rng, grays):
    imgs = {"gray_a": grays["gray_a.png"], "gray_c": grays["gray_c.png"]}
    imgs["constant"] = np.full((H, W), 12345, np.uint16)
    two = np.full(W * H, 1000, np.uint16)
    two[: W * H * 7 // 12] = 40000
    imgs["two_values"] = two
    few = np.zeros(W * H, np.uint16)
    few[:3] = 65535
    imgs["three_at_max"] = few
    imgs["extremes_only"] = rng.choice(np.array([0, 65535], np.uint16), W * H)
    imgs["three_values"] = rng.choice(np.array([5, 20000, 60000], np.uint16), W * H,
                                      p=[0.5, 0.3, 0.2])
    one_off = np.full(W * H, 40000, np.uint16)
    one_off[0] = 1234
    imgs["one_off"] = one_off
    imgs["narrow"] = rng.integers(30000, 30011, W * H).astype(np.uint16)
    imgs["skewed"] = np.minimum(rng.exponential(3000.0, W * H), 65535).astype(np.uint16)
    imgs["bimodal"] = np.clip(np.concatenate([rng.normal(12000, 2500, W * H * 2 // 3),
                                              rng.normal(47000, 6000, W * H - W * H * 2 // 3)]),
                              0, 65535).astype(np.uint16)
    imgs["twelve_bit_skewed"] = np.minimum(rng.gamma(2.0, 300.0, W * H), 4095).astype(np.uint16)
    imgs["uniform"] = rng.integers(0, 65536, W * H).astype(np.uint16)
    cases, ins, outs = [], [], []
    for k, (cid, img) in enumerate(imgs.items()):
        img = np.ascontiguousarray(img.reshape(H, W).astype(np.uint16))
        tname, tcode = TYPES[k % len(TYPES)]
        maxval = [65535.0, 1000.0, 300.5][k % 3]
        level, out = cv2.threshold(img, 0, maxval, tcode | cv2.THRESH_OTSU)
        cases.append({"id": cid, "type": tname, "maxval": maxval, "level": int(level)})
        ins.append(img)
        outs.append(out)
    return {"inputs": write_png("otsu_inputs.png", np.vstack(ins)),
            "outputs": write_png("otsu_outputs.png", np.vstack(outs)),
            "height": H, "cases": cases}


def otsu_histograms(rng):
    """Large images given by their histograms: many pixels, so the double sums matter."""
    cases = []

    def add(cid, values, counts, width=1000):
        values = np.asarray(values, np.int64)
        counts = np.asarray(counts, np.int64)
        keep = counts > 0
        values, counts = values[keep], counts[keep]
        n = int(counts.sum())
        pad = (-n) % width  # pad with the first value to fill the last row
        counts[0] += pad
        img = np.repeat(values.astype(np.uint16), counts)
        rng.shuffle(img)
        img = img.reshape(-1, width)
        level, _ = cv2.threshold(img, 0, 65535, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        cases.append({"id": cid, "width": width, "pixels": int(img.size), "level": int(level),
                      "values": [[int(v), int(c)] for v, c in zip(values, counts)]})

    v = np.arange(0, 65536, 37)
    mix = (4e4 * np.exp(-0.5 * ((v - 15000) / 4000.0) ** 2)
           + 2.5e4 * np.exp(-0.5 * ((v - 41000) / 7000.0) ** 2)
           + 1e4 * np.exp(-0.5 * ((v - 60000) / 2000.0) ** 2))
    add("mixture_sparse", v, np.round(mix + rng.integers(0, 50, len(v))))
    v = np.arange(4096)
    add("twelve_bit_full", v, rng.integers(0, 2000, 4096) + (v > 2500) * 1500)
    # Two equal classes far apart: every level between them has the same variance, and the
    # first strict maximum (in double arithmetic) wins.
    add("equal_pair", [100, 60000], [1_500_000, 1_500_000])
    add("single_bin_each_end", [0, 65535], [999_999, 1])
    v = np.arange(20000, 20400)
    add("plateau", v, np.full(len(v), 5000))
    return cases


def running_sum_otsu(hist, dtype):
    """Otsu with q1 and sum(i p) as running sums (the textbook form, without OpenCV's
    `mu1 *= q1 ... / q1`), in `dtype`: the same maths, other roundings. First maximum wins."""
    n = hist.sum()
    i = np.arange(len(hist), dtype=dtype)
    scale = dtype(1.0) / dtype(n)
    p = hist.astype(dtype) * scale
    mu = np.cumsum(i * hist.astype(dtype))[-1] * scale
    q1 = np.cumsum(p)
    s1 = np.cumsum(i * p)
    q2 = dtype(1.0) - q1
    eps = dtype(np.finfo(np.float32).eps)
    ok = (np.minimum(q1, q2) >= eps) & (np.maximum(q1, q2) <= dtype(1.0) - eps)
    with np.errstate(divide="ignore", invalid="ignore"):
        mu1 = s1 / q1
        mu2 = (mu - q1 * mu1) / q2
        sigma = q1 * q2 * (mu1 - mu2) * (mu1 - mu2)
    sigma = np.where(ok, sigma, 0)
    best = int(np.argmax(sigma))
    return best if sigma[best] > 0 else 0


def otsu_rounding_cases(rng, keep=8):
    """Random histograms on which Otsu in other roundings (running sums in double or float)
    gives another level than cv2: there the level depends on OpenCV's exact arithmetic."""
    cases = []
    for k in range(3000):
        top = int(rng.choice([256, 4096, 65536]))
        if k % 3 == 0:  # a few values, heavy-tailed counts
            vals = rng.choice(top, int(rng.integers(2, 12)), replace=False)
            cnts = np.maximum(1, (rng.pareto(1.0, len(vals)) * 50).astype(np.int64))
        elif k % 3 == 1:  # many values
            vals = rng.choice(top, min(top, int(rng.integers(20, 300))), replace=False)
            cnts = rng.integers(1, 50, len(vals))
        else:  # symmetric about the middle: equal variances on both sides, rounding decides
            c = top // 2
            d = rng.choice(np.arange(1, c), int(rng.integers(1, 6)), replace=False)
            cn = rng.integers(1, 1000, len(d))
            vals = np.concatenate([c - d, c + d, [c]])
            cnts = np.concatenate([cn, cn, [int(rng.integers(0, 1000))]])
        vals, cnts = np.asarray(vals, np.int64), np.asarray(cnts, np.int64)
        vals, cnts = vals[cnts > 0], cnts[cnts > 0]
        hist = np.zeros(65536, np.int64)
        np.add.at(hist, vals, cnts)
        img = np.repeat(vals.astype(np.uint16), cnts).reshape(1, -1)
        level = int(cv2.threshold(img, 0, 65535, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[0])
        others = {running_sum_otsu(hist, np.float64), running_sum_otsu(hist, np.float32)}
        if others != {level}:
            order = np.argsort(vals)
            cases.append({"id": f"rounding_{k}", "width": int(img.size), "pixels": int(img.size),
                          "level": level,
                          "values": [[int(vals[j]), int(cnts[j])] for j in order]})
            if len(cases) == keep:
                break
    return cases


def main():
    global OUT
    if len(sys.argv) > 1:
        OUT = sys.argv[1]
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.endswith(".png") or f == "cases.json":
            os.remove(os.path.join(OUT, f))
    rng = np.random.default_rng(20260513)

    rgb_a = with_extremes(rng, rng.integers(0, 65536, (H, W, 3)).astype(np.uint16))
    rgba_b = with_extremes(rng, rng.integers(0, 65536, (H, W, 4)).astype(np.uint16))
    rgb12_c = rng.integers(0, 4096, (H, W, 3)).astype(np.uint16)
    rgb12_c[0, :8] = [[0, 0, 0], [4095, 4095, 4095], [4095, 0, 0], [0, 4095, 0], [0, 0, 4095],
                      [4095, 4095, 0], [1, 1, 1], [2048, 2048, 2048]]
    combos = np.array(np.meshgrid(EXTREMES, EXTREMES, EXTREMES, indexing="ij")).reshape(3, -1).T
    rgb_d = combos.reshape(9, 24, 3).astype(np.uint16)

    gray_cases, grays = [], {}
    for name, rgb in [("rgb_a", rgb_a), ("rgba_b", rgba_b), ("rgb12_c", rgb12_c),
                      ("rgb_d", rgb_d)]:
        cn = rgb.shape[2]
        inp = write_png(f"{name}.png", rgb)
        gray = gray_of(rgb)
        out = write_png(f"gray_{name[-1]}.png", gray)
        grays[out] = gray
        gray_cases.append({"input": inp, "channels": cn, "expected": out})

    levels = level_image(rng)
    write_png("levels_e.png", levels)
    thresholds = [threshold_cases("levels_e.png", levels),
                  threshold_cases("gray_a.png", grays["gray_a.png"]),
                  threshold_cases("gray_c.png", grays["gray_c.png"])]

    try:
        cv2.threshold(grays["gray_a.png"], 0, 65535, cv2.THRESH_BINARY | cv2.THRESH_TRIANGLE)
        triangle = {"accepted": True}
    except cv2.error as e:
        triangle = {"accepted": False, "error": str(e).strip().splitlines()[0]}

    doc = {
        "source": "scripts/vendor_wide_golden.py",
        "opencv": cv2.__version__,
        "numpy": np.__version__,
        "gray": gray_cases,
        "threshold": thresholds,
        "otsu_images": otsu_images(rng, grays),
        "otsu_histograms": otsu_histograms(rng) + otsu_rounding_cases(rng),
        "triangle_16u": triangle,
    }
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(doc, f, separators=(",", ":"))
        f.write("\n")
    total = sum(os.path.getsize(os.path.join(OUT, f)) for f in os.listdir(OUT))
    n_thresh = sum(len(t["cases"]) for t in thresholds)
    print(f"{len(gray_cases)} gray, {n_thresh} threshold, {len(doc['otsu_images']['cases'])} + "
          f"{len(doc['otsu_histograms'])} Otsu cases; triangle on 16U: {triangle}; "
          f"{total} bytes -> {OUT}")


if __name__ == "__main__":
    main()

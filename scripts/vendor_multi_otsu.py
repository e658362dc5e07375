#!/usr/bin/env python3
"""Vendor the golden-methods pack's scikit-image threshold_multiotsu cases into
crates/engine/tests/data/multi_otsu/cases.json, so tests/multi_otsu.rs runs without the pack.

Per case: the id, classes, the oracle's expected outcome, and the histogram skimage builds:
* integer input (uint8 / uint16): `first` (the image minimum) and `counts`, one per integer
  value from min to max (skimage.exposure.histogram of an integer image);
* `as_float64` input (a uint16 image as float64, 256 bins): `values`, [value, count] pairs with
  the image's minimum, maximum and one actual value per occupied np.histogram bin, carrying that
  bin's count: an image made of these pixels has the same range, hence the same bin edges, and
  the same 256 bin counts (checked here with numpy when it is installed).

PNGs are read with a stdlib-only reader (gray, 8 or 16 bit, not interlaced).

Usage: scripts/vendor_multi_otsu.py [PACK] [OUT]
  PACK defaults to ../shared/golden-methods relative to the repository root.
"""
import json
import os
import struct
import sys
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def read_png_gray(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos = 8
    idat = b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos:pos + 4])
        kind = data[pos + 4:pos + 8]
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert ctype == 0 and interlace == 0 and depth in (8, 16), (path, ctype, depth)
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    raw = zlib.decompress(idat)
    bpp = depth // 8
    stride = w * bpp
    prev = bytearray(stride)
    out = []
    p = 0
    for _ in range(h):
        ftype = raw[p]
        line = bytearray(raw[p + 1:p + 1 + stride])
        p += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if ftype == 1:
                line[i] = (line[i] + a) & 255
            elif ftype == 2:
                line[i] = (line[i] + b) & 255
            elif ftype == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif ftype == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
            else:
                assert ftype == 0, ftype
        if bpp == 1:
            out.extend(line)
        else:
            out.extend((line[i] << 8) | line[i + 1] for i in range(0, stride, 2))
        prev = line
    return out, depth


def int_histogram(pixels):
    lo, hi = min(pixels), max(pixels)
    counts = [0] * (hi - lo + 1)
    for v in pixels:
        counts[v - lo] += 1
    return lo, counts


def float_values(pixels, nbins=256):
    """[value, count] pairs reproducing np.histogram(pixels.astype(float64), nbins)."""
    import numpy as np  # only for the bin edges, exactly as numpy computes them

    a = np.asarray(pixels, dtype=np.float64)
    counts, edges = np.histogram(a, bins=nbins)
    # the bin of each distinct value, as numpy assigns it
    distinct, dcounts = np.unique(a, return_counts=True)
    idx = np.searchsorted(edges, distinct, side="right") - 1
    idx[idx == nbins] = nbins - 1
    check = np.zeros(nbins, dtype=np.int64)
    np.add.at(check, idx, dcounts)
    assert (check == counts).all()
    pairs = {}
    for v, b in zip(distinct, idx):
        pairs.setdefault(int(b), int(v))  # the smallest value of each bin
    lo, hi = int(distinct[0]), int(distinct[-1])
    out = []
    for b, v in sorted(pairs.items()):
        out.append([v, int(counts[b])])
    # min and max must stay in the image: the min is the first pair's value; the max, if not
    # the representative of the last bin, is added with count 1 taken from that bin.
    if out[-1][0] != hi:
        out[-1][1] -= 1
        out.append([hi, 1])
        if out[-2][1] == 0:
            del out[-2]
    assert out[0][0] == lo
    # re-check with numpy on the reconstructed image
    rec = np.repeat(np.array([v for v, _ in out], dtype=np.float64), [c for _, c in out])
    c2, e2 = np.histogram(rec, bins=nbins)
    assert (c2 == counts).all() and (e2 == edges).all()
    return out


def main():
    pack = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "..", "shared", "golden-methods")
    out_path = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        ROOT, "crates", "engine", "tests", "data", "multi_otsu", "cases.json")
    cases = []
    for line in open(os.path.join(pack, "manifest.json")):
        line = line.strip().rstrip(",")
        if '"threshold_multiotsu' not in line or not line.startswith("{\"id\""):
            continue
        c = json.loads(line)
        if not c["method"].startswith("threshold_multiotsu"):
            continue
        classes = int(c["method"].rsplit("classes", 1)[1])
        pixels, depth = read_png_gray(os.path.join(pack, c["input"]))
        exp = c["expected"]
        e = {"status": exp["status"]}
        if exp["status"] == "ok":
            e["value"] = exp["value"]
        elif exp["status"] == "exception":
            e["message"] = exp.get("message", "")
        else:
            e["reason"] = exp.get("reason", "")
        case = {"id": c["id"], "classes": classes, "bitdepth": depth,
                "dtype": c["params"]["input_dtype"], "expected": e}
        if case["dtype"] == "float64":
            case["values"] = float_values(pixels)
        elif exp["status"] == "not_run":
            lo, counts = int_histogram(pixels)
            case["first"] = lo
            case["bins"] = len(counts)  # counts left out: up to 65536 bins
        else:
            case["first"], case["counts"] = int_histogram(pixels)
        cases.append(case)
    with open(out_path, "w") as f:
        f.write('{"source": "golden-methods manifest.json, skimage threshold_multiotsu cases '
                '(scripts/vendor_multi_otsu.py)",\n "cases": [\n')
        f.write(",\n".join(json.dumps(c, separators=(",", ":")) for c in cases))
        f.write("\n]}\n")
    print(f"{len(cases)} cases -> {out_path}")


if __name__ == "__main__":
    main()

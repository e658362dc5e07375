#!/usr/bin/env python3
"""Vendor the ImageJ / Fiji global auto-threshold oracle levels that
crates/engine/tests/global_methods.rs needs, from the golden-methods pack.

Usage: scripts/vendor_methods_golden.py [PACK] (default: ../shared/golden-methods relative to the repo)

Writes crates/engine/tests/data/methods/levels.json:
  {"inputs": {name: {"bitdepth", "hist": [256 counts ImageJ's method saw],
                     "min", "max" (16-bit: the image's min and max),
                     "hist16_dv", "hist16_n" (16-bit inputs with Fiji levels: the image's own
                         histogram, as value deltas from the previous occupied value and counts),
                     "imagej": {Method: [level, raw, [light_lo, light_hi], [dark_lo, dark_hi]]},
                     "fiji": {Method: level}}}}
Only the standard library is used (a tiny PNG reader for gray 8/16-bit, non-interlaced PNGs).
"""
import json, os, struct, sys, zlib
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def read_png_gray(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat, hdr = 8, b"", None
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        pos += 12 + n
        if typ == b"IHDR":
            hdr = struct.unpack(">IIBBBBB", body)
        elif typ == b"IDAT":
            idat += body
    w, h, depth, ctype, _, _, interlace = hdr
    assert ctype == 0 and interlace == 0 and depth in (8, 16), (path, hdr)
    bpp = depth // 8
    raw = zlib.decompress(idat)
    stride = w * bpp
    prev = bytearray(stride)
    out = []
    p = 0
    for _ in range(h):
        f = raw[p]; line = bytearray(raw[p + 1:p + 1 + stride]); p += 1 + stride
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                pa, pb, pc = abs(b - c), abs(a - c), abs(a + b - 2 * c)
                pr = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                line[i] = (line[i] + pr) & 255
        if bpp == 1:
            out.extend(line)
        else:
            out.extend((line[2 * i] << 8) | line[2 * i + 1] for i in range(w))
        prev = line
    return depth, out


def main():
    pack = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "..", "shared", "golden-methods")
    man = json.load(open(os.path.join(pack, "manifest.json")))
    inputs = {}
    for c in man["cases"]:
        part = c["part"]
        if not (part == "imagej_global" or part.startswith("fiji_auto_threshold")):
            continue
        name = c["input"][len("inputs/"):-len(".png")].replace("/", "__")
        e = inputs.setdefault(name, {"bitdepth": c["bitdepth"], "imagej": {}, "fiji": {}})
        if part == "imagej_global" and c["kind"] == "level":
            x = c["expected"]
            e["imagej"][c["method"]] = [x["level"], x["raw_method_return"],
                                        [int(v) for v in x["light_background_range"]],
                                        [int(v) for v in x["dark_background_range"]]]
            if "hist" not in e:
                d = json.load(open(os.path.join(pack, c["details"])))
                e["hist"] = d["histogram"]
                if c["bitdepth"] == 16:
                    e["min"], e["max"] = int(d["display_min"]), int(d["display_max"])
        elif part.startswith("fiji"):
            lvl = c["expected"]["level"] if c["kind"] == "level" else c["level"]
            old = e["fiji"].setdefault(c["method"], lvl)
            assert old == lvl, c["id"]
    for name, e in inputs.items():
        # The image's own 16-bit histogram, only where Fiji levels need it (size: the documents
        # have ~30000 distinct values): delta-coded values and their counts.
        if e["bitdepth"] == 16 and e["fiji"]:
            depth, px = read_png_gray(os.path.join(pack, "inputs", name.replace("__", "/") + ".png"))
            assert depth == 16
            pairs = sorted(Counter(px).items())
            e["hist16_dv"] = [v - (pairs[i - 1][0] if i else 0) for i, (v, _) in enumerate(pairs)]
            e["hist16_n"] = [n for _, n in pairs]
    out = os.path.join(REPO, "crates", "engine", "tests", "data", "methods", "levels.json")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    with open(out, "w") as f:
        f.write("{\"pack\": \"golden-methods (ImageJ 1.53t AutoThresholder, Fiji Auto_Threshold 1.18.0)\",\n\"inputs\": {\n")
        names = sorted(inputs)
        for i, n in enumerate(names):
            f.write(json.dumps(n) + ": " + json.dumps(inputs[n], separators=(",", ":"), sort_keys=True))
            f.write(",\n" if i + 1 < len(names) else "\n")
        f.write("}}\n")
    print(out, os.path.getsize(out), "bytes,", len(inputs), "inputs")


if __name__ == "__main__":
    main()

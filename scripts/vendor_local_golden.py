#!/usr/bin/env python3
"""Vendor a small subset of the golden-methods pack's Fiji Auto Local Threshold cases
(`part == "fiji_alt"`) for crates/engine/tests/local_fiji.rs.

Usage: scripts/vendor_local_golden.py [PACK] (default: ../shared/golden-methods relative to the repo)

Copies the small inputs (inputs/gray8/camera_small, noise_13x17, noise_1x9, noise_5x5 and every
inputs/adversarial/*.png a fiji_alt case uses) and all their fiji_alt expected masks into
crates/engine/tests/data/local/fiji/, keeping the pack's relative paths, and writes
crates/engine/tests/data/local/fiji/cases.json:
  {"source": ..., "cases": [{"id", "method", "params": {radius, parameter_1, parameter_2,
                              white_objects_on_black_background, call}, "input", "expected"}]}
with `input` and `expected` relative to that folder. Re-runnable: the folder is rewritten.
Only the standard library is used.
"""
import json, os, shutil, sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
OUT = os.path.join(REPO, "crates", "engine", "tests", "data", "local", "fiji")
SMALL_GRAY8 = {
    "inputs/gray8/camera_small.png",
    "inputs/gray8/noise_13x17.png",
    "inputs/gray8/noise_1x9.png",
    "inputs/gray8/noise_5x5.png",
}


def main():
    pack = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "..", "shared", "golden-methods")
    pack = os.path.abspath(pack)
    manifest = json.load(open(os.path.join(pack, "manifest.json")))
    cases = [c for c in manifest["cases"] if c["part"] == "fiji_alt"
             and (c["input"] in SMALL_GRAY8 or c["input"].startswith("inputs/adversarial/"))]
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    out_cases = []
    for c in sorted(cases, key=lambda c: c["id"]):
        for rel in (c["input"], c["expected"]):
            dst = os.path.join(OUT, rel)
            if not os.path.exists(dst):
                os.makedirs(os.path.dirname(dst), exist_ok=True)
                shutil.copyfile(os.path.join(pack, rel), dst)
        p = c["params"]
        out_cases.append({
            "id": c["id"],
            "method": c["method"],
            "params": {k: p[k] for k in ("radius", "parameter_1", "parameter_2",
                                         "white_objects_on_black_background", "call")},
            "input": c["input"],
            "expected": c["expected"],
        })
    doc = {
        "source": "golden-methods pack, part fiji_alt (Fiji Auto_Local_Threshold 1.11.0 on ImageJ 1.53t); "
                  "vendored by scripts/vendor_local_golden.py",
        "cases": out_cases,
    }
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        f.write("{\n")
        f.write(f' "source": {json.dumps(doc["source"])},\n "cases": [\n')
        f.write(",\n".join("  " + json.dumps(c, sort_keys=True) for c in out_cases))
        f.write("\n ]\n}\n")
    total = sum(os.path.getsize(os.path.join(dp, fn)) for dp, _, fns in os.walk(OUT) for fn in fns)
    inputs = len({c["input"] for c in out_cases})
    print(f"{len(out_cases)} cases on {inputs} inputs, {total} bytes in {os.path.relpath(OUT, REPO)}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Vendors the golden-methods pack's 16-bit global-method masks of one input (the 12-bit
camera image in 16 bits) into crates/engine/tests/data/native/, for tests/native_depth.rs:
ImageJ's dark-background masks (`setAutoThreshold(method, true)`) and Fiji's Auto Threshold
masks (`image > level`). The input itself is vendored by vendor_niblack_golden.py.

Usage: python3 scripts/vendor_native_golden.py [../shared/golden-methods]
"""
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACK = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "golden-methods"
OUT = ROOT / "crates" / "engine" / "tests" / "data" / "native"
INPUT = "inputs/gray16/cam12_in16.png"


def wanted(case):
    if case.get("kind") != "mask" or case.get("input") != INPUT:
        return False
    if case["part"] == "imagej_global":
        return case["params"].get("dark_background") is True
    return case["part"] == "fiji_auto_threshold16"


def main():
    manifest = json.loads((PACK / "manifest.json").read_text())
    cases = [c for c in manifest["cases"] if wanted(c)]
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "masks").mkdir(parents=True)
    kept = []
    for c in cases:
        name = c["part"] + "__" + Path(c["expected"]).name
        shutil.copyfile(PACK / c["expected"], OUT / "masks" / name)
        c = dict(c)
        c["expected"] = "masks/" + name
        c["input"] = "../local/niblack/" + INPUT
        kept.append(c)
    (OUT / "cases.json").write_text(json.dumps({"source": "golden-methods manifest.json",
                                                "cases": kept}, indent=1, sort_keys=True) + "\n")
    print(f"{len(kept)} cases -> {OUT}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Vendors the golden-methods pack's doxa metrics pairs (31 (ground truth, prediction) pairs
and doxapy 0.9.2's `calculate_performance` values) into crates/engine/tests/data/metrics/,
for tests/metrics_golden.rs. Also copies the eight synthetic documents (degraded 8-bit image
and exact ground truth) that the tune tests use.

Usage: python3 scripts/vendor_metrics_golden.py [../shared/golden-methods]
"""
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACK = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "golden-methods"
OUT = ROOT / "crates" / "engine" / "tests" / "data" / "metrics"


def vendored(rel, files):
    """Copies a pack file once, under a flat name; returns the name."""
    name = rel.replace("inputs/documents/", "").replace("expected/doxapy/metrics/", "")
    name = name.replace("expected/doxapy/", "").replace("/", "__")
    if name not in files:
        shutil.copyfile(PACK / rel, OUT / "files" / name)
        files.add(name)
    return name


def main():
    manifest = json.loads((PACK / "manifest.json").read_text())
    cases = [c for c in manifest["cases"] if c.get("kind") == "metrics"]
    if OUT.exists():
        shutil.rmtree(OUT)
    (OUT / "files").mkdir(parents=True)
    files = set()
    kept = []
    for c in cases:
        p = c["params"]
        kept.append({
            "id": c["id"],
            "groundtruth": "files/" + vendored(p["groundtruth"], files),
            "prediction": "files/" + vendored(p["prediction"], files),
            "prediction_made_by": p.get("prediction_made_by", ""),
            "expected": c["expected"],
            "tolerance": c["tolerance"],
        })
    docs = OUT / "documents"
    docs.mkdir()
    for src in sorted((PACK / "inputs" / "documents").glob("doc0?_degraded.png")):
        stem = src.name.replace("_degraded.png", "")
        (docs / "images").mkdir(exist_ok=True)
        (docs / "truth").mkdir(exist_ok=True)
        shutil.copyfile(src, docs / "images" / f"{stem}.png")
        shutil.copyfile(src.with_name(f"{stem}_gt.png"), docs / "truth" / f"{stem}.png")
    meta = {
        "source": "../shared/golden-methods (doxapy 0.9.2 calculate_performance)",
        "made_by": "scripts/vendor_metrics_golden.py",
        "cases": kept,
    }
    (OUT / "cases.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"{len(kept)} pairs, {len(files)} files, documents in {docs}")


if __name__ == "__main__":
    main()

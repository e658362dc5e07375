#!/usr/bin/env python3
"""The pseudo-F-measure oracle for tests/metrics_golden.rs: scikit-image 0.26.0's `thin`
(Guo and Hall's parallel thinning, as MATLAB's bwmorph 'thin') of each vendored ground truth's
foreground (value < 128), saved as a PNG (255 = skeleton), and DIBCO 2010's pseudo-recall and
pseudo-F-measure of each vendored (ground truth, prediction) pair computed from it with numpy.
Also thins a few random blob images, to cover shapes text does not have.

Needs numpy, pillow and scikit-image==0.26.0 (e.g. python3 -m venv v && v/bin/pip install
scikit-image==0.26.0 pillow). Usage: python3 scripts/make_pseudo_golden.py
"""
import json
from pathlib import Path

import numpy as np
import skimage
from PIL import Image
from skimage.morphology import thin

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "crates" / "engine" / "tests" / "data" / "metrics"
OUT = DATA / "pseudo"


def load(p):
    return np.array(Image.open(p).convert("L"))


def main():
    OUT.mkdir(exist_ok=True)
    cases = json.loads((DATA / "cases.json").read_text())["cases"]
    skeletons = {}
    pairs = []
    for c in cases:
        gt_name = c["groundtruth"]
        if gt_name not in skeletons:
            fg = load(DATA / gt_name) < 128
            sk = thin(fg)
            name = "skeleton__" + Path(gt_name).name
            Image.fromarray((sk * 255).astype(np.uint8)).save(OUT / name, optimize=True)
            skeletons[gt_name] = (name, sk, fg)
        name, sk, fg = skeletons[gt_name]
        pred = load(DATA / c["prediction"]) < 128
        tp = np.count_nonzero(pred & fg)
        fp = np.count_nonzero(pred & ~fg)
        n_sk = np.count_nonzero(sk)
        rps = np.count_nonzero(sk & pred) / n_sk if n_sk else float("nan")
        p = tp / (tp + fp) if tp + fp else float("nan")
        pf = 2 * rps * p / (rps + p) * 100 if (rps + p) else float("nan")
        def num(v):
            return v if np.isfinite(v) else ("NaN" if np.isnan(v) else "Infinity")
        pairs.append({
            "id": c["id"],
            "skeleton": name,
            "pseudo_recall": num(rps * 100),
            "pseudo_f_measure": num(pf),
        })
    rng = np.random.default_rng(20261203)
    blobs = []
    for i in range(6):
        h, w = int(rng.integers(20, 70)), int(rng.integers(20, 70))
        img = rng.random((h, w)) < 0.55
        # Smooth into blobs: a few majority passes.
        for _ in range(3):
            s = sum(np.roll(np.roll(img, dy, 0), dx, 1).astype(int)
                    for dy in (-1, 0, 1) for dx in (-1, 0, 1))
            img = s >= 5
        name = f"blobs{i}.png"
        Image.fromarray(np.where(img, 0, 255).astype(np.uint8)).save(OUT / name)
        sk = thin(img)
        Image.fromarray((sk * 255).astype(np.uint8)).save(OUT / ("skeleton__" + name))
        blobs.append({"image": name, "skeleton": "skeleton__" + name})
    meta = {
        "made_by": "scripts/make_pseudo_golden.py",
        "oracle": f"scikit-image {skimage.__version__} skimage.morphology.thin",
        "pairs": pairs,
        "blobs": blobs,
    }
    (OUT / "pseudo.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(len(pairs), "pairs,", len(skeletons), "skeletons,", len(blobs), "blob images")


if __name__ == "__main__":
    main()

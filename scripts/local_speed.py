#!/usr/bin/env python3
"""Local methods, side by side in one run: tessera (engine example `localbench`) against
OpenCV contrib's niBlackThreshold (one thread) and doxapy 0.9.2 (single-threaded C++) on the
same gray image, with the ratios. Prints a markdown table.

usage: OPENCV_PYTHON=/path/to/python-with-opencv-contrib-and-doxapy \
       python3 scripts/local_speed.py [IMAGE] [--repeats 7]

Needs `cargo build --release -p tessera-engine --example localbench`. The Python given by
OPENCV_PYTHON needs opencv-contrib-python-headless (5.1.0.95) and doxapy (0.9.2).
Times are the median compute time of the method on the gray image (no decoding, no writing).
"""
import json, os, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
args = sys.argv[1:]
repeats = 7
if "--repeats" in args:
    i = args.index("--repeats")
    repeats = int(args[i + 1])
    del args[i:i + 2]
IMAGE = args[0] if args else os.path.join(REPO, "..", "shared", "peers", "photo_8mp.jpg")
PY = os.environ.get("OPENCV_PYTHON", "python3")
BENCH = os.path.join(REPO, "target", "release", "examples", "localbench")

# (tessera op, like, window, OpenCV method or None, doxa algorithm or None)
CASES = [
    ("niblack", "opencv", 25, "NIBLACK", "NIBLACK"),
    ("sauvola", "opencv", 25, "SAUVOLA", "SAUVOLA"),
    ("wolf", "opencv", 25, "WOLF", "WOLF"),
    ("nick", "opencv", 25, "NICK", "NICK"),
    ("niblack", "opencv", 75, "NIBLACK", "NIBLACK"),
    ("sauvola", "opencv", 75, "SAUVOLA", "SAUVOLA"),
    ("wolf", "opencv", 75, "WOLF", "WOLF"),
    ("nick", "opencv", 75, "NICK", "NICK"),
    ("niblack", "opencv", 11, "NIBLACK", None),
    ("niblack", "opencv", 101, "NIBLACK", None),
    ("sauvola", "skimage", 25, None, None),
    ("bradley", "-", 25, None, None),
    ("bernsen", "fiji", 37, None, "BERNSEN"),
    ("sauvola", "fiji", 5, None, None),
    ("sauvola", "fiji", 50, None, None),
    ("bernsen", "fiji", 5, None, None),
    ("bernsen", "fiji", 50, None, None),
    ("median", "fiji", 5, None, None),
    ("median", "fiji", 50, None, None),
    ("local-otsu", "fiji", 5, None, None),
]

PEER = r'''
import sys, time, json, cv2, numpy as np
cv2.setNumThreads(1)
img = cv2.imread(sys.argv[1], cv2.IMREAD_COLOR)
g = np.ascontiguousarray(cv2.cvtColor(img, cv2.COLOR_BGR2GRAY))
reps = int(sys.argv[2])
cases = json.loads(sys.argv[3])
def med(f):
    f(); ts = []
    for _ in range(reps):
        t = time.perf_counter(); f(); ts.append(time.perf_counter() - t)
    return sorted(ts)[len(ts) // 2] * 1e3
out = {}
try:
    import doxapy
except ImportError:
    doxapy = None
for cv_m, dx, win, dwin in cases:
    if cv_m:
        m = getattr(cv2.ximgproc, "BINARIZATION_" + cv_m)
        out[f"cv:{cv_m}:{win}"] = med(lambda: cv2.ximgproc.niBlackThreshold(g, 255, cv2.THRESH_BINARY, win, 0.2, binarizationMethod=m, r=128))
    if dx and doxapy:
        b = doxapy.Binarization(getattr(doxapy.Binarization.Algorithms, dx))
        dst = np.empty_like(g)
        def run():
            b.initialize(g)
            b.to_binary(dst, {"window": dwin})
        out[f"dx:{dx}:{dwin}"] = med(run)
print(json.dumps({"opencv": cv2.__version__, "doxapy": getattr(doxapy, "__version__", "0.9.2") if doxapy else None, "t": out}))
'''


def main():
    spec = ",".join(f"{op}:{like}:{w}" for op, like, w, _, _ in CASES)
    tess = {}
    for workers in (1, 2):
        r = subprocess.run([BENCH, IMAGE, "--workers", str(workers), "--repeats", str(repeats), "--cases", spec],
                           check=True, capture_output=True, text=True)
        for line in r.stdout.splitlines():
            j = json.loads(line)
            tess[(j["case"], workers)] = j["median_ms"]
    # Doxa's windows are squares: a Fiji radius r is compared with the square of side 2r + 1.
    dwin = lambda like, w: 2 * w + 1 if like == "fiji" else w
    peer_cases = [(cv, dx, w, dwin(like, w)) for _, like, w, cv, dx in CASES if cv or dx]
    r = subprocess.run([PY, "-c", PEER, IMAGE, str(repeats), json.dumps(peer_cases)], check=True,
                       capture_output=True, text=True)
    peer = json.loads(r.stdout)
    print(f"image {IMAGE}; OpenCV {peer['opencv']} (1 thread); doxapy {peer['doxapy']}; {repeats} repeats, medians in ms\n")
    print("| method | window | tessera 1 worker | 2 workers | speedup | OpenCV contrib | tessera vs OpenCV | doxa | tessera vs doxa |")
    print("|---|---|---|---|---|---|---|---|---|")
    for op, like, w, cv, dx in CASES:
        case = f"{op}:{like}:{w}"
        t1, t2 = tess[(case, 1)], tess[(case, 2)]
        c = peer["t"].get(f"cv:{cv}:{w}") if cv else None
        d = peer["t"].get(f"dx:{dx}:{dwin(like, w)}") if dx else None
        win = f"radius {w}" if like == "fiji" else f"{w}×{w}"
        name = op if like == "-" else f"{op} ({like})"
        fmt = lambda v: f"{v:.0f}" if v is not None else "–"
        ratio = lambda a, b: f"{a / b:.1f}×" if a is not None and b else "–"
        print(f"| {name} | {win} | {t1:.0f} | {t2:.0f} | {t1 / t2:.2f}× | {fmt(c)} | {ratio(c, t1)} | {fmt(d)} | {ratio(d, t1)} |")


main()

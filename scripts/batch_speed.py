#!/usr/bin/env python3
"""Times `tessera batch` as whole processes against the seed's Python program, and 1 against
2 workers on a folder of multi-megapixel photos. Runs are interleaved and repeated; medians
are printed. The machine is shared and noisy: compare the ratios within one run.

usage: scripts/batch_speed.py [--repeats 7] [--photos 100] [--work /tmp/tessera-batch-speed]
                              [--skip-seed] [--skip-photos] [--workers 1,2] [--procs 1,2,3,4]
                              [--pool] [--fresh] [--json FILE]
Needs: target/release/tessera and target/release/examples/batch_speed
       (cargo build --release --bin tessera && cargo build --release -p tessera-engine --example batch_speed), and the OpenCV peers
       environment (/work/shared/peers/setup.sh) for the seed program and to make the photos.
"""
import argparse, json, os, shutil, statistics, subprocess, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PEERS = os.environ.get("PEERS", os.path.join(ROOT, "..", "shared", "peers"))
if not os.path.isdir(PEERS):
    PEERS = "/work/shared/peers"
PY = os.environ.get("OPENCV_PYTHON", "/tmp/opencv-peers/bin/python")
TESSERA = os.path.join(ROOT, "target", "release", "tessera")
LOOP = os.path.join(ROOT, "target", "release", "examples", "batch_speed")


def timed(cmd):
    t0 = time.perf_counter()
    r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    dt = time.perf_counter() - t0
    if r.returncode != 0:
        sys.exit(f"failed ({r.returncode}): {' '.join(cmd)}\n{r.stderr.decode()}")
    return dt


def fresh(d):
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)


FRESH = {"on": False}


def bench(configs, repeats):
    """configs: name -> (command, output dir). Interleaved; returns medians.

    With --fresh every run writes into a new folder that never existed (as a user's first
    run does; the folders are deleted only after all runs), instead of emptying one folder
    between runs."""
    times = {k: [] for k in configs}
    made = []
    for rep in range(repeats):
        for name, (cmd, out) in configs.items():
            if out and FRESH["on"]:
                new = f"{out}.{rep}"
                shutil.rmtree(new, ignore_errors=True)
                cmd = [new if c == out else c for c in cmd]
                made.append(new)
            elif out:
                fresh(out)
            times[name].append(timed(cmd))
    for d in made:
        shutil.rmtree(d, ignore_errors=True)
    return {k: (statistics.median(v), min(v), max(v)) for k, v in times.items()}


POOL_PROGRAM = r"""
import os, sys
import cv2
from multiprocessing import Pool
cv2.setNumThreads(1)

def one(job):
    src, dst = job
    im = cv2.imread(src, cv2.IMREAD_COLOR)
    g = cv2.cvtColor(im, cv2.COLOR_BGR2GRAY)
    _, t = cv2.threshold(g, 127, 255, cv2.THRESH_BINARY)
    cv2.imwrite(dst, t)

if __name__ == "__main__":
    src, dst, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    os.makedirs(dst, exist_ok=True)
    jobs = [(os.path.join(src, f), os.path.join(dst, os.path.splitext(f)[0] + ".png"))
            for f in sorted(os.listdir(src))]
    with Pool(n) as p:
        p.map(one, jobs, chunksize=1)
"""


def make_photos(src, d, n):
    """n JPEG photos of 2-8 MP: crops and resizes of the 8 MP photo (OpenCV, quality 92)."""
    code = f"""
import cv2, os
im = cv2.imread({src!r}); h, w = im.shape[:2]
os.makedirs({d!r}, exist_ok=True)
for i in range({n}):
    s = 0.55 + 0.45 * ((i * 37) % 100) / 99          # 0.55 .. 1.0 of each side
    cw, ch = int(w * s), int(h * s)
    x, y = (i * 101) % (w - cw + 1), (i * 53) % (h - ch + 1)
    crop = im[y:y + ch, x:x + cw]
    if i % 3 == 1:
        crop = cv2.resize(crop, (int(cw * 0.8), int(ch * 0.8)), interpolation=cv2.INTER_AREA)
    if i % 4 == 2:
        crop = cv2.flip(crop, 1)
    cv2.imwrite(os.path.join({d!r}, f"photo_{{i:03d}}.jpg"), crop, [cv2.IMWRITE_JPEG_QUALITY, 92])
"""
    subprocess.run([PY, "-c", code], check=True)


def row(name, m, base=None):
    med, lo, hi = m
    extra = f"  {base / med:5.2f}x" if base else ""
    print(f"  {name:<40} {med:8.3f} s  (min {lo:.3f}, max {hi:.3f}){extra}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=7)
    ap.add_argument("--photos", type=int, default=100)
    ap.add_argument("--work", default="/tmp/tessera-batch-speed")
    ap.add_argument("--skip-seed", action="store_true")
    ap.add_argument("--skip-photos", action="store_true")
    ap.add_argument("--workers", default="1,2", help="tessera worker counts to time")
    ap.add_argument("--procs", default="1,2,3,4", help="process counts of the Python program")
    ap.add_argument("--pool", action="store_true",
                    help="also time a Python multiprocessing.Pool(N) + OpenCV program against "
                         "tessera batch --workers N on the photos: gray, threshold 127, PNG out")
    ap.add_argument("--fresh", action="store_true",
                    help="every run writes into a folder that never existed")
    ap.add_argument("--json")
    a = ap.parse_args()
    FRESH["on"] = a.fresh
    workers = [int(w) for w in a.workers.split(",")]
    procs = [int(p) for p in a.procs.split(",")]
    for exe in (TESSERA, LOOP):
        if not os.path.exists(exe):
            sys.exit(f"missing {exe}: cargo build --release --bin tessera && cargo build --release -p tessera-engine --example batch_speed")
    os.makedirs(a.work, exist_ok=True)
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cores": os.cpu_count()}
    print(f"{result['date']}, {result['cores']} cores, {a.repeats} interleaved repeats, medians")

    if not a.skip_seed:
        crops = os.path.join(a.work, "crops")
        if not os.path.isdir(crops):
            subprocess.run([PY, os.path.join(PEERS, "make_crops.py"),
                            os.path.join(PEERS, "seed_source.jpg"), crops], check=True,
                           stdout=subprocess.DEVNULL)
        out = os.path.join(a.work, "seed-out")
        configs = {}
        for p in procs:
            configs[f"python seed_batch.py --procs {p}"] = (
                [PY, os.path.join(PEERS, "seed_batch.py"), crops, out + "-py",
                 "--procs", str(p), "--repeats", "1"], out + "-py")
        for w in workers:
            configs[f"tessera batch --workers {w}"] = (
                [TESSERA, "batch", crops, "-o", out, "--format", "jpg", "--workers", str(w),
                 "-q"], out)
        configs["tessera batch (default workers)"] = (
            [TESSERA, "batch", crops, "-o", out, "--format", "jpg", "-q"], out)
        configs["tessera batch --strategy preload"] = (
            [TESSERA, "batch", crops, "-o", out, "--format", "jpg", "-q",
             "--strategy", "preload"], out)
        m = bench(configs, a.repeats)
        best_py = min(v[0] for k, v in m.items() if k.startswith("python"))
        print("Seed workload: 400 JPEG crops of ~78x55, adaptive-gaussian 11/2, JPEG out "
              "(whole processes; ratio = best Python median / this median)")
        for k, v in m.items():
            row(k, v, best_py)
        result["seed"] = {k: v[0] for k, v in m.items()}
        result["seed_speedup_vs_best_python"] = best_py / m["tessera batch (default workers)"][0]

    if not a.skip_photos:
        photos = os.path.join(a.work, f"photos{a.photos}")
        if not os.path.isdir(photos):
            make_photos(os.path.join(PEERS, "photo_8mp.jpg"), photos, a.photos)
        out = os.path.join(a.work, "photos-out")
        configs = {}
        for w in workers:
            configs[f"tessera batch --workers {w}"] = (
                [TESSERA, "batch", photos, "-o", out, "--format", "jpg", "--workers", str(w),
                 "-q"], out)
        top = str(max(workers))
        configs[f"tessera batch --workers {top} --strategy preload"] = (
            [TESSERA, "batch", photos, "-o", out, "--format", "jpg", "--workers", top,
             "--strategy", "preload", "-q"], out)
        reps = max(3, a.repeats // 2)
        m = bench(configs, reps)
        one = m["tessera batch --workers 1"][0]
        print(f"Photos: {a.photos} JPEGs of 2-8 MP, adaptive-gaussian 11/2, JPEG out "
              f"({reps} repeats; ratio = 1-worker median / this median)")
        for k, v in m.items():
            row(k, v, one)
        result["photos"] = {k: v[0] for k, v in m.items()}
        # Pipeline against a tight loop, in one process, interleaved.
        r = subprocess.run([LOOP, photos, "--workers", a.workers, "--repeats", str(reps),
                            "--format", "jpg", "--json"], check=True, capture_output=True)
        loop = json.loads(r.stdout)
        print("Pipeline (tessera::engine::batch::run) against a tight loop per worker "
              "(decode+process+encode+write), in-process medians:")
        for x in loop:
            print(f"  {x['workers']} workers: batch {x['batch_s']:.3f} s, tight loop "
                  f"{x['loop_s']:.3f} s, batch throughput = {x['loop_s'] / x['batch_s'] * 100:.0f}% "
                  f"of the loop's ({x['batch_mp_per_s']:.1f} vs {x['loop_mp_per_s']:.1f} MP/s)")
        result["loop"] = loop
        if a.pool:
            prog = os.path.join(a.work, "pool_threshold.py")
            with open(prog, "w") as f:
                f.write(POOL_PROGRAM)
            out = os.path.join(a.work, "pool-out")
            configs = {}
            for w in workers:
                configs[f"python Pool({w}) + OpenCV"] = ([PY, prog, photos, out + "-py", str(w)],
                                                         out + "-py")
                configs[f"tessera batch --workers {w}"] = (
                    [TESSERA, "batch", photos, "-o", out, "--op", "threshold", "--thresh",
                     "127", "--workers", str(w), "-q"], out)
            m = bench(configs, reps)
            print(f"Photos, gray + threshold 127, PNG out ({reps} repeats; ratio = Python "
                  f"Pool median / tessera median at the same worker count)")
            for w in workers:
                py = m[f"python Pool({w}) + OpenCV"]
                ts = m[f"tessera batch --workers {w}"]
                row(f"python Pool({w}) + OpenCV", py)
                row(f"tessera batch --workers {w}", ts, py[0])
            result["pool"] = {k: v[0] for k, v in m.items()}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()

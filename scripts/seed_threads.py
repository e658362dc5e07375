#!/usr/bin/env python3
"""Runs the seed's batch program (../shared/peers/seed_batch.py) with OpenCV's thread count
set to T instead of the 1 it pins, so that `tessera bench --procs LIST --threads LIST` can
time processes x OpenCV threads, the oversubscription the seed's design invites.

usage: seed_threads.py SEED_BATCH.py --threads T CROPS_DIR OUT_DIR [seed options...]

Example (the README's grid):
  tessera bench --procs 1-4 --threads 1-4 --png charts \\
    --cmd 'python scripts/seed_threads.py ../shared/peers/seed_batch.py --threads {threads} \\
           crops out --procs {procs} --repeats 1'
"""
import runpy
import sys

import cv2


def main():
    if len(sys.argv) < 4 or sys.argv[2] != "--threads":
        sys.exit(__doc__)
    seed, threads = sys.argv[1], int(sys.argv[3])
    real = cv2.setNumThreads
    # The seed calls cv2.setNumThreads(1) before it forks its pool: give it T instead. The
    # forked workers inherit the setting.
    cv2.setNumThreads = lambda _n: real(threads)
    sys.argv = [seed] + sys.argv[4:]
    runpy.run_path(seed, run_name="__main__")


if __name__ == "__main__":
    main()

"""Throughput of the proxy-body flow ground truth at 128x64: pairs per second, batched and single.

Poses are the Market-1501 training annotations when ../shared/data is present, else jittered
synthetic poses. Reports pairs per CPU-second of this process (time.process_time: one core's worth,
robust to other jobs on a shared machine) and pairs per wall-clock second.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_proxy3d.py [--seconds 3] [--batch 32]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from diaflow_core.proxy3d import compute_flow, compute_flow_batch


def load_poses(n: int) -> tuple[np.ndarray, str]:
    csv = Path(__file__).resolve().parents[1].parent / "shared/data/market1501/market-annotation-train.csv"
    if csv.is_file():
        from diaflow_core.data.annotations import read_annotations

        poses, _ = read_annotations(csv)
        kp = np.stack(list(poses.values()))
        return kp[np.random.default_rng(0).permutation(len(kp))[:n]], "Market-1501 train annotations"
    base = np.array([[32, 12], [32, 24], [16, 25], [14, 45], [13, 63], [48, 25], [50, 45], [51, 63], [22, 60],
                     [22, 88], [22, 114], [42, 60], [42, 88], [42, 114], [29, 9], [35, 9], [26, 10], [38, 10]],
                    np.float32)  # fmt: skip
    rng = np.random.default_rng(0)
    return base + rng.normal(0, 3, size=(n, 18, 2)).astype(np.float32), "synthetic jittered poses"


def measure(fn, seconds: float) -> tuple[float, float, int]:
    fn(0)  # warm-up
    n, c0, w0 = 0, time.process_time(), time.perf_counter()
    while time.process_time() - c0 < seconds:
        n += fn(n)
    return n / (time.process_time() - c0), n / (time.perf_counter() - w0), n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--batch", type=int, nargs="+", default=[8, 32, 128])
    args = ap.parse_args()
    kp, what = load_poses(2048)
    half = len(kp) // 2
    src, tgt = kp[:half], kp[half:]

    def single(i: int) -> int:
        j = i % half
        compute_flow(src[j], tgt[j])
        return 1

    print(f"poses: {what}; size 128x64")
    cpu, wall, n = measure(single, args.seconds)
    print(f"single     : {cpu:7.0f} pairs/CPU-s  {wall:7.0f} pairs/s wall  ({n} pairs)")
    for b in args.batch:

        def batched(i: int, b: int = b) -> int:
            j = (i % (half - b)) if half > b else 0
            compute_flow_batch(src[j : j + b], tgt[j : j + b])
            return b

        cpu, wall, n = measure(batched, args.seconds)
        print(f"batch {b:4d} : {cpu:7.0f} pairs/CPU-s  {wall:7.0f} pairs/s wall  ({n} pairs)")


if __name__ == "__main__":
    main()

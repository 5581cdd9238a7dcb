"""Throughput of the proxy-body flow ground truth at 128x64: pairs per second, batched and single.

A thin wrapper over ``diaflow_core.bench.proxy`` (the same code as ``reid-augment bench --only proxy``).
Poses are the Market-1501 training annotations when ../shared/data is present, else jittered synthetic
poses. Reports pairs per CPU-second of this process (time.process_time: one core's worth, robust to other
jobs on a shared machine) and pairs per wall-clock second.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/bench_proxy3d.py [--seconds 3] [--batch 32]
"""

from __future__ import annotations

import argparse

from diaflow_core.bench.proxy import proxy_timings


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--batch", type=int, nargs="+", default=[8, 32, 128])
    args = ap.parse_args()
    timings, what = proxy_timings([None, *args.batch], args.seconds)
    print(f"poses: {what}; size 128x64")
    for name, (t,) in timings.items():
        label = "single" if name == "single" else f"batch {int(name[5:]):4d}"
        print(f"{label:11s}: {t.rate('cpu'):7.0f} pairs/CPU-s  {t.rate('wall'):7.0f} pairs/s wall  ({t.items} pairs)")


if __name__ == "__main__":
    main()

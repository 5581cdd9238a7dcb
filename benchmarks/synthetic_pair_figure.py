"""Draw the proxy-body picture for docs/ from synthetic people (no dataset images, so it may be committed).

Two poses from the shipped pose bank (a front view and a side view), the same drawn person in both, then
source, target, both proxy bodies, flow, visibility and the source warped by the flow.

    python benchmarks/synthetic_pair_figure.py --out docs/img/proxy_pair.png
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

from diaflow_core.proxy3d.figure import pair_figure
from reid_augment.pose_bank import load_pose_bank
from reid_augment.scene import draw_person


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path("docs/img/proxy_pair.png"))
    ap.add_argument("--seed", type=int, default=3)
    args = ap.parse_args()
    bank = load_pose_bank()
    views = list(bank.views)
    src_kp = bank.poses[views.index("front")].astype(np.float32)
    tgt_kp = bank.poses[views.index("side")].astype(np.float32)
    images = []
    for kp in (src_kp, tgt_kp):
        img = np.full((128, 64, 3), (150, 155, 160), np.uint8)
        draw_person(img, kp, np.random.default_rng(args.seed), facing_front=True)  # same seed: same clothes
        images.append(img)
    fig = pair_figure(images[0], images[1], src_kp, tgt_kp)
    big = cv2.resize(fig.picture, None, fx=2, fy=2, interpolation=cv2.INTER_NEAREST)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(args.out), cv2.cvtColor(big, cv2.COLOR_RGB2BGR))
    print(f"wrote {args.out} (yaw src {fig.yaw_deg[0]:.0f} deg, tgt {fig.yaw_deg[1]:.0f} deg)")


if __name__ == "__main__":
    main()

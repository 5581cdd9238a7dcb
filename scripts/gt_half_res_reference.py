"""The `gt_half_res` reference of `evaluate flow` alone (no model) on the standard test pose pairs: the ground
truth through a half-size grid (body-pixel cell means) and back, scored like a model. Run from the repo root:
    python scripts/gt_half_res_reference.py [MARKET_ROOT] [OUT.json]
"""

from __future__ import annotations

import json
import sys

import numpy as np
import torch

from diaflow_core.evaluation.flow import FlowStats
from diaflow_core.evaluation.flow_eval import _half_res_bound, _stack, load_test_pose_pairs
from diaflow_core.proxy3d import compute_flow_batch


def main() -> None:
    root = sys.argv[1] if len(sys.argv) > 1 else "../shared/data/market1501"
    pairs = load_test_pose_pairs(root)
    stats = FlowStats()
    for i in range(0, len(pairs.poses), 256):
        src, tgt = _stack(pairs.poses[i : i + 256])
        flow_np, vis_np = compute_flow_batch(src, tgt)
        flow, vis = torch.from_numpy(flow_np), torch.from_numpy(vis_np.astype(np.int64))
        stats.update(*_half_res_bound(flow, vis), flow, vis)
    out = {**stats.summary(), "pairs": stats.pairs}
    print(json.dumps(out))
    if len(sys.argv) > 2:
        with open(sys.argv[2], "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()

"""How much could pixel warping add? An oracle on the generator recipe's validation pairs (held-out TRAINING ids).

Masked SSIM of: the generator's image; the source warped by the learned flow; that warp where the flow says
"visible" and the generator elsewhere; and two oracles that pick, per pixel, whichever of generator and warped
source is closer to the target (all pixels / flow-visible pixels only). The oracles read the target, so they
bound what a learned blend (the pixel-warping net) could reach; they are not a method.

    python scripts/pixel_warp_oracle.py [--generator-name generator_ssim] [--precision bf16]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
import torch

from diaflow_core.config import load_recipe
from diaflow_core.evaluation.transfer import to_uint8
from diaflow_core.infer import PoseTransfer
from diaflow_core.metrics.ssim import masked_ssim
from diaflow_core.ops.grid import warp
from diaflow_core.pose import body_mask
from diaflow_core.train.generator import GenTrainConfig, validation_batches


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--generator-name", default="generator_ssim")
    ap.add_argument("--precision", default="bf16", help="auto, fp32 or bf16")
    ap.add_argument("--recipe", default="recipes/market1501_generator.yaml")
    args = ap.parse_args()
    cfg = load_recipe(GenTrainConfig, args.recipe, [])
    dev = torch.device("cpu")
    pt = PoseTransfer.load(device=dev, precision=args.precision, generator_name=args.generator_name)
    sums: dict[str, float] = {}
    n = 0
    for b in validation_batches(cfg):
        with torch.no_grad():
            gen = pt.transfer(b["src"], b["src_kp"], b["tgt_kp"])
            flow, vis = pt.flow(b["src_kp"].float(), b["tgt_kp"].float())
            xw = warp(b["src"].float(), flow.float()).clamp(-1, 1)
        tgt = b["tgt"]
        visible = (vis == 0).unsqueeze(1)
        closer = (xw - tgt).abs().sum(1, keepdim=True) < (gen - tgt).abs().sum(1, keepdim=True)
        images = {
            "generator": gen,
            "warped_source": xw,
            "warped_where_visible": torch.where(visible, xw, gen),
            "oracle_per_pixel": torch.where(closer, xw, gen),
            "oracle_visible_pixels": torch.where(closer & visible, xw, gen),
        }
        masks = np.stack([body_mask(np.asarray(kp), size=tuple(cfg.data.size)) for kp in b["tgt_kp"]])
        real = to_uint8(tgt)
        for name, img in images.items():
            sums[name] = sums.get(name, 0.0) + float(masked_ssim(to_uint8(img), real, masks).sum())
        n += tgt.shape[0]
    print(json.dumps({"pairs": n, "masked_ssim": {k: v / n for k, v in sums.items()}}, indent=1))


if __name__ == "__main__":
    main()

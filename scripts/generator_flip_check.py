"""Validation figures of a generator with and without mirror averaging (PoseTransfer's flip_average).

The generator recipe's validation pairs (held-out TRAINING identities), the shipped flow regressor, fp32 unless
``--precision`` says otherwise; prints SSIM / masked SSIM / L1 for plain and mirror-averaged outputs
and a JSON line.

    python scripts/generator_flip_check.py diaflow_core/weights/generator_ssim.safetensors
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch

from diaflow_core.config import from_dict, load_recipe
from diaflow_core.infer import PoseTransfer
from diaflow_core.models.generator import GeneratorConfig, build_generator
from diaflow_core.train.common import load_safetensors_into
from diaflow_core.train.flow_source import FlowSource, FlowSourceConfig
from diaflow_core.train.gen_validate import validate_pose_transfers
from diaflow_core.train.generator import GenTrainConfig, validation_batches
from diaflow_core.weights import read_meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("generator", type=Path, help="generator weights (safetensors with a JSON sidecar)")
    ap.add_argument("--recipe", default="recipes/market1501_generator.yaml")
    ap.add_argument("--precision", default="fp32", help="auto, fp32 (the documented figures) or bf16")
    args = ap.parse_args()
    cfg = load_recipe(GenTrainConfig, args.recipe, [])
    size, dev = cfg.data.size, torch.device("cpu")
    batches = validation_batches(cfg)
    gen = build_generator(from_dict(GeneratorConfig, read_meta(args.generator)["model"])).eval()
    load_safetensors_into(gen, args.generator)
    src = FlowSource(FlowSourceConfig(), size, cfg.data.heatmap_radius, dev)
    models = {
        name: PoseTransfer(
            gen, src, None, size, cfg.data.heatmap_radius, dev, "validation", args.precision, flip_average=flip
        )
        for name, flip in (("plain", False), ("flip_average", True))
    }
    print(json.dumps(validate_pose_transfers(models, batches, dev)))


if __name__ == "__main__":
    main()

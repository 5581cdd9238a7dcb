"""Validation figures of one generator with several flow sources: does a better flow make better images?

The generator recipe's validation pairs (held-out TRAINING identities, ``data.val_pairs``), the shipped generator
(or GENERATOR), and each flow source in turn: the shipped flow regressor, the flow regressors given as arguments,
and the proxy body's exact ground truth. Prints SSIM / masked SSIM / L1 per source and a JSON line at the end.

    python scripts/generator_flow_check.py [FLOW.safetensors ...] [--generator G.safetensors] [--device cpu]
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
from diaflow_core.weights import find_weights, read_meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("flows", nargs="*", help="flow regressor weights (safetensors with a JSON sidecar)")
    ap.add_argument("--generator", default=None, help="generator weights (default: the shipped ones)")
    ap.add_argument("--recipe", default="recipes/market1501_generator.yaml")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", default="fp32", help="auto, fp32 (the documented figures) or bf16")
    args = ap.parse_args()
    cfg = load_recipe(GenTrainConfig, args.recipe, [])
    size, dev = cfg.data.size, torch.device(args.device)
    batches = validation_batches(cfg)
    gpath = find_weights("generator") if args.generator is None else Path(args.generator)
    gen = build_generator(from_dict(GeneratorConfig, read_meta(gpath)["model"])).to(dev).eval()
    load_safetensors_into(gen, gpath)
    sources = [("shipped_flow", FlowSourceConfig())]
    sources += [(f"flow:{f}", FlowSourceConfig(weights=f)) for f in args.flows]
    sources += [("proxy_body_ground_truth", FlowSourceConfig(mode="analytic"))]
    radius = cfg.data.heatmap_radius
    models = {
        name: PoseTransfer(gen, FlowSource(fcfg, size, radius, dev), None, size, radius, dev, name, args.precision)
        for name, fcfg in sources
    }
    print(json.dumps(validate_pose_transfers(models, batches, dev)))


if __name__ == "__main__":
    main()

"""Weight arithmetic between generators fine-tuned from one parent, and their validation figures.

Two generators that left the same parent by different fine-tunes (the re-ID perceptual one and the L1 one on a
GPU) each moved the weights by a task vector W_i - W_parent; `diaflow_core.train.weight_mix` mixes them as
W_parent + sum_i c_i (W_i - W_parent). Each mix is written as a generator file (fp16, the first model's sidecar
plus a `soup` record) and validated on the generator recipe's held-out training pairs with the shipped flow.
The default generator since session 12 is `--mix 1,1` of the session-9 identity-tuned generator and
generator_ssim over their parent (`git show 0f50846:diaflow_core/weights/generator.safetensors`).

    python scripts/generator_soup.py --parent P.safetensors --model A.safetensors --model B.safetensors \
        --mix 0.5,0.5 --mix=1,1 [--out DIR] [--device cpu] [--no-validate]    (negative: --mix=-0.25,1)
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import torch
from safetensors.torch import load_file

from diaflow_core.config import from_dict, load_recipe
from diaflow_core.infer import PoseTransfer
from diaflow_core.models.generator import GeneratorConfig, build_generator
from diaflow_core.train.common import load_safetensors_into, save_safetensors
from diaflow_core.train.flow_source import FlowSource, FlowSourceConfig
from diaflow_core.train.gen_validate import validate_pose_transfer
from diaflow_core.train.generator import GenTrainConfig, validation_batches
from diaflow_core.train.weight_mix import mix_state_dicts, mix_tag, soup_record
from diaflow_core.weights import read_meta


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parent", required=True, type=Path)
    ap.add_argument("--model", action="append", required=True, type=Path, help="a fine-tune of the parent")
    ap.add_argument("--mix", action="append", required=True, help="comma-separated coefficients, one per --model")
    ap.add_argument("--out", type=Path, default=Path("out/soup"))
    ap.add_argument("--recipe", default="recipes/market1501_generator.yaml")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--precision", default="fp32", help="auto, fp32 (the documented figures) or bf16")
    ap.add_argument("--no-validate", action="store_true")
    args = ap.parse_args()
    parent = load_file(str(args.parent))
    models = [load_file(str(m)) for m in args.model]
    meta = read_meta(args.model[0])
    cfg = load_recipe(GenTrainConfig, args.recipe, [])
    size, dev = cfg.data.size, torch.device(args.device)
    batches = None if args.no_validate else validation_batches(cfg)
    src = None if args.no_validate else FlowSource(FlowSourceConfig(), size, cfg.data.heatmap_radius, dev)
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for mix in args.mix:
        coeffs = [float(c) for c in mix.split(",")]
        tag = mix_tag(coeffs)
        gen = build_generator(from_dict(GeneratorConfig, meta["model"])).eval()
        gen.load_state_dict(mix_state_dicts(parent, models, coeffs))
        soup = soup_record(args.parent, args.model, coeffs)
        path = args.out / f"{tag}.safetensors"
        save_safetensors(gen, path, {"model": meta["model"]}, half=True)
        path.with_suffix(".json").write_text(json.dumps({**meta, "soup": soup}, indent=1))
        row: dict = {"file": str(path)}
        if batches is not None and src is not None:
            g16 = build_generator(from_dict(GeneratorConfig, meta["model"])).to(dev).eval()
            load_safetensors_into(g16, path)  # validate what was written (fp16), not the fp32 mix
            pt = PoseTransfer(g16, src, None, size, cfg.data.heatmap_radius, dev, tag, precision=args.precision)
            t0 = time.time()
            row.update(validate_pose_transfer(pt, batches, dev))
            row["seconds"] = round(time.time() - t0, 1)
        results[tag] = row
        print(tag, {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()

"""Weight arithmetic between flow regressors fine-tuned from one parent, and their validation figures.

W_parent + sum_i c_i (W_i - W_parent) (`diaflow_core.train.weight_mix`); one model with c > 1 extrapolates
along its fine-tune. Each mix is written as a flow weight file (fp16, the first model's sidecar plus a `soup`
record) and that file is validated as the trainer validates (`data.val_pairs` pairs of held-out TRAINING
identities, fp32 on the CPU). The shipped stage-7b flow is `--mix 2` of the stage-7 H200 fine-tune over its
stage-6 parent (docs/flow_regressor.md).

    python scripts/flow_soup.py --parent P.safetensors --model A.safetensors [--model B ...] --mix 1 --mix 2 \
        [--out DIR] [--json report.json] [--data MARKET]
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

from diaflow_core.config import load_recipe
from diaflow_core.fileio import report_json
from diaflow_core.train.flow import FlowTrainConfig, validate_flow, validation_batches
from diaflow_core.train.flow_source import load_flow_regressor
from diaflow_core.train.weight_mix import mix_state_dicts, mix_tag, soup_record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--parent", required=True, type=Path)
    ap.add_argument("--model", action="append", required=True, type=Path, help="a fine-tune of the parent")
    ap.add_argument("--mix", action="append", required=True, help="comma-separated coefficients, one per --model")
    ap.add_argument("--out", type=Path, default=Path("out/flow_soup"))
    ap.add_argument("--recipe", default="recipes/market1501_flow.yaml")
    ap.add_argument("--data", default=None, help="Market-1501 root (default: the recipe's)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    cfg = load_recipe(FlowTrainConfig, args.recipe, [])
    if args.data:
        cfg = replace(cfg, data=replace(cfg.data, market_root=args.data))
    parent = load_file(str(args.parent))
    models = [load_file(str(m)) for m in args.model]
    sidecar = json.loads(args.model[0].with_suffix(".json").read_text())
    batches = validation_batches(cfg)
    cpu = torch.device("cpu")
    args.out.mkdir(parents=True, exist_ok=True)
    results = {}
    for mix in args.mix:
        coeffs = [float(c) for c in mix.split(",")]
        path = args.out / f"{mix_tag(coeffs)}.safetensors"
        mixed = mix_state_dicts(parent, models, coeffs)
        save_file({k: (v.half() if v.is_floating_point() else v).contiguous() for k, v in mixed.items()}, str(path))
        path.with_suffix(".json").write_text(
            json.dumps({**sidecar, "soup": soup_record(args.parent, args.model, coeffs)}, indent=1)
        )
        t0 = time.time()
        row = {"file": str(path), **validate_flow(load_flow_regressor(path, cpu), batches, cfg.data, cpu, False)}
        row["seconds"] = round(time.time() - t0, 1)
        results[mix_tag(coeffs)] = row
        print(mix_tag(coeffs), {k: (round(v, 5) if isinstance(v, float) else v) for k, v in row.items()}, flush=True)
    report_json(results, args.json)


if __name__ == "__main__":
    main()

"""Test-time averaging for the generator over small shifts of the input, on top of the mirror average.

The generator's stride-2 levels see a person moved by a few pixels on another sampling phase, so a shifted
pass (source image and both poses moved by d, the output read back at x + d) is another estimate of the same
image, as a mirrored pass is. Does averaging them raise validation SSIM / masked SSIM beyond `--flip-average`?
Validation pairs of held-out TRAINING identities (the generator recipe's split), the shipped flow regressor.

    python scripts/generator_shift_average.py diaflow_core/weights/generator_ssim.safetensors [--precision bf16]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import torch
import torch.nn.functional as F
from flow_shift_average import read_back  # scripts/ is on sys.path when run as a script

from diaflow_core.config import from_dict, load_recipe
from diaflow_core.fileio import report_json
from diaflow_core.infer import PoseTransfer
from diaflow_core.models.generator import GeneratorConfig, build_generator
from diaflow_core.train.common import load_safetensors_into
from diaflow_core.train.flow_source import FlowSource, FlowSourceConfig
from diaflow_core.train.gen_validate import validate_pose_transfers
from diaflow_core.train.generator import GenTrainConfig, validation_batches
from diaflow_core.weights import read_meta

# Each set is averaged with the unshifted pass; every pass is itself mirror-averaged.
SHIFT_SETS: dict[str, tuple[tuple[int, int], ...]] = {
    "x1": ((1, 0),),
    "x2": ((2, 0),),
    "xy2": ((2, 0), (0, 2), (2, 2)),
    "xy4": ((4, 0), (0, 4), (4, 4)),
}


def shift_image(x: torch.Tensor, d: tuple[int, int]) -> torch.Tensor:
    """(B, C, H, W) moved by d = (dx, dy) px; the strip that enters the frame repeats the edge."""
    dx, dy = d
    h, w = x.shape[-2:]
    p = max(abs(dx), abs(dy))
    padded = F.pad(x, (p, p, p, p), mode="replicate")
    return padded[..., p - dy : p - dy + h, p - dx : p - dx + w]


class ShiftAverage:
    """A PoseTransfer averaged over the unshifted pass and ``shifts`` (the ``transfer`` interface)."""

    def __init__(self, base: PoseTransfer, shifts: tuple[tuple[int, int], ...]) -> None:
        self.base, self.shifts = base, shifts

    @torch.no_grad()
    def transfer(self, src: torch.Tensor, src_kp: torch.Tensor, tgt_kp: torch.Tensor) -> torch.Tensor:
        first = self.base.transfer(src, src_kp, tgt_kp)
        total = first.clone()
        for d in self.shifts:
            off = torch.tensor(d, dtype=torch.float32)  # NaN (missing) joints stay NaN
            out = self.base.transfer(shift_image(src, d), src_kp.float() + off, tgt_kp.float() + off)
            total += torch.from_numpy(read_back(out.numpy(), first.numpy(), d))
        return total / (1 + len(self.shifts))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("generator", type=Path, help="generator weights (safetensors with a JSON sidecar)")
    ap.add_argument("--recipe", default="recipes/market1501_generator.yaml")
    ap.add_argument("--precision", default="bf16", help="auto, fp32 or bf16")
    ap.add_argument("--sets", default=",".join(SHIFT_SETS), help=f"comma-separated subset of {list(SHIFT_SETS)}")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    cfg = load_recipe(GenTrainConfig, args.recipe, [])
    size, dev = cfg.data.size, torch.device("cpu")
    gen = build_generator(from_dict(GeneratorConfig, read_meta(args.generator)["model"])).eval()
    load_safetensors_into(gen, args.generator)
    radius = cfg.data.heatmap_radius
    src = FlowSource(FlowSourceConfig(), size, radius, dev)
    flip = PoseTransfer(gen, src, None, size, radius, dev, "validation", args.precision, flip_average=True)
    models = {"flip_average": flip}
    models |= {f"flip_average+{k}": ShiftAverage(flip, SHIFT_SETS[k]) for k in args.sets.split(",") if k}
    report_json(validate_pose_transfers(models, validation_batches(cfg), dev), args.json)  # type: ignore[arg-type]


if __name__ == "__main__":
    main()

"""PoseTransfer: load the shipped (or given) weights and re-pose people.

Pipeline per batch: poses -> flow + visibility (the learned regressor, or the analytic proxy body) ->
dual-path generator -> pixel-warping blend when its weights exist. Inputs and outputs are (B, 3, 128, 64)
images in [-1, 1] and (B, 18, 2) keypoints, (x, y) pixels, NaN = missing.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Literal

import torch

from diaflow_core.fileio import replace_text

from .config import from_dict
from .errors import WeightsError
from .models.generator import GeneratorConfig, build_generator
from .models.pixel_warp import PixelWarper, PixelWarperConfig
from .pose import flip_pose, pose_heatmaps_torch
from .precision import autocast, resolve_precision
from .train.common import load_safetensors_into
from .train.flow_source import FlowSource, FlowSourceConfig
from .weights import DEFAULT_GENERATOR, file_sha256, find_weights, read_meta

__all__ = ["PoseTransfer", "export_weights"]

FlowMode = Literal["learned", "analytic"]


def _sidecar(path: Path) -> dict[str, Any]:
    meta = path.with_suffix(".json")
    if not meta.is_file():
        raise WeightsError(f"{path}: no config sidecar {meta.name} beside it")
    return json.loads(meta.read_text())


def _provenance(path: Path, meta: dict[str, Any], digest: str) -> dict[str, Any]:
    """What a report needs to say which weights ran: file, hash, variant, training length, time and hardware."""
    trained = {k: v for k, v in (meta.get("trained") or {}).items() if k != "previous"}
    recipe = meta.get("recipe") or {}
    return {
        "file": str(path),
        "sha256": digest,
        "stage": recipe.get("stage"),
        "variant": recipe.get("variant"),
        "epoch": meta.get("epoch"),
        "step": meta.get("step"),
        "validation": meta.get("metrics"),
        "trained": trained or None,
    }


def _find(folder: Path | None, name: str, required: bool) -> Path | None:
    if folder is not None:
        p = folder / f"{name}.safetensors"
        if p.is_file():
            return p
        if required:
            raise WeightsError(f"{p} not found")
        return None
    return find_weights(name, required=required)


class PoseTransfer:
    """Re-pose a batch of people. Build with `PoseTransfer.load(...)`."""

    def __init__(
        self,
        generator: torch.nn.Module,
        flow: FlowSource,
        pixel_warp: torch.nn.Module | None,
        size: tuple[int, int],
        radius: float,
        device: torch.device,
        weights_hash: str,
        precision: str = "auto",
        provenance: dict[str, Any] | None = None,
        flip_average: bool = False,
    ) -> None:
        self.generator, self.flow, self.pixel_warp = generator, flow, pixel_warp
        self.flip_average = flip_average
        self.size, self.radius, self.device, self.weights_hash = size, radius, device, weights_hash
        self.precision = resolve_precision(precision, device)  # what actually runs: fp32 or bf16
        self.provenance = provenance or {}  # per component (generator, flow, pixel_warp): see _provenance

    @classmethod
    def load(
        cls,
        weights: str | os.PathLike[str] | None = None,
        flow: FlowMode = "learned",
        device: str | torch.device = "cpu",
        pixel_warp: bool = True,
        precision: str = "auto",
        generator_name: str = DEFAULT_GENERATOR,
        flip_average: bool = False,
    ) -> PoseTransfer:
        """`weights`: a folder holding generator/flow/pixel_warp .safetensors (+ .json); None = shipped ones.

        `generator_name`: which generator file of that folder: `generator` (the shipped default, tuned for the
        identity of its samples) or another name such as `generator_ssim` (picked by validation SSIM).

        `precision`: auto (bf16 autocast on CUDA and on CPUs with native bf16, AMX or AVX512-BF16, else fp32), fp32
        or bf16 (diaflow_core.precision).

        `flip_average`: also re-pose the mirrored person into the mirrored pose, mirror that back and average the
        two (twice the compute; the output becomes exactly mirror-symmetric in its inputs). The generator is not
        mirror-equivariant, so the two answers differ and their mean scores higher SSIM (docs/evaluation.md).
        """
        dev = torch.device(device)
        folder = Path(weights) if weights is not None else None
        gen_path = _find(folder, generator_name, required=True)
        assert gen_path is not None
        meta = _sidecar(gen_path)
        gen = build_generator(from_dict(GeneratorConfig, meta["model"], where=str(gen_path)))
        load_safetensors_into(gen, gen_path)
        gen = gen.to(dev).eval().requires_grad_(False)
        data = meta.get("data", {})
        size = tuple(data.get("size", (128, 64)))
        radius = float(data.get("heatmap_radius", 4.0))
        digests = {"generator": file_sha256(gen_path, 64)}
        provenance = {"generator": _provenance(gen_path, meta, digests["generator"]), "flow": {"mode": flow}}
        flow_path = _find(folder, "flow", required=flow == "learned") if flow == "learned" else None
        if flow_path is not None:
            digests["flow"] = file_sha256(flow_path, 64)
            provenance["flow"] = {"mode": flow, **_provenance(flow_path, read_meta(flow_path), digests["flow"])}
        src = FlowSource(FlowSourceConfig(mode=flow, weights=str(flow_path) if flow_path else None), size, radius, dev)
        pw = None
        pw_path = _find(folder, "pixel_warp", required=False) if pixel_warp else None
        if pw_path is not None:
            pw_meta = _sidecar(pw_path)
            pw = PixelWarper(from_dict(PixelWarperConfig, pw_meta["model"], where=str(pw_path)))
            digests["pixel_warp"] = file_sha256(pw_path, 64)
            provenance["pixel_warp"] = _provenance(pw_path, pw_meta, digests["pixel_warp"])
            load_safetensors_into(pw, pw_path)
            pw = pw.to(dev).eval().requires_grad_(False)
        hashes = [d[:12] for d in digests.values()]  # the 12-digit form the manifests have always used
        tag = f"|{flow}" + ("|flip_average" if flip_average else "")  # outputs differ, so does the manifest's hash
        digest = hashlib.sha256(("|".join(hashes) + tag).encode()).hexdigest()[:12]
        return cls(gen, src, pw, (int(size[0]), int(size[1])), radius, dev, digest, precision, provenance, flip_average)

    @torch.no_grad()
    def transfer(self, src: torch.Tensor, src_kp: torch.Tensor, tgt_kp: torch.Tensor) -> torch.Tensor:
        if src.dim() != 4 or src.shape[1] != 3 or tuple(src.shape[-2:]) != self.size:
            raise ValueError(f"src must be (B, 3, {self.size[0]}, {self.size[1]}), got {tuple(src.shape)}")
        if src_kp.shape != (src.shape[0], 18, 2) or tgt_kp.shape != src_kp.shape:
            raise ValueError(f"keypoints must be (B, 18, 2), got {tuple(src_kp.shape)} and {tuple(tgt_kp.shape)}")
        x1, kp1, kp2 = src.to(self.device, torch.float32), src_kp.float(), tgt_kp.float()
        out = self._run(x1, kp1, kp2)
        if self.flip_average:
            w = self.size[1]
            mirrored = self._run(x1.flip(-1), flip_pose(kp1, w), flip_pose(kp2, w))  # type: ignore[arg-type]
            out = (out + mirrored.flip(-1)) / 2
        return out.clamp(-1, 1).cpu()

    def _run(self, x1: torch.Tensor, src_kp: torch.Tensor, tgt_kp: torch.Tensor) -> torch.Tensor:
        with autocast(self.device, self.precision):
            flow, vis = self.flow(src_kp, tgt_kp)
            p2 = pose_heatmaps_torch(tgt_kp.to(self.device), self.size, self.radius)
            out = self.generator(x1, p2, flow, vis)
            if self.pixel_warp is not None:
                out = self.pixel_warp(x1, out, flow, vis)[0]
        return out.float()


def export_weights(
    checkpoint: str | os.PathLike[str],
    name: str,
    dest: str | os.PathLike[str],
    half: bool = True,
    metrics: dict[str, Any] | None = None,
) -> Path:
    """Turn a run's `best.pt` into `<dest>/<name>.safetensors` + `<name>.json` (model config, recipe, numbers)."""
    from .models.flow_net import FlowRegressor, FlowRegressorConfig
    from .train.common import save_safetensors

    ckpt = Path(checkpoint)
    state = torch.load(ckpt, map_location="cpu", weights_only=True)
    recipe = state["config"]
    if name == "flow":
        model: torch.nn.Module = FlowRegressor(from_dict(FlowRegressorConfig, recipe["model"]))
        key, model_cfg = "model", recipe["model"]
    elif name == "generator":
        model = build_generator(from_dict(GeneratorConfig, recipe["model"]))
        key, model_cfg = "generator", recipe["model"]
    elif name == "pixel_warp":
        model = PixelWarper(from_dict(PixelWarperConfig, recipe["pixel_warp"]))
        key, model_cfg = "pixel_warp", recipe["pixel_warp"]
    else:
        raise WeightsError(f"unknown weights name {name!r} (flow, generator, pixel_warp)")
    model.load_state_dict(state["state"][key])
    out = Path(dest) / f"{name}.safetensors"
    save_safetensors(model, out, half=half)
    sidecar = {
        "model": model_cfg,
        "data": recipe.get("data", {}),
        "recipe": recipe,
        "step": state["step"],
        "epoch": state["epoch"],
        "metrics": metrics or state.get("extra", {}).get("val", {}),
    }
    replace_text(out.with_suffix(".json"), json.dumps(sidecar, indent=1))
    return out

"""The main job: re-pose every source image into K target poses and write a drop-in re-ID dataset.

Order of work, chosen so that an interruption at any point loses nothing already written and a rerun
resumes: (1) originals are carried over (copy / link, never replacing a file); (2) the manifest is read and
every sample it lists is skipped; (3) source images are taken in chunks: pose, target picks, fitting, one
transfer batch, atomic image writes, then the batch's manifest rows (fsync'ed). A sample file found on
disk without a manifest row (the process died between the two) is kept as it is and its row is added.
A rerun must ask for what the folder was made with (``augment_settings.json``: seed, view policy, flow,
weights, size); otherwise it is refused before anything is written, since its samples would mix with the
folder's under the same names.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Protocol

import numpy as np
import torch

from diaflow_core.data.images import image_to_tensor, read_image, scale_keypoints, tensor_to_image
from diaflow_core.data.market import TORCHREID_PATTERN
from diaflow_core.errors import DataError, DiaflowError
from diaflow_core.fileio import replace_bytes, replace_text

from .fit import fit_pose, keep_inside, usable_pose
from .fsio import OriginalsMode, carry_file, encode_image, publish_bytes
from .manifest import ManifestWriter, encode_pose, read_manifest
from .pose_backends.base import PoseBackend
from .pose_bank import pose_view
from .preview import contact_sheet
from .sources import Layout, SourceImage, discover_sources
from .targets import VIEW_POLICIES, TargetPool, TargetPose, ViewPolicy, pool_from_poses

SETTINGS_FILE = "augment_settings.json"
# What a rerun must match; the pose source is recorded for the record only (its description names paths,
# which a user may spell differently for the same file).
_CHECKED = ("seed", "views", "flow", "weights_hash", "size")

__all__ = [
    "SETTINGS_FILE",
    "AugmentConfig",
    "AugmentEvent",
    "AugmentSummary",
    "Transfer",
    "generated_name",
    "run_augment",
    "write_preview",
]


class Transfer(Protocol):
    """What the pipeline needs of a pose-transfer model (``diaflow_core.infer.PoseTransfer`` fits).

    Convention: ``src`` float32 ``(B, 3, H, W)`` in [-1, 1]; keypoints float32 ``(B, 18, 2)`` (x, y) pixels,
    NaN = missing; returns ``(B, 3, H, W)`` in [-1, 1].
    """

    weights_hash: str

    def transfer(self, src: torch.Tensor, src_kp: torch.Tensor, tgt_kp: torch.Tensor) -> torch.Tensor: ...


@dataclass(frozen=True)
class AugmentConfig:
    source: Path
    out: Path
    per_image: int = 4
    layout: Layout = "market"
    originals: OriginalsMode = "copy"
    batch_size: int = 16
    seed: int = 0
    # Target view classes relative to the source's (targets.TargetPool.pick). "same" by default: its samples keep
    # identity best and gave the re-ID gain that met the goal (docs/reid_augmentation.md, arm b7).
    views: ViewPolicy = "same"
    limit: int | None = None
    flow_label: str = "learned"  # written to the manifest
    size: tuple[int, int] = (128, 64)
    preview_rows: int = 8  # 0: no preview.png
    jpeg_quality: int = 95

    def __post_init__(self) -> None:
        if self.per_image < 1:
            raise DataError(f"--per-image must be >= 1, got {self.per_image}")
        if self.per_image > 1000:
            raise DataError(f"--per-image must be <= 1000 (names carry 3 digits), got {self.per_image}")
        if self.batch_size < 1:
            raise DataError(f"--batch-size must be >= 1, got {self.batch_size}")
        if self.limit is not None and self.limit < 0:
            raise DataError(f"--limit must be >= 0, got {self.limit}")
        if self.originals not in ("copy", "link", "none"):
            raise DataError(f"--originals must be copy, link or none, got {self.originals!r}")
        if self.views not in VIEW_POLICIES:
            raise DataError(f"--views must be one of {', '.join(VIEW_POLICIES)}, got {self.views!r}")


@dataclass(frozen=True)
class AugmentEvent:
    """Progress for the caller: ``start`` a stage (``total`` units), ``advance`` it, ``skip`` a file."""

    kind: Literal["start", "advance", "skip"]
    stage: str = ""
    total: int = 0
    advance: int = 0
    path: Path | None = None
    reason: str = ""


@dataclass
class AugmentSummary:
    images_in: int = 0
    generated: int = 0
    done_before: int = 0  # samples the manifest already listed
    recovered: int = 0  # sample files found without a manifest row: kept, row added
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> source images
    originals_carried: int = 0
    originals_present: int = 0
    seconds: float = 0.0
    out: Path | None = None
    manifest: Path | None = None
    preview: Path | None = None

    @property
    def rate(self) -> float:
        """Generated samples per second of the whole run."""
        return self.generated / self.seconds if self.seconds > 0 else 0.0


def generated_name(image: SourceImage, index: int) -> str:
    """``<out_dir>/<stem>_gNNN.jpg``, relative to the output root."""
    return f"{image.out_dir}/{image.stem}_g{index:03d}.jpg"


@dataclass
class _Sample:
    image: SourceImage
    index: int
    src: torch.Tensor
    src_kp: np.ndarray
    tgt_kp: np.ndarray
    target: TargetPose
    backend: str


class _Run:
    def __init__(self, config: AugmentConfig, transfer: Transfer, emit: Callable[[AugmentEvent], None]):
        self.config = config
        self.transfer = transfer
        self.emit = emit
        self.summary = AugmentSummary(out=config.out, manifest=config.out / "manifest.csv")

    def skip(self, path: Path, reason: str, samples: int) -> None:
        self.summary.skipped[reason] += 1
        self.emit(AugmentEvent("skip", path=path, reason=reason))
        if samples:
            self.emit(AugmentEvent("advance", "generate", advance=samples))

    def row(self, s: _Sample) -> dict[str, object]:
        return {
            "generated": generated_name(s.image, s.index),
            "source": str(s.image.path),
            "pid": s.image.pid,
            "camera": s.image.camera,
            "index": s.index,
            "target_pose": encode_pose(s.tgt_kp),
            "pose_origin": s.target.origin,
            "source_pose_backend": s.backend,
            "flow": self.config.flow_label,
            "weights_hash": self.transfer.weights_hash,
            "seed": self.config.seed,
        }

    def flush(self, batch: list[_Sample], writer: ManifestWriter) -> None:
        if not batch:
            return
        out = self.config.out
        rows, todo = [], []
        for s in batch:
            if (out / generated_name(s.image, s.index)).exists():
                self.summary.recovered += 1
                rows.append(self.row(s))
            else:
                todo.append(s)
        if todo:
            with torch.inference_mode():
                images = self.transfer.transfer(
                    torch.stack([s.src for s in todo]),
                    torch.from_numpy(np.stack([s.src_kp for s in todo])),
                    torch.from_numpy(np.stack([s.tgt_kp for s in todo])),
                )
            if tuple(images.shape) != (len(todo), 3, *self.config.size):
                raise DiaflowError(
                    f"transfer returned shape {tuple(images.shape)}, expected {(len(todo), 3, *self.config.size)}"
                )
            for s, t in zip(todo, images, strict=True):
                data = encode_image(tensor_to_image(t), ".jpg", self.config.jpeg_quality)
                if publish_bytes(out / generated_name(s.image, s.index), data):
                    self.summary.generated += 1
                else:  # appeared meanwhile: kept
                    self.summary.recovered += 1
                rows.append(self.row(s))
        writer.append(rows)
        self.emit(AugmentEvent("advance", "generate", advance=len(batch)))
        batch.clear()


def _estimate(
    backend: PoseBackend, images: Sequence[SourceImage], run: _Run, pending: dict[str, list[int]]
) -> list[tuple[SourceImage, np.ndarray, np.ndarray] | None]:
    """(image, resized uint8 image, pose in resized pixels) per source, None (reported) when unusable."""

    def report(img: SourceImage, reason: str) -> None:
        if img.stem in pending:  # images already done are only read for the pose pool: not news
            run.skip(img.path, reason, len(pending[img.stem]))

    loaded: list[tuple[SourceImage, np.ndarray]] = []
    out: list[tuple[SourceImage, np.ndarray, np.ndarray] | None] = []
    for img in images:
        try:
            loaded.append((img, read_image(img.path)))
        except DataError:
            report(img, "unreadable image")
    poses = backend.estimate([im for _, im in loaded], [img.path.name for img, _ in loaded]) if loaded else []
    size = run.config.size
    for (img, im), kp in zip(loaded, poses, strict=True):
        if kp is None:
            report(img, f"no pose found ({backend.name})")
            out.append(None)
            continue
        kp = scale_keypoints(kp, im.shape[:2], size) if im.shape[:2] != size else kp
        reason = usable_pose(kp)
        if reason is not None:
            report(img, reason)
            out.append(None)
            continue
        resized = read_image(img.path, size) if im.shape[:2] != size else im
        out.append((img, resized, kp))
    return out


def _check_settings(path: Path, settings: dict[str, object]) -> None:
    """Refuse a rerun into a folder made with other settings (DataError naming the file and the fields)."""
    if not path.is_file():
        return
    try:
        old = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise DataError(f"{path}: unreadable ({e}); remove it only if this folder's samples are yours to mix") from None
    differ = [f"{k} {old[k]!r} -> {settings[k]!r}" for k in _CHECKED if k in old and old[k] != settings[k]]
    if differ:
        raise DataError(
            f"{path}: this folder was made with other settings ({'; '.join(differ)}); its samples would mix "
            "with new ones under the same names: use another --out, or the folder's settings"
        )


def run_augment(
    config: AugmentConfig,
    transfer: Transfer,
    backend: PoseBackend,
    targets: TargetPool | None,
    on_event: Callable[[AugmentEvent], None] | None = None,
) -> AugmentSummary:
    """Augment ``config.source`` into ``config.out`` (see the module doc).

    ``targets`` None means the poses of the source images themselves (``--poses dataset``: every image is
    driven by poses of OTHER people of the same set). ``on_event`` receives progress; library code never
    prints. Returns counts of what was done and skipped.
    """
    t0 = time.perf_counter()
    emit = on_event or (lambda e: None)
    run = _Run(config, transfer, emit)
    summary = run.summary
    found = discover_sources(config.source, config.layout)
    images = list(found.images[: config.limit] if config.limit is not None else found.images)
    for path, reason in found.rejected:
        run.skip(path, reason, 0)
    seen: set[str] = set()
    unique = []
    for img in images:
        key = f"{img.out_dir}/{img.stem}"
        if key in seen:
            run.skip(img.path, "duplicate output name", 0)
            continue
        seen.add(key)
        unique.append(img)
    images = unique
    summary.images_in = len(images)
    out = config.out
    settings = {
        "seed": config.seed,
        "views": config.views,
        "flow": config.flow_label,
        "weights_hash": transfer.weights_hash,
        "size": list(config.size),
        "poses": "dataset" if targets is None else targets.description,
    }
    _check_settings(out / SETTINGS_FILE, settings)
    out.mkdir(parents=True, exist_ok=True)
    if not (out / SETTINGS_FILE).is_file():
        replace_text(out / SETTINGS_FILE, json.dumps(settings, indent=2) + "\n")

    # 1. Originals and the splits carried over untouched.
    carry = [(img.path, f"{img.out_dir}/{img.stem}{img.suffix}") for img in images]
    carry += list(found.carry)
    if config.originals != "none" and carry:
        emit(AugmentEvent("start", "originals", total=len(carry)))
        for n, (src, rel) in enumerate(carry, 1):
            if carry_file(src, out / rel, config.originals):
                summary.originals_carried += 1
            else:
                summary.originals_present += 1
            if n % 256 == 0 or n == len(carry):
                emit(AugmentEvent("advance", "originals", advance=256 if n % 256 == 0 else n % 256))

    # 2. What the manifest says is done.
    done = {row["generated"] for row in read_manifest(summary.manifest)}
    pending: dict[str, list[int]] = {}
    todo: list[SourceImage] = []
    for img in images:
        idx = [i for i in range(config.per_image) if generated_name(img, i) not in done]
        summary.done_before += config.per_image - len(idx)
        if idx:
            pending[img.stem] = idx
            todo.append(img)
    emit(AugmentEvent("start", "generate", total=sum(len(v) for v in pending.values())))

    # 3. Poses, targets, transfer, writes.
    chunk = max(1, config.batch_size)
    if targets is None:  # --poses dataset: every source pose first, they are the pool
        everything = [
            p for i in range(0, len(images), chunk) for p in _estimate(backend, images[i : i + chunk], run, pending)
        ]
        poses = {p[0].path.name: p[2] for p in everything if p is not None}
        targets = pool_from_poses(poses, "dataset", f"poses of the {len(poses)} source images")
        ready = [p for p in everything if p is not None and p[0].stem in pending]
        chunks = (ready[i : i + chunk] for i in range(0, len(ready), chunk))
    else:
        chunks = (_estimate(backend, todo[i : i + chunk], run, pending) for i in range(0, len(todo), chunk))
    batch: list[_Sample] = []
    with ManifestWriter(summary.manifest) as writer:
        for prepared in chunks:
            for item in prepared:
                if item is None:
                    continue
                img, im, kp = item
                src = image_to_tensor(im)
                picks = targets.pick(img.stem, config.per_image, config.seed, img.pid, pose_view(kp), config.views)
                for i in pending[img.stem]:
                    tgt = keep_inside(fit_pose(picks[i].kp, kp), config.size)
                    batch.append(_Sample(img, i, src, kp, tgt, picks[i], backend.name))
                    if len(batch) >= config.batch_size:
                        run.flush(batch, writer)
        run.flush(batch, writer)

    if config.preview_rows > 0:
        summary.preview = write_preview(out, config.preview_rows)
    summary.seconds = time.perf_counter() - t0
    return summary


def write_preview(out: Path, rows: int = 8, samples: int = 6) -> Path | None:
    """``out/preview.png`` from the manifest: the first ``rows`` sources and up to ``samples`` of each.

    The preview is the one file of a run that is replaced on every run (it summarises the whole folder).
    """
    by_source: dict[str, list[str]] = {}
    for row in read_manifest(out / "manifest.csv"):
        if len(by_source) >= rows and row["source"] not in by_source:
            continue
        by_source.setdefault(row["source"], []).append(row["generated"])
    sheet_rows, labels = [], []
    for source, generated in by_source.items():
        # The source as given, else its carried-over original (the run may have started elsewhere).
        original = out / generated[0].rsplit("_g", 1)[0]
        candidates = [Path(source), *(original.with_name(original.name + ext) for ext in (".jpg", ".png"))]
        src_path = next((p for p in candidates if p.is_file()), None)
        try:
            if src_path is None:
                continue
            src = read_image(src_path)
            gen = [read_image(out / g) for g in generated[:samples]]
        except DataError:
            continue  # removed since: leave it out of the picture
        sheet_rows.append((src, gen))
        m = TORCHREID_PATTERN.search(Path(generated[0]).name)
        labels.append(f"{m.group(1)} c{m.group(2)}" if m else Path(source).stem[:10])
    if not sheet_rows:
        return None
    path = out / "preview.png"
    replace_bytes(path, encode_image(contact_sheet(sheet_rows, labels=labels), ".png"))
    return path

"""Helpers for the reid_augment tests: tiny generated datasets and test-double transfers (no real data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from diaflow_core.data.annotations import write_annotations
from reid_augment.fit import canonical_pose
from reid_augment.fsio import encode_image
from reid_augment.pose_bank import load_pose_bank
from reid_augment.scene import draw_person


class CopyDouble:
    """TEST DOUBLE: returns the source unchanged, counts calls, can fail on a chosen call."""

    weights_hash = "test-double"

    def __init__(self, fail_on_call: int | None = None) -> None:
        self.calls = 0
        self.images = 0
        self.fail_on_call = fail_on_call

    def transfer(self, src: torch.Tensor, src_kp: torch.Tensor, tgt_kp: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        if self.fail_on_call is not None and self.calls == self.fail_on_call:
            raise RuntimeError("injected failure")
        assert src.shape[0] == src_kp.shape[0] == tgt_kp.shape[0]
        self.images += src.shape[0]
        return src.clone()


def person_crop(pose_index: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A 128 x 64 crop of a drawn figure in a bank pose, and its (18, 2) pose."""
    bank = load_pose_bank()
    kp = canonical_pose(bank.poses[pose_index % len(bank)], (128, 64))
    rng = np.random.default_rng(seed)
    img = np.full((128, 64, 3), rng.integers(90, 200, 3), np.uint8)
    draw_person(img, kp, rng, facing_front=bank.views[pose_index % len(bank)] != "back")
    return img, kp


def make_crops(folder: Path, n: int, ids: int = 3, csv: bool = True) -> dict[str, np.ndarray]:
    """``n`` Market-named crops of ``ids`` people in ``folder`` (+ the keypoint CSV); returns the poses."""
    folder.mkdir(parents=True, exist_ok=True)
    poses = {}
    for i in range(n):
        pid, cam = 1 + i % ids, 1 + i % 6
        name = f"{pid:04d}_c{cam}s1_{i:06d}_01.jpg"
        img, kp = person_crop(i * 7, i)
        (folder / name).write_bytes(encode_image(img))
        poses[name] = kp
    if csv:
        write_annotations(folder / "market-annotation-train.csv", poses)
    return poses


def make_market_root(root: Path, n_train: int = 8) -> Path:
    """A tiny Market-1501 root: train crops + CSV at the root, a few query / gallery files."""
    poses = make_crops(root / "bounding_box_train", n_train, csv=False)
    write_annotations(root / "market-annotation-train.csv", poses)
    for split in ("query", "bounding_box_test"):
        make_crops(root / split, 3, csv=False)
    return root

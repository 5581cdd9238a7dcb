"""Selecting generated samples by identity margin (diaflow_core.reid.select, `reid-augment select`).

Most cases use a stub feature network whose feature is the mean normalised colour of the image, on solid
colour images: identities are colours, so the expected margins can be worked out by hand.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from types import SimpleNamespace

import cv2
import numpy as np
import pytest
import torch
from torch import nn
from typer.testing import CliRunner

from diaflow_core.errors import DataError
from diaflow_core.reid import ReidRecord
from diaflow_core.reid.select import identity_margins, select_samples, write_selection
from reid_augment.cli.app import app

MEAN = np.array([0.485, 0.456, 0.406])
STD = np.array([0.229, 0.224, 0.225])
RED, DARK_RED, GREEN, BLUE = (230, 20, 20), (150, 30, 30), (20, 220, 20), (20, 20, 230)


class MeanColour(nn.Module):
    """Feature = the per-channel mean of the normalised image (3-d), so flips change nothing."""

    def __init__(self) -> None:
        super().__init__()
        self.config = SimpleNamespace(size=(32, 16))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.mean(dim=(2, 3))


def _feat(rgb: tuple[int, int, int]) -> np.ndarray:
    f = (np.array(rgb) / 255.0 - MEAN) / STD
    return f / np.linalg.norm(f)


def _img(path: Path, rgb: tuple[int, int, int]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    img = np.zeros((32, 16, 3), np.uint8)
    img[:] = rgb[::-1]  # OpenCV writes BGR
    cv2.imwrite(str(path), img)  # PNG: lossless, so the colours are exact
    return path


@pytest.fixture()
def scene(tmp_path: Path) -> SimpleNamespace:
    real_dir = tmp_path / "data" / "bounding_box_train"
    real = [
        ReidRecord(_img(real_dir / "0001_c1s1_000001_01.png", RED), 1, 1),
        ReidRecord(_img(real_dir / "0001_c2s1_000002_01.png", DARK_RED), 1, 2),
        ReidRecord(_img(real_dir / "0002_c1s1_000003_01.png", GREEN), 2, 1),
        ReidRecord(_img(real_dir / "0003_c1s1_000004_01.png", BLUE), 3, 1),
    ]
    aug = tmp_path / "aug"
    gen_dir = aug / "bounding_box_train"
    generated = [
        # a faithful sample of id 1, rendered from its red image: must be scored against dark red only
        ReidRecord(_img(gen_dir / "0001_c1s1_000001_01_g000.png", RED), 1, 1, "0001_c1s1_000001_01.png"),
        # a sample of id 2 that came out blue: its nearest identity is 3
        ReidRecord(_img(gen_dir / "0002_c1s1_000003_01_g000.png", BLUE), 2, 1, "0002_c1s1_000003_01.png"),
        ReidRecord(_img(gen_dir / "0003_c1s1_000004_01_g000.png", BLUE), 3, 1, "0003_c1s1_000004_01.png"),
    ]
    bad = gen_dir / "0002_c1s1_000003_01_g001.png"
    bad.write_bytes(b"not an image")
    generated.append(ReidRecord(bad, 2, 1, "0002_c1s1_000003_01.png"))
    generated.append(ReidRecord(_img(gen_dir / "0009_c1s1_000009_01_g000.png", RED), 9, 1, "x.png"))
    _img(gen_dir / "0001_c1s1_000001_01.png", RED)  # an original carried by `augment --originals`
    (aug / "preview.png").write_bytes(b"preview")
    rows = [["generated", "source", "pid"]] + [[f"bounding_box_train/{g.name}", g.source, g.pid] for g in generated]
    (aug / "manifest.csv").write_text("\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return SimpleNamespace(real=real, generated=generated, aug=aug, root=tmp_path)


def test_margins_match_hand_computation_and_leave_the_source_out(scene: SimpleNamespace) -> None:
    scores = identity_margins(MeanColour(), scene.generated, scene.real, batch_size=2)
    assert [s.name for s in scores] == [g.name for g in scene.generated]
    red, dark, green, blue = (_feat(c) for c in (RED, DARK_RED, GREEN, BLUE))
    c1 = (red + dark) / np.linalg.norm(red + dark)

    s0 = scores[0]  # own centroid without its source = dark red alone
    assert s0.own == pytest.approx(float(red @ dark), abs=1e-5)
    best = max(float(red @ green), float(red @ blue))
    assert s0.best_other == pytest.approx(best, abs=1e-5)
    assert s0.margin == pytest.approx(s0.own - best, abs=1e-5) and s0.margin > 0

    s1 = scores[1]  # the blue sample of id 2: green's only image is its source, so it stays in (count 1)
    assert s1.own == pytest.approx(float(blue @ green), abs=1e-5)
    assert s1.best_other_pid == 3 and s1.best_other == pytest.approx(1.0, abs=1e-5)
    assert s1.margin < 0
    assert scores[2].margin > 0 and scores[2].best_other == pytest.approx(max(blue @ c1, blue @ green), abs=1e-5)

    assert scores[3].problem.startswith("unreadable") and math.isnan(scores[3].margin)
    assert scores[4].problem == "no real image of identity 9"


def test_select_threshold_and_fraction(scene: SimpleNamespace) -> None:
    scores = identity_margins(MeanColour(), scene.generated, scene.real)
    assert select_samples(scores, 0.0).tolist() == [True, False, True, False, False]
    assert select_samples(scores, None).tolist() == [True, True, True, False, False]  # every scored sample
    best = int(np.argmax([s.margin if not s.problem else -9 for s in scores]))
    top = select_samples(scores, None, keep_fraction=0.34)  # 1 of 3 scored
    assert top.sum() == 1 and top[best]
    assert select_samples(scores, 10.0).sum() == 0
    with pytest.raises(DataError, match="keep_fraction"):
        select_samples(scores, 0.0, keep_fraction=0.0)


def test_write_selection_links_kept_files_and_never_overwrites(scene: SimpleNamespace) -> None:
    scores = identity_margins(MeanColour(), scene.generated, scene.real)
    keep = select_samples(scores, 0.0)
    out = scene.root / "selected"
    summary = write_selection(scene.aug, out, scene.generated, scores, keep, {"min_margin": 0.0})
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert files == [
        "bounding_box_train/0001_c1s1_000001_01.png",  # the original is carried
        "bounding_box_train/0001_c1s1_000001_01_g000.png",
        "bounding_box_train/0003_c1s1_000004_01_g000.png",
        "manifest.csv",
        "selection.json",
    ]
    rows = list(csv.DictReader((out / "manifest.csv").open()))
    assert [Path(r["generated"]).name for r in rows] == [scene.generated[0].name, scene.generated[2].name]
    assert float(rows[0]["id_margin"]) == pytest.approx(scores[0].margin, abs=1e-4)
    report = json.loads((out / "selection.json").read_text())  # strict JSON: NaN written as null
    assert (report["samples"], report["scored"], report["kept"], report["dropped"]) == (5, 3, 2, 3)
    assert report == summary and report["own_nearest"] == pytest.approx(2 / 3)
    assert {p["name"] for p in report["problems"]} == {scene.generated[3].name, scene.generated[4].name}
    assert report["scores"][3]["margin"] is None
    before = (out / "manifest.csv").read_bytes()
    with pytest.raises(DataError, match="not empty"):
        write_selection(scene.aug, out, scene.generated, scores, keep, {})
    assert (out / "manifest.csv").read_bytes() == before
    with pytest.raises(DataError, match="new folder outside"):
        write_selection(scene.aug, scene.aug / "sub", scene.generated, scores, keep, {})


def test_cli_select_with_a_real_reid_network(tiny_market: Path, tmp_path: Path) -> None:
    """End to end with a (randomly initialised) ReidNet: the command scores every sample, writes a root that
    generated_records reads, and its counts agree with selection.json."""
    from diaflow_core.reid import ReidNet, ReidNetConfig, save_reid_weights
    from diaflow_core.reid.experiment import generated_records

    torch.manual_seed(0)
    net = ReidNet(6, ReidNetConfig(size=(64, 32), backbone="resnet18", pretrained=None))
    weights = save_reid_weights(net, tmp_path / "w" / "reid.safetensors")
    aug = tmp_path / "aug"
    (aug / "bounding_box_train").mkdir(parents=True)
    for path in sorted((tiny_market / "bounding_box_train").glob("*.jpg")):  # fixture copies, not samples
        (aug / "bounding_box_train" / f"{path.stem}_g000.jpg").write_bytes(path.read_bytes())
    out = tmp_path / "sel"
    args = ["select", str(aug), "--out", str(out), "--data", str(tiny_market), "--weights", str(weights)]
    res = CliRunner().invoke(app, [*args, "--no-min-margin", "--keep-fraction", "0.5", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    report = json.loads((out / "selection.json").read_text())
    assert report["samples"] == report["scored"] == 18 and report["kept"] == 9
    assert len(generated_records(out)) == 9
    res = CliRunner().invoke(app, [*args, "--device", "cpu"])  # same --out again: refused, nothing touched
    assert res.exit_code != 0 and "not empty" in str(res.exception or res.output)
    res = CliRunner().invoke(app, [*args[:-2], "--weights", str(weights), "--no-min-margin", "--out", "x"])
    assert res.exit_code != 0

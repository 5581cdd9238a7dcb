"""The proxy body on real Market-1501 training pairs, and the `flow show` command (skipped without data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from diaflow_core.data.annotations import read_annotations
from diaflow_core.data.images import read_image
from diaflow_core.ops import warp
from diaflow_core.proxy3d import compute_flow_batch

pytestmark = pytest.mark.data


def _pairs(market_root: Path, n: int) -> list[tuple[str, str]]:
    poses, _ = read_annotations(market_root / "market-annotation-train.csv")
    names = sorted(p.name for p in (market_root / "bounding_box_train").glob("*.jpg") if p.name in poses)
    by_id: dict[str, list[str]] = {}
    for nm in names:
        by_id.setdefault(nm[:4], []).append(nm)
    groups = [v for v in by_id.values() if len(v) >= 2]
    return [(g[0], g[1]) for g in groups[:n]]


def test_warp_beats_copying_on_visible_pixels(market_root: Path) -> None:
    import torch

    poses, _ = read_annotations(market_root / "market-annotation-train.csv")
    pairs = _pairs(market_root, 40)
    src = np.stack([poses[a] for a, _ in pairs])
    tgt = np.stack([poses[b] for _, b in pairs])
    flow, vis = compute_flow_batch(src, tgt)
    assert np.isfinite(flow).all() and vis.max() <= 2
    img_dir = market_root / "bounding_box_train"
    s_img = np.stack([read_image(img_dir / a) for a, _ in pairs]).astype(np.float32)
    t_img = np.stack([read_image(img_dir / b) for _, b in pairs]).astype(np.float32)
    warped = warp(torch.from_numpy(s_img.transpose(0, 3, 1, 2)), torch.from_numpy(flow)).numpy().transpose(0, 2, 3, 1)
    m = vis == 0
    assert m.mean() > 0.08  # a real share of the crop is body visible in both images
    l1_warp = np.abs(warped - t_img)[m].mean()
    l1_copy = np.abs(s_img - t_img)[m].mean()
    assert l1_warp < 0.9 * l1_copy


def test_flow_show_command(market_root: Path, tmp_path: Path) -> None:
    from reid_augment.cli.flow_cmd import flow_show

    a, b = _pairs(market_root, 1)[0]
    app = typer.Typer()
    app.command()(flow_show)
    img_dir = market_root / "bounding_box_train"
    out = tmp_path / "pair.png"
    res = CliRunner().invoke(app, [str(img_dir / a), str(img_dir / b), "--out", str(out)])
    assert res.exit_code == 0, res.output
    pic = read_image(out)
    assert pic.shape[0] > 128 and pic.shape[1] > 7 * 64
    bad = CliRunner().invoke(app, [str(img_dir / a), str(img_dir / b), "--annotations", str(tmp_path / "none.csv")])
    assert bad.exit_code != 0

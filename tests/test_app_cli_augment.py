"""The augment, demo and poses commands through Typer (registered on a local app, as the lead does)."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from app_fixtures import make_crops
from typer.testing import CliRunner

from diaflow_core.data.annotations import read_annotations
from diaflow_core.errors import DiaflowError
from reid_augment.cli.augment_cmd import augment, demo
from reid_augment.cli.poses_cmd import poses_build, poses_show
from reid_augment.manifest import read_manifest
from reid_augment.pose_bank import load_pose_bank, pose_view

app = typer.Typer()
app.command("augment")(augment)
app.command("demo")(demo)
poses = typer.Typer()
poses.command("build")(poses_build)
poses.command("show")(poses_show)
app.add_typer(poses, name="poses")
runner = CliRunner()


def _ok(args: list[str]) -> str:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, f"{result.output}\n{result.exception!r}"
    return result.output


def test_augment_no_generator_on_crops(tmp_path: Path) -> None:
    src = tmp_path / "crops"
    make_crops(src, 3)
    out = tmp_path / "out"
    args = ["augment", str(src), "--out", str(out), "-k", "2", "--no-generator", "--device", "cpu"]
    _ok(args)
    rows = read_manifest(out / "manifest.csv")
    assert len(rows) == 6 and {r["flow"] for r in rows} == {"analytic-warp"}
    assert {r["source_pose_backend"] for r in rows} == {"annotations"}
    _ok(args)  # a rerun is a no-op
    assert len(read_manifest(out / "manifest.csv")) == 6


def test_augment_views_option(tmp_path: Path) -> None:
    src = tmp_path / "crops"
    make_crops(src, 4)
    out = tmp_path / "out"
    _ok(["augment", str(src), "--out", str(out), "-k", "2", "--no-generator", "--device", "cpu", "--views", "other"])
    poses = {n: kp for n, kp in read_annotations(src / "market-annotation-train.csv")[0].items()}
    rows = read_manifest(out / "manifest.csv")
    assert len(rows) == 8
    for row in rows:  # bank origins end in the target's view class; "other" never repeats the source's
        assert not row["pose_origin"].endswith("/" + str(pose_view(poses[Path(row["source"]).name])))
    bad = runner.invoke(app, ["augment", str(src), "--out", str(out), "--views", "sideways"])
    assert bad.exit_code != 0 and "sideways" in bad.output


def test_augment_errors_are_library_errors(tmp_path: Path) -> None:
    result = runner.invoke(app, ["augment", str(tmp_path / "nothing"), "--out", str(tmp_path / "o")])
    assert isinstance(result.exception, DiaflowError) and "not found" in str(result.exception)
    src = tmp_path / "crops"
    make_crops(src, 2, csv=False)
    result = runner.invoke(app, ["augment", str(src), "--out", str(tmp_path / "o"), "--pose-backend", "annotations"])
    assert isinstance(result.exception, DiaflowError) and "no keypoint CSV" in str(result.exception)


def test_poses_build_and_show(tmp_path: Path) -> None:
    src = tmp_path / "crops"
    make_crops(src, 60, ids=6)
    bank = tmp_path / "bank.npz"
    _ok(["poses", "build", str(src / "market-annotation-train.csv"), "--out", str(bank), "--clusters", "6"])
    built = load_pose_bank(bank)
    assert 1 <= len(built) <= 6
    result = runner.invoke(app, ["poses", "build", str(src / "market-annotation-train.csv"), "--out", str(bank)])
    assert isinstance(result.exception, DiaflowError) and "--force" in str(result.exception)
    png = tmp_path / "bank.png"
    _ok(["poses", "show", "--out", str(png)])
    assert png.read_bytes()[:4] == b"\x89PNG"


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_demo_runs_offline(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    output = _ok(["demo", "--out", str(out), "-k", "2", "--device", "cpu", "--flow", "analytic"])
    assert "demo written to" in output
    train = sorted(p.name for p in (out / "bounding_box_train").iterdir())
    assert len(train) == 9 and (out / "preview.png").is_file() and (out / "scene.jpg").is_file()
    assert len(read_manifest(out / "manifest.csv")) == 6


def test_augment_flip_average_gets_its_own_hash_and_rerun_is_refused(tmp_path: Path) -> None:
    from diaflow_core.weights import find_weights

    if find_weights("generator", required=False) is None:
        pytest.skip("no shipped generator weights in this checkout")
    src = tmp_path / "crops"
    make_crops(src, 2)
    out = tmp_path / "out"
    base = ["augment", str(src), "--out", str(out), "-k", "1", "--device", "cpu", "--precision", "fp32"]
    _ok([*base, "--flip-average"])
    rows = read_manifest(out / "manifest.csv")
    plain = tmp_path / "plain"
    _ok(["augment", str(src), "--out", str(plain), "-k", "1", "--device", "cpu", "--precision", "fp32"])
    hashes = {r["weights_hash"] for r in rows}
    assert len(rows) == 2 and len(hashes) == 1
    assert hashes.isdisjoint({r["weights_hash"] for r in read_manifest(plain / "manifest.csv")})
    result = runner.invoke(app, base)  # same folder without averaging: other samples, so refused, nothing lost
    assert result.exit_code != 0 and isinstance(result.exception, DiaflowError)
    assert "weights_hash" in str(result.exception)
    assert len(read_manifest(out / "manifest.csv")) == 2

"""`reid-augment info`: weights are listed with their validation and test figures, rounded."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from reid_augment.cli.app import app


def test_info_lists_weights_with_validation_and_test_figures(tmp_path, monkeypatch):
    (tmp_path / "toy.safetensors").write_bytes(b"")  # only listed, never loaded
    meta = {"metrics": {"ssim": 0.123456789, "pairs": 256.0}, "trained": {"test": {"ssim": 0.1, "report": "r.json"}}}
    (tmp_path / "toy.json").write_text(json.dumps(meta))
    monkeypatch.setenv("DIAFLOW_WEIGHTS", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    result = CliRunner().invoke(app, ["info"])
    assert result.exit_code == 0, result.output
    row = result.output[result.output.index("toy") :]
    assert "validation: ssim=0.1235, pairs=256" in row and "test: ssim=0.1" in row
    assert "r.json" not in row  # paths are not figures

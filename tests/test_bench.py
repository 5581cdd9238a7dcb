"""Benchmarks in quick mode: every case runs and its rows are well formed. No timing assertions."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch
from typer.testing import CliRunner

from diaflow_core.bench import CASES, BenchResult, BenchSettings, measure, run_benchmarks
from diaflow_core.bench.networks import bench_flow
from diaflow_core.errors import ConfigError

QUICK = BenchSettings(quick=True, device="cpu")
CPU = torch.device("cpu")


def check_rows(rows: list[BenchResult], case: str) -> None:
    assert rows, f"{case}: no rows"
    by_name = {r.name: r for r in rows}
    assert len(by_name) == len(rows), "row names must be unique"
    for r in rows:
        assert r.case == case and r.name.split("/")[0] in (case, "params", "flops")
        if r.skipped is not None:
            assert r.value is None and r.skipped
            continue
        assert r.value is not None and math.isfinite(r.value) and r.value > 0, r
        if r.baseline is None:
            assert r.ratio is None
            continue
        base = by_name[r.baseline]
        assert base.baseline == base.name and base.ratio == pytest.approx(1.0)
        assert base.value is not None
        assert r.ratio == pytest.approx(r.value / base.value, rel=1e-12)
        assert r.samples and min(r.samples) <= r.value <= max(r.samples)
        assert len(r.extra["repeat_ratios"]) == len(r.samples) == len(base.samples)
    json.dumps([r.to_dict() for r in rows])  # JSON-ready


@pytest.mark.parametrize("case", [c for c in CASES if c != "data"])
def test_case_quick(case: str) -> None:
    rows = CASES[case][0](QUICK.resolved(), CPU)
    check_rows(rows, case)
    assert all(r.skipped is None for r in rows), [r.skipped for r in rows]


def test_precision_variants_are_timed() -> None:
    s = QUICK.resolved()
    assert [r.name for r in CASES["reid"][0](s, CPU)] == ["reid/fp32", "reid/bf16"]
    assert {"train/fp32", "train/bf16"} <= {r.name for r in CASES["train"][0](s, CPU)}
    flow_rows = CASES["flow_train"][0](s, CPU)
    names = ["fp32", "channels_last", "bf16", "batch4x", "device_targets"]
    assert [r.name for r in flow_rows] == [f"flow_train/{n}" for n in names]
    assert flow_rows[0].settings["batch"] == s.flow_train_batch
    assert flow_rows[3].note == f"batch {4 * s.flow_train_batch}"


def test_data_case_quick(market_root: Path) -> None:
    rows = CASES["data"][0](BenchSettings(quick=True, market_root=str(market_root)).resolved(), CPU)
    check_rows(rows, "data")
    assert [r.name for r in rows] == ["data/workers0", "data/workers2"]
    assert all(r.skipped is None for r in rows)


def test_data_case_skips_without_market(tmp_path: Path) -> None:
    rows = CASES["data"][0](BenchSettings(quick=True, market_root=str(tmp_path)).resolved(), CPU)
    check_rows(rows, "data")
    assert len(rows) == 2 and all(r.skipped and "not found" in r.skipped for r in rows)


def test_flops_total_is_the_sum() -> None:
    rows = {r.name: r.value for r in CASES["flops"][0](QUICK.resolved(), CPU)}
    parts = ("flow_regressor", "generator", "pixel_warp")
    assert rows["flops/total"] == pytest.approx(sum(rows[f"flops/{p}"] for p in parts))  # type: ignore[misc]
    assert rows["params/total"] == pytest.approx(sum(rows[f"params/{p}"] for p in parts))  # type: ignore[misc]


def test_failed_compile_is_a_skipped_row(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_compile(self: torch.nn.Module, *args: object, **kwargs: object) -> None:
        def fail(*a: object, **k: object) -> None:
            raise RuntimeError("no C++ compiler here\nmore detail")

        self.forward = fail  # type: ignore[method-assign]

    monkeypatch.setattr(torch.nn.Module, "compile", broken_compile)
    s = BenchSettings(quick=True, compile=True).resolved()
    rows = bench_flow(s, CPU)
    check_rows(rows, "flow")
    skipped = {r.name: r.skipped for r in rows if r.skipped}
    assert skipped == {"flow/compile": "RuntimeError: no C++ compiler here"}
    assert {r.name for r in rows if r.value} == {"flow/eager", "flow/channels_last", "flow/bf16"}


def test_measure_interleaves_and_counts() -> None:
    calls: list[str] = []

    def make(name: str, items: int):
        def fn() -> int:
            calls.append(name)
            return items

        return fn

    out = measure({"a": make("a", 1), "b": make("b", 4)}, repeats=3, warmup=2)
    assert calls == ["a", "a", "b", "b", "a", "b", "b", "a", "a", "b"]  # warm-up, then A B, B A, A B
    assert [t.items for t in out["a"]] == [1, 1, 1] and [t.items for t in out["b"]] == [4, 4, 4]
    assert all(t.wall_s > 0 and t.cpu_s > 0 and t.rate() > 0 for ts in out.values() for t in ts)


def test_settings_and_names_are_checked() -> None:
    with pytest.raises(ConfigError):
        BenchSettings(repeats=0)
    with pytest.raises(ConfigError, match="did you mean 'flow'"):
        run_benchmarks(QUICK, only=["flwo"])
    assert QUICK.resolved().repeats == 1 and BenchSettings(repeats=3).resolved().repeats == 3


def test_run_benchmarks_restores_threads() -> None:
    before = torch.get_num_threads()
    rows, env = run_benchmarks(BenchSettings(quick=True, threads=1), only=["proxy"])
    assert env["torch_threads"] == 1 and torch.get_num_threads() == before
    check_rows(rows, "proxy")


def test_cli_bench_writes_json(tmp_path: Path) -> None:
    from reid_augment.cli.app import app

    out = tmp_path / "bench.json"
    res = CliRunner().invoke(app, ["bench", "--only", "proxy", "--quick", "--device", "cpu", "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "proxy/batch4" in res.output
    report = json.loads(out.read_text())
    assert report["settings"]["quick"] is True and report["environment"]["device"] == "cpu"
    rows = [BenchResult(**r) for r in report["results"]]
    assert [r.name for r in rows] == ["proxy/single", "proxy/batch4", "proxy/torch_cpu"]
    check_rows(rows, "proxy")

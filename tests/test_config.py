"""The recipe loader: strict keys with hints, types checked, overrides re-validated, round trip through YAML."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import pytest

from diaflow_core.config import apply_overrides, dump_yaml, from_dict, load_recipe, to_dict
from diaflow_core.errors import ConfigError


@dataclass(frozen=True)
class Inner:
    lr: float = 1e-4
    size: tuple[int, int] = (128, 64)
    mode: Literal["a", "b"] = "a"


@dataclass(frozen=True)
class Outer:
    name: str
    inner: Inner = field(default_factory=Inner)
    path: str | None = None


def test_from_dict_builds_nested_and_coerces_numbers() -> None:
    cfg = from_dict(Outer, {"name": "x", "inner": {"lr": "2e-4", "size": [64, 32]}})
    assert cfg.inner.lr == pytest.approx(2e-4)
    assert cfg.inner.size == (64, 32)
    assert cfg.path is None


def test_unknown_key_gets_a_did_you_mean() -> None:
    with pytest.raises(ConfigError, match="did you mean 'lr'"):
        from_dict(Outer, {"name": "x", "inner": {"lrr": 1.0}})


def test_missing_required_and_bad_types_are_errors() -> None:
    with pytest.raises(ConfigError, match="missing required key 'name'"):
        from_dict(Outer, {})
    with pytest.raises(ConfigError, match="not one of"):
        from_dict(Outer, {"name": "x", "inner": {"mode": "c"}})
    with pytest.raises(ConfigError, match="expected 2 items"):
        from_dict(Outer, {"name": "x", "inner": {"size": [1, 2, 3]}})
    with pytest.raises(ConfigError, match="expected a string"):
        from_dict(Outer, {"name": 3})


def test_overrides_apply_and_are_checked() -> None:
    cfg = from_dict(Outer, {"name": "x"})
    new = apply_overrides(cfg, ["inner.lr=0.5", "inner.mode=b"])
    assert new.inner.lr == 0.5 and new.inner.mode == "b" and cfg.inner.lr == 1e-4
    with pytest.raises(ConfigError, match="did you mean 'inner'"):
        apply_overrides(cfg, ["innr.lr=1"])
    with pytest.raises(ConfigError, match="key.path=value"):
        apply_overrides(cfg, ["inner.lr"])


def test_yaml_round_trip(tmp_path) -> None:
    cfg = from_dict(Outer, {"name": "x", "path": "/a", "inner": {"size": [32, 16]}})
    dump_yaml(cfg, tmp_path / "r.yaml")
    again = load_recipe(Outer, tmp_path / "r.yaml")
    assert again == cfg
    assert to_dict(again)["inner"]["size"] == [32, 16]


def test_load_recipe_errors_name_the_file(tmp_path) -> None:
    with pytest.raises(ConfigError, match="recipe not found"):
        load_recipe(Outer, tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    with pytest.raises(ConfigError, match="bad.yaml"):
        load_recipe(Outer, bad)

"""Every shipped recipe loads into its config class (complete, no unknown keys, valid values)."""

from __future__ import annotations

from pathlib import Path

import pytest

from diaflow_core.config import load_recipe
from diaflow_core.train.flow import FlowTrainConfig
from diaflow_core.train.generator import GenTrainConfig

RECIPES = sorted((Path(__file__).resolve().parents[1] / "recipes").glob("*.yaml"))


@pytest.mark.parametrize("path", RECIPES, ids=[p.name for p in RECIPES])
def test_recipe_loads(path: Path) -> None:
    if path.name.startswith("market1501_flow"):
        cfg = load_recipe(FlowTrainConfig, path)
        assert cfg.model.flow_unit == cfg.loss.flow_unit  # the loss must read flows in the model's unit
    elif "reid" in path.name and "generator" not in path.name:
        pytest.skip("re-ID recipes are read by diaflow_core.reid (tested there)")
    else:
        cfg = load_recipe(GenTrainConfig, path)
        assert cfg.data.size == (128, 64) and cfg.model.levels == 5


def test_ablation_recipes_differ_from_the_full_model_in_one_switch() -> None:
    base = load_recipe(GenTrainConfig, RECIPES[0].parent / "market1501_generator.yaml")
    no_vis = load_recipe(GenTrainConfig, RECIPES[0].parent / "market1501_generator_no_vis.yaml")
    no_flow = load_recipe(GenTrainConfig, RECIPES[0].parent / "market1501_generator_no_flow.yaml")
    no_dual = load_recipe(GenTrainConfig, RECIPES[0].parent / "market1501_generator_no_dual.yaml")
    assert (no_vis.model.vis_mode, base.model.vis_mode) == ("none", "gate")
    assert not no_flow.model.use_flow and no_flow.model.dual_encoder
    assert not no_dual.model.dual_encoder


def test_reid_perceptual_recipe_builds_on_a_saved_reid_network(tmp_path: Path) -> None:
    """The recipe's layer names must exist in the project's ReidNet: build the loss the way the trainer does,
    from saved weights, and check it is zero for equal images and has a gradient otherwise."""
    from dataclasses import replace

    import torch

    from diaflow_core.reid import ReidNet, ReidNetConfig, save_reid_weights
    from diaflow_core.train.generator import _build_perceptual

    cfg = load_recipe(GenTrainConfig, RECIPES[0].parent / "market1501_generator_reid.yaml")
    assert cfg.loss.perceptual.backend == "reid"
    torch.manual_seed(0)
    weights = save_reid_weights(ReidNet(4, ReidNetConfig(size=(128, 64), pretrained=None)), tmp_path / "r.safetensors")
    loss = _build_perceptual(replace(cfg.loss.perceptual, weights_path=str(weights)))
    x = torch.rand(2, 3, 128, 64) * 2 - 1
    assert loss(x.clone(), x).item() == 0.0
    y = (x * 0.5).requires_grad_()
    value = loss(y, x)
    value.backward()
    assert value.item() > 0 and y.grad is not None and y.grad.abs().sum() > 0


def test_flow_finetune_recipe_is_the_base_network_with_a_loss_for_every_output() -> None:
    """The fine-tune recipe must build the same network as the from-scratch one (so the shipped weights load),
    name the shipped weights, and give one loss weight per output the network really returns."""
    import torch

    from diaflow_core.models.flow_net import FlowRegressor

    base = load_recipe(FlowTrainConfig, RECIPES[0].parent / "market1501_flow.yaml")
    tune = load_recipe(FlowTrainConfig, RECIPES[0].parent / "market1501_flow_finetune.yaml")
    assert tune.model == base.model and tune.data == base.data
    assert tune.init_weights == "diaflow_core/weights/flow.safetensors"  # relative to the repo root
    assert (RECIPES[0].parents[1] / tune.init_weights).is_file()
    assert (tune.augment.jitter_px, tune.augment.drop_prob, tune.augment.shift_px) == (0.0, 0.0, (0.0, 0.0))
    heat = torch.zeros(1, tune.model.pose_channels, *tune.data.size)
    flows = FlowRegressor(tune.model).eval()(heat, heat).flows
    assert len(tune.loss.level_weights) == len(flows) and tune.loss.level_weights[0] > 0

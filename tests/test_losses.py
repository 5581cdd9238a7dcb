"""Losses: l1, GAN kinds, flow loss (multi-scale EPE on body pixels + CE), perceptual backends."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
import torch
import torch.nn as nn

from diaflow_core.errors import ConfigError, WeightsError
from diaflow_core.losses import (
    VGG19_WEIGHTS_FILE,
    FlowLossConfig,
    PerceptualConfig,
    PerceptualLoss,
    d_loss,
    end_point_error,
    flow_loss,
    g_loss,
    l1,
    ssim_loss,
)
from diaflow_core.losses.perceptual import _vgg19_features
from diaflow_core.metrics.ssim import GAUSSIAN, masked_ssim, ssim
from diaflow_core.ops import ShapeError, resize_flow, resize_flow_on_body, resize_visibility

# ---------------------------------------------------------------- l1


def test_l1_known_values(device: str) -> None:
    a = torch.zeros(1, 1, 2, 2, device=device)
    b = torch.tensor([[[[1.0, 3.0], [0.0, 0.0]]]], device=device)
    assert l1(a, b).item() == pytest.approx(1.0)
    mask = torch.tensor([[[[1.0, 0.0], [0.0, 0.0]]]], device=device)
    assert l1(a, b, mask).item() == pytest.approx(1.0)
    assert l1(a, b, torch.zeros_like(mask)).item() == 0.0
    with pytest.raises(ShapeError):
        l1(a, b[..., :1])


# ---------------------------------------------------------------- SSIM


def _to_uint8(x: torch.Tensor) -> torch.Tensor:
    return ((x.detach() + 1.0) * 127.5).round().clamp(0, 255).to(torch.uint8).permute(0, 2, 3, 1)


@pytest.mark.parametrize("settings", [None, GAUSSIAN])
def test_ssim_loss_is_one_minus_the_metric(settings) -> None:
    # on images already on the uint8 grid the loss equals 1 - the evaluation's (masked) SSIM
    g = torch.Generator().manual_seed(0)
    tgt = torch.randint(0, 256, (3, 3, 40, 24), generator=g).float() / 127.5 - 1.0
    pred = (tgt + 0.3 * torch.randn(tgt.shape, generator=g)).clamp(-1, 1)
    pred = _to_uint8(pred).permute(0, 3, 1, 2).float() / 127.5 - 1.0
    mask = torch.rand(3, 1, 40, 24, generator=g) > 0.4
    kw = {} if settings is None else {"settings": settings}
    want = 1.0 - ssim(_to_uint8(pred), _to_uint8(tgt), **kw).mean().item()
    assert ssim_loss(pred, tgt, **kw).item() == pytest.approx(want, abs=1e-5)
    want_m = 1.0 - masked_ssim(_to_uint8(pred), _to_uint8(tgt), mask[:, 0], **kw).mean().item()
    assert ssim_loss(pred, tgt, mask.float(), **kw).item() == pytest.approx(want_m, abs=1e-5)
    assert want_m != pytest.approx(want, abs=1e-3)  # the mask changes the figure


def test_ssim_loss_zero_when_equal_and_gradient_lowers_it(device: str) -> None:
    g = torch.Generator().manual_seed(1)
    tgt = (torch.rand(2, 3, 32, 16, generator=g) * 2 - 1).to(device)
    assert ssim_loss(tgt, tgt).item() == pytest.approx(0.0, abs=1e-6)
    pred = (tgt + 0.5 * torch.randn(tgt.shape, generator=g).to(device)).clamp(-1, 1).requires_grad_(True)
    before = ssim_loss(pred, tgt)
    before.backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0
    after = ssim_loss(pred.detach() - 20.0 * pred.grad, tgt)
    assert after.item() < before.item()
    with pytest.raises(ShapeError):
        ssim_loss(pred, tgt[..., :8])


# ---------------------------------------------------------------- GAN


def test_gan_known_values() -> None:
    zero = torch.zeros(2, 1, 3, 3)
    assert d_loss(zero, zero, "vanilla").item() == pytest.approx(math.log(2))
    assert g_loss(zero, "vanilla").item() == pytest.approx(math.log(2))
    assert d_loss(torch.ones(2, 1), torch.zeros(2, 1), "lsgan").item() == pytest.approx(0.0)
    assert g_loss(torch.zeros(2, 1), "lsgan").item() == pytest.approx(1.0)
    assert d_loss(torch.full((2, 1), 2.0), torch.full((2, 1), -2.0), "hinge").item() == 0.0
    assert d_loss(zero, zero, "hinge").item() == pytest.approx(2.0)
    assert g_loss(torch.full((2, 1), 3.0), "hinge").item() == pytest.approx(-3.0)


@pytest.mark.parametrize("kind", ["vanilla", "lsgan", "hinge"])
def test_gan_gradients_point_the_right_way(kind: str) -> None:
    fake = torch.zeros(4, 1, 2, 2, requires_grad=True)
    g_loss(fake, kind).backward()
    assert (fake.grad < 0).all()  # G raises the fake logits
    real = torch.zeros(4, 1, 2, 2, requires_grad=True)
    fake_d = torch.full((4, 1, 2, 2), 0.5, requires_grad=True)
    d_loss(real, fake_d, kind).backward()
    assert (real.grad < 0).all() and (fake_d.grad > 0).all()


def test_gan_bad_kind() -> None:
    with pytest.raises(ConfigError):
        g_loss(torch.zeros(1), "wgan")
    with pytest.raises(ConfigError):
        d_loss(torch.zeros(1), torch.zeros(1), "wgan")


# ---------------------------------------------------------------- flow


def _flow_targets(device: str) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    flow = (torch.randn(2, 2, 16, 8, generator=g) * 5).to(device)
    vis = torch.full((2, 16, 8), 2, dtype=torch.long)
    vis[:, 4:12, 2:6] = torch.randint(0, 2, (2, 8, 4), generator=g)
    return flow, vis.to(device)


def test_epe_known_value(device: str) -> None:
    pred = torch.zeros(1, 2, 2, 2, device=device)
    target = torch.zeros_like(pred)
    target[:, 0, 0, 0], target[:, 1, 0, 0] = 3.0, 4.0
    mask = torch.tensor([[[True, True], [False, False]]], device=device)
    assert end_point_error(pred, target, mask).item() == pytest.approx(2.5, abs=1e-4)
    with pytest.raises(ShapeError):
        end_point_error(pred, target, mask[..., :1])


def test_flow_loss_perfect_and_one_pixel(device: str) -> None:
    flow, vis = _flow_targets(device)
    sizes = [(16, 8), (8, 4), (4, 2)]
    perfect = [resize_flow_on_body(flow, vis < 2, s) for s in sizes]
    logits = torch.nn.functional.one_hot(vis, 3).permute(0, 3, 1, 2).float() * 50
    cfg = FlowLossConfig()
    total, parts = flow_loss(perfect, logits, flow, vis, cfg)
    assert parts["epe_px"].item() < 1e-3 and parts["vis_ce"].item() < 1e-6 and parts["vis_acc"].item() == 1.0
    assert total.item() < 1e-3
    # One full-resolution pixel of error in x at every scale, plus garbage on background pixels.
    shifted = []
    for s, f in zip(sizes, perfect, strict=True):
        off = torch.zeros_like(f)
        off[:, 0] = s[1] / 8  # 1 px at full resolution = w / W px of the level grid
        bg = (resize_visibility(vis, s) == 2).unsqueeze(1)
        shifted.append(f + off + bg * 100.0)
    total, parts = flow_loss(shifted, logits, flow, vis, cfg)
    for k in range(3):
        assert parts[f"epe_px_{k}"].item() == pytest.approx(1.0, abs=1e-3)
    assert total.item() == pytest.approx(1.0 / cfg.flow_unit, abs=1e-3)


def test_flow_loss_weights_and_gradient(device: str) -> None:
    flow, vis = _flow_targets(device)
    preds = [torch.zeros(2, 2, 16, 8, device=device, requires_grad=True)]
    logits = torch.zeros(2, 3, 16, 8, device=device, requires_grad=True)
    cfg = FlowLossConfig(flow_weight=0.0, vis_weight=2.0)
    total, parts = flow_loss(preds, logits, flow, vis, cfg)
    assert total.item() == pytest.approx(2 * math.log(3), rel=1e-5)
    total.backward()
    assert logits.grad is not None and preds[0].grad is not None
    _, parts = flow_loss(preds, logits, flow, vis, FlowLossConfig(level_weights=(1.0,)))
    assert parts["epe_px"] > 0
    with pytest.raises(ConfigError):
        flow_loss(preds, logits, flow, vis, FlowLossConfig(level_weights=(1.0, 1.0)))
    with pytest.raises(ShapeError):
        flow_loss(preds, logits[:, :2], flow, vis)
    with pytest.raises(ConfigError):
        FlowLossConfig(vis_class_weights=(1.0, 2.0))


def test_flow_loss_gradcheck() -> None:
    flow, vis = _flow_targets("cpu")
    flow = flow.double()
    pred = (resize_flow(flow, (8, 4)) + 0.5).requires_grad_()
    logits = torch.randn(2, 3, 16, 8, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda p, lg: flow_loss([p], lg, flow, vis)[0], (pred, logits))


# ---------------------------------------------------------------- perceptual


def _save_fake_vgg(path: Path, upto: int = 7) -> None:
    """A VGG19 state dict with only the first layers (enough for relu1_1, relu2_1)."""
    torch.manual_seed(0)
    feats = _vgg19_features(upto - 1)
    state = {f"features.{k}": v for k, v in feats.state_dict().items()}
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file

        save_file(state, str(path))
    else:
        torch.save(state, path)


def test_vgg_missing_weights_names_file(tmp_path: Path) -> None:
    missing = tmp_path / VGG19_WEIGHTS_FILE
    with pytest.raises(WeightsError, match=VGG19_WEIGHTS_FILE):
        PerceptualLoss("vgg19", weights_path=missing)


@pytest.mark.parametrize("suffix", [".pth", ".safetensors"])
def test_vgg_from_file(tmp_path: Path, suffix: str, device: str) -> None:
    path = tmp_path / f"vgg{suffix}"
    _save_fake_vgg(path)
    loss = PerceptualLoss("vgg19", weights_path=path, layers=("relu1_1", "relu2_1")).to(device)
    assert loss.layer_weights == [1 / 8, 1 / 8]
    x = torch.rand(2, 3, 32, 16, device=device) * 2 - 1
    assert loss(x, x).item() == 0.0
    pred = (torch.rand(2, 3, 32, 16, device=device) * 2 - 1).requires_grad_()
    val = loss.train()(pred, x)
    assert val.item() > 0
    val.backward()
    assert pred.grad is not None
    assert all(p.grad is None and not p.requires_grad for p in loss.parameters())
    assert not loss.features.training  # stays in eval under .train()


def test_vgg_file_lacking_layers(tmp_path: Path) -> None:
    path = tmp_path / "short.pth"
    _save_fake_vgg(path, upto=3)
    with pytest.raises(WeightsError):
        PerceptualLoss("vgg19", weights_path=path, layers=("relu1_1", "relu2_1"))
    bad = tmp_path / "bad.pth"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(WeightsError):
        PerceptualLoss("vgg19", weights_path=bad, layers=("relu1_1",))


def test_reid_backend_from_module() -> None:
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 6, 3, stride=2, padding=1))
    loss = PerceptualLoss.from_module(net, ["1", "2"], layer_weights=[1.0, 0.5])
    x = torch.rand(1, 3, 16, 8) * 2 - 1
    pred = x.clone().requires_grad_()
    assert loss(pred, x).item() == 0.0
    y = (x + 0.3).requires_grad_()
    loss(y, x).backward()
    assert y.grad is not None and y.grad.abs().sum() > 0
    with pytest.raises(ConfigError):
        PerceptualLoss.from_module(net, ["no_such_node"])
    with pytest.raises(ConfigError):
        PerceptualLoss("reid")


def test_none_backend_and_config() -> None:
    loss = PerceptualLoss.from_config(PerceptualConfig(backend="none"))
    x = torch.rand(1, 3, 8, 8)
    assert loss(x, -x).item() == 0.0
    with pytest.raises(ConfigError):
        PerceptualConfig(backend="alexnet")
    with pytest.raises(ConfigError):
        PerceptualConfig(layer_weights=(1.0,))
    with pytest.raises(ConfigError):
        PerceptualLoss.from_config(PerceptualConfig(backend="reid"))

"""ReidNet shapes, BNNeck, named feature maps, configs and backbone weight loading."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file
from torchvision import models
from torchvision.models.feature_extraction import create_feature_extractor

from diaflow_core.errors import ConfigError, WeightsError
from diaflow_core.reid import FEATURE_LAYERS, ReidNet, ReidNetConfig, ReidTrainConfig


def test_train_and_eval_outputs(device: str) -> None:
    torch.manual_seed(0)
    model = ReidNet(7).to(device)
    x = torch.randn(4, 3, 128, 64, device=device)
    out = model(x)
    assert out["feature"].shape == (4, 512) and out["logits"].shape == (4, 7)
    assert not model.bnneck.bias.requires_grad
    model.eval()
    feat = model(x)
    assert feat.shape == (4, 512)
    torch.testing.assert_close(feat, model.bnneck(model.pool(model.feature_maps(x)["layer4"]).flatten(1)))


def test_last_stride_one_keeps_the_final_map_larger() -> None:
    x = torch.randn(1, 3, 128, 64)
    s1 = ReidNet(2).eval().feature_maps(x)
    s2 = ReidNet(2, ReidNetConfig(last_stride=2)).eval().feature_maps(x)
    assert s1["layer4"].shape[-2:] == (8, 4) and s2["layer4"].shape[-2:] == (4, 2)
    assert list(s1) == list(FEATURE_LAYERS)


@pytest.mark.filterwarnings("ignore:NOTE. The nodes obtained")
def test_resnet50_and_feature_extractor_names() -> None:
    model = ReidNet(3, ReidNetConfig("resnet50", (256, 128))).eval()
    extractor = create_feature_extractor(model, ["layer1", "layer4"])
    maps = extractor(torch.randn(1, 3, 256, 128))
    assert maps["layer1"].shape == (1, 256, 64, 32) and maps["layer4"].shape == (1, 2048, 16, 8)
    with pytest.raises(ValueError, match="B, 3, H, W"):
        model(torch.randn(1, 1, 64, 32))


def test_bad_configs() -> None:
    with pytest.raises(ConfigError):
        ReidNetConfig(backbone="vgg16")
    with pytest.raises(ConfigError):
        ReidNetConfig(size=(16, 8))
    with pytest.raises(ConfigError, match="did you mean 'epochs'"):
        ReidTrainConfig.from_dict({"epoch": 3})
    with pytest.raises(ConfigError):
        ReidTrainConfig(milestones=(50, 30))
    cfg = ReidTrainConfig.from_dict({"size": [256, 128], "milestones": [40, 70]})
    assert cfg.size == (256, 128) and cfg.milestones == (40, 70)
    assert cfg.lr_factor(0) == pytest.approx(0.1) and cfg.lr_factor(45) == pytest.approx(0.1)
    assert ReidTrainConfig.from_dict(cfg.to_dict()) == cfg


def test_pretrained_backbone_from_a_state_dict(tmp_path: Path) -> None:
    resnet = models.resnet18(weights=None)
    torch.nn.init.constant_(resnet.conv1.weight, 0.25)
    pth, st = tmp_path / "r18.pth", tmp_path / "r18.safetensors"
    torch.save(resnet.state_dict(), pth)
    save_file({k: v.contiguous() for k, v in resnet.state_dict().items()}, str(st))
    for path in (pth, st):
        model = ReidNet(2, ReidNetConfig(pretrained=str(path)))
        assert torch.all(model.conv1.weight == 0.25)


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
def test_pretrained_errors_name_the_file(tmp_path: Path) -> None:
    with pytest.raises(WeightsError, match="missing_r18.pth"):
        ReidNet(2, ReidNetConfig(pretrained=str(tmp_path / "missing_r18.pth")))
    pickled = tmp_path / "object.pth"
    pickled.write_bytes(pickle.dumps(ReidNetConfig()))  # an arbitrary object: weights_only refuses it
    with pytest.raises(WeightsError, match="object.pth"):
        ReidNet(2, ReidNetConfig(pretrained=str(pickled)))
    r50 = tmp_path / "r50.pth"
    torch.save(models.resnet50(weights=None).state_dict(), r50)
    with pytest.raises(WeightsError, match="does not fit"):
        ReidNet(2, ReidNetConfig(pretrained=str(r50)))

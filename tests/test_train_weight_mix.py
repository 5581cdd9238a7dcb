"""Weight arithmetic between fine-tunes of one parent (train.weight_mix)."""

from __future__ import annotations

import pytest
import torch

from diaflow_core.train.weight_mix import mix_state_dicts


def _net(seed: int) -> dict[str, torch.Tensor]:
    torch.manual_seed(seed)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    net.train()(torch.randn(2, 3, 8, 8))  # moves the running statistics and num_batches_tracked
    return {k: v.detach().clone() for k, v in net.state_dict().items()}


def test_coefficients_select_parent_model_and_sum() -> None:
    p, a, b = _net(0), _net(1), _net(2)
    only_a = mix_state_dicts(p, [a, b], [1.0, 0.0])
    none = mix_state_dicts(p, [a, b], [0.0, 0.0])
    both = mix_state_dicts(p, [a, b], [1.0, 1.0])
    half = mix_state_dicts(p, [a, b], [0.5, 0.5])
    for k, v in p.items():
        if not v.is_floating_point():
            assert torch.equal(both[k], a[k])  # integer buffers from the first model, unmixed
            continue
        assert torch.allclose(only_a[k], a[k])
        assert torch.allclose(none[k], v)
        assert torch.allclose(both[k], a[k] + b[k] - v, atol=1e-6)
        assert torch.allclose(half[k], (a[k] + b[k]) / 2, atol=1e-6)  # the uniform soup
        assert both[k].dtype == torch.float32


def test_mixed_state_loads_into_the_network() -> None:
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4))
    half = {k: v.half() if v.is_floating_point() else v for k, v in _net(1).items()}  # fp16 files mix in fp32
    net.load_state_dict(mix_state_dicts(_net(0), [half], [0.3]))


def test_mismatches_are_named() -> None:
    p, a = _net(0), _net(1)
    with pytest.raises(ValueError, match="coefficient"):
        mix_state_dicts(p, [a], [1.0, 1.0])
    with pytest.raises(KeyError, match="different tensors"):
        mix_state_dicts(p, [{k: v for k, v in a.items() if k != "0.bias"}], [1.0])
    with pytest.raises(ValueError, match="shape"):
        mix_state_dicts(p, [{**a, "0.bias": torch.zeros(5)}], [1.0])


def test_extrapolation_and_the_sidecar_record(tmp_path) -> None:
    """c > 1 goes past the fine-tune along its direction; the record names the inputs by hash."""
    from safetensors.torch import save_file

    from diaflow_core.train.weight_mix import mix_tag, soup_record
    from diaflow_core.weights import file_sha256

    p, a = _net(0), _net(1)
    two = mix_state_dicts(p, [a], [2.0])
    for k, v in p.items():
        if v.is_floating_point():
            assert torch.allclose(two[k], 2 * a[k] - v, atol=1e-6)
    assert mix_tag([2.0]) == "mix_2" and mix_tag([1.0, 0.5]) == "mix_1_0.5"
    files = []
    for name, sd in (("p", p), ("a", a)):
        files.append(tmp_path / f"{name}.safetensors")
        save_file(sd, str(files[-1]))
    rec = soup_record(files[0], [files[1]], [2])
    assert rec["coefficients"] == [2.0]
    assert rec["parent"].endswith(f"(sha256 {file_sha256(files[0])})") and file_sha256(files[0]) in rec["parent"]
    assert len(rec["models"]) == 1 and file_sha256(files[1]) in rec["models"][0]
    assert file_sha256(files[0]) != file_sha256(files[1])

"""PoseTransfer.load: the weights hash written into manifests, and the provenance reports carry."""

from __future__ import annotations

import hashlib

import pytest

from diaflow_core.infer import PoseTransfer
from diaflow_core.weights import file_sha256, find_weights


def test_shipped_weights_hash_and_provenance() -> None:
    gen = find_weights("generator", required=False)
    if gen is None:
        pytest.skip("no shipped generator weights in this checkout")
    flow = gen.with_name("flow.safetensors")
    pt = PoseTransfer.load(device="cpu", pixel_warp=False)
    # The manifests' weights_hash: sha256 over the 12-digit file digests; unchanged by the provenance record.
    expected = hashlib.sha256(f"{file_sha256(gen)}|{file_sha256(flow)}|learned".encode()).hexdigest()[:12]
    assert pt.weights_hash == expected
    prov = pt.provenance
    assert set(prov) == {"generator", "flow"}
    assert prov["generator"]["sha256"] == file_sha256(gen, 64) and prov["generator"]["file"] == str(gen)
    assert prov["generator"]["stage"] == "generator" and prov["generator"]["validation"]["pairs"] == 256
    assert "previous" not in (prov["generator"]["trained"] or {})  # the history chain stays in the sidecar
    assert prov["flow"]["mode"] == "learned" and prov["flow"]["sha256"].startswith(file_sha256(flow))
    analytic = PoseTransfer.load(device="cpu", flow="analytic", pixel_warp=False)
    assert analytic.provenance["flow"] == {"mode": "analytic"} and analytic.weights_hash != pt.weights_hash


def test_flip_average_is_mirror_symmetric_and_hashed_apart() -> None:
    import torch

    from diaflow_core.pose import flip_pose

    if find_weights("generator", required=False) is None:
        pytest.skip("no shipped generator weights in this checkout")
    plain = PoseTransfer.load(device="cpu", pixel_warp=False, precision="fp32")
    avg = PoseTransfer.load(device="cpu", pixel_warp=False, precision="fp32", flip_average=True)
    assert avg.weights_hash != plain.weights_hash  # its samples differ, so must the manifests' hash
    g = torch.Generator().manual_seed(0)
    src = torch.rand(2, 3, 128, 64, generator=g) * 2 - 1
    base = torch.tensor([[32, 20], [32, 34], [22, 34], [20, 52], [19, 70], [42, 34], [44, 52], [45, 70], [26, 72],
                         [26, 96], [26, 120], [38, 72], [38, 96], [38, 120], [30, 17], [34, 17], [28, 19], [36, 19]],
                        dtype=torch.float32)  # fmt: skip
    src_kp = base.expand(2, 18, 2) + torch.randn(2, 18, 2, generator=g)
    tgt_kp = base.expand(2, 18, 2) + torch.randn(2, 18, 2, generator=g) * 3
    one, mirrored = (
        plain.transfer(src, src_kp, tgt_kp),
        plain.transfer(src.flip(-1), flip_pose(src_kp, 64), flip_pose(tgt_kp, 64)),
    )
    assert (one - mirrored.flip(-1)).abs().mean() > 1e-3  # the generator alone is not mirror-equivariant
    out = avg.transfer(src, src_kp, tgt_kp)
    assert torch.allclose(out, ((one + mirrored.flip(-1)) / 2).clamp(-1, 1), atol=1e-5)
    out_m = avg.transfer(src.flip(-1), flip_pose(src_kp, 64), flip_pose(tgt_kp, 64))
    assert torch.allclose(out_m.flip(-1), out, atol=1e-5)  # averaged: exactly equivariant

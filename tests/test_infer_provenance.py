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

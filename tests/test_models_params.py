"""Parameter counts of the reference configs: a refactor that changes an architecture fails here.

Measured (Market 128x64 reference configs): flow regressor 4,929,547 (official 4.9 M), dual-path
generator 7,735,427 (official 7.3 M: the official code shares one down-sampling conv between its
two encoders, ours does not), pixel warper 5,043,329 (official 5.0 M), PatchGAN 2,787,137.
Bands: within 0.5 % of the measured counts, and within 10 % of the official figures.
"""

from __future__ import annotations

import pytest
import torch.nn as nn

from diaflow_core.models import (
    FlowRegressor,
    GeneratorConfig,
    PatchDiscriminator,
    PixelWarper,
    build_generator,
    count_parameters,
)

CASES = {
    "flow": (FlowRegressor, 4_929_547, 4.9e6),
    "generator": (lambda: build_generator(GeneratorConfig()), 7_735_427, 7.3e6),
    "pixel_warp": (PixelWarper, 5_043_329, 5.0e6),
    "discriminator": (PatchDiscriminator, 2_787_137, None),
}


@pytest.mark.parametrize("name", list(CASES))
def test_reference_param_counts(name: str) -> None:
    make, measured, official = CASES[name]
    net: nn.Module = make()
    n = count_parameters(net)
    assert abs(n - measured) <= 0.005 * measured, f"{name}: {n:,} params, recorded {measured:,}"
    if official is not None:
        assert abs(n - official) <= 0.10 * official


def test_ablations_are_smaller() -> None:
    full = count_parameters(build_generator(GeneratorConfig()))
    no_vis = count_parameters(build_generator(GeneratorConfig(vis_mode="none")))
    no_flow = count_parameters(build_generator(GeneratorConfig(use_flow=False)))
    single = count_parameters(build_generator(GeneratorConfig(dual_encoder=False)))
    assert no_vis == no_flow < full  # "none" adds no parameters to warping
    assert single < no_flow

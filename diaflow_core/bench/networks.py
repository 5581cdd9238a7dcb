"""Network benchmarks: flow regressor and PoseTransfer inference, one generator training step, FLOPs/params.

Variants: "eager" = fp32, contiguous (NCHW) weights and inputs, no compilation (the baseline);
"channels_last" = the same modules and image inputs converted to NHWC; "bf16" = eager under bf16 autocast
(``diaflow_core.precision``: fast on CUDA and on CPUs with AMX or AVX512-BF16, emulated and slow on other CPUs);
"compile" = ``nn.Module.compile()`` (TorchInductor) on the contiguous modules, timed after its first call,
which compiles. A compile that fails becomes a skipped row with the reason.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import torch
from torch.utils.flop_counter import FlopCounterMode

from ..errors import DiaflowError
from ..losses import d_loss, g_loss
from ..models.blocks import count_parameters
from ..models.discriminator import DiscriminatorConfig, PatchDiscriminator
from ..models.flow_net import FlowRegressor, FlowRegressorConfig
from ..models.generator import GeneratorConfig, build_generator
from ..models.pixel_warp import PixelWarper, PixelWarperConfig
from ..pose import pose_heatmaps_torch
from ..precision import autocast
from ..proxy3d import compute_flow_batch
from .core import BenchResult, BenchSettings, measure, rate_rows, skipped_row, synchronizer
from .proxy import SIZE, load_poses

__all__ = ["DESIGN_GFLOP_PER_IMAGE", "bench_flops", "bench_flow", "bench_generator", "bench_train", "count_flops"]

DESIGN_GFLOP_PER_IMAGE = 12.8  # DESIGN.md section 6: the official Market flow + generator + pixel-warp networks
_RADIUS = 4.0
_CL = torch.channels_last


def _poses(s: BenchSettings, n: int) -> tuple[torch.Tensor, torch.Tensor]:
    arr, _ = load_poses(2 * n, s.market_root, seed=1)
    kp = torch.as_tensor(arr)
    if len(kp) < 2 * n:  # fewer annotations than asked: repeat them
        kp = kp.repeat((2 * n + len(kp) - 1) // len(kp), 1, 1)
    return kp[:n].contiguous(), kp[n : 2 * n].contiguous()


def _images(n: int, device: torch.device, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return (torch.rand(n, 3, *SIZE, generator=g) * 2 - 1).to(device)


def _reason(exc: BaseException) -> str:
    lines = [ln for ln in str(exc).strip().splitlines() if ln.strip()]
    return f"{type(exc).__name__}: {lines[0][:200] if lines else ''}".rstrip(": ")


def _one_thread(fn: Callable[[], int]) -> Callable[[], int]:
    """``fn`` run with one torch thread (restored after): on a shared CPU, more threads than free cores make
    OpenMP workers wait on each other, and one thread can beat two."""

    def wrapped() -> int:
        n = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            return fn()
        finally:
            torch.set_num_threads(n)

    return wrapped


def _try_compile(first_call: Callable[[], Any]) -> str | None:
    """Run the first (compiling) call; the failure reason, or None when it compiled and ran."""
    try:
        first_call()
    except Exception as exc:  # noqa: BLE001 - any backend failure means "skip with the reason"
        return _reason(exc)
    return None


def _load_flow_model(device: torch.device) -> tuple[FlowRegressor, str]:
    from ..train.flow_source import load_flow_regressor

    try:
        return load_flow_regressor(None, device), "shipped weights"
    except DiaflowError as exc:  # no shipped weights: the reference shape, random weights (same cost)
        model = FlowRegressor(FlowRegressorConfig()).to(device).eval().requires_grad_(False)
        return model, f"random init ({exc})"


def bench_flow(s: BenchSettings, device: torch.device) -> list[BenchResult]:
    """Flow regressor inference, ``model.infer(p1, p2)`` on heatmaps of real poses: images per second."""
    model, source = _load_flow_model(device)
    src_kp, tgt_kp = _poses(s, s.batch)
    p1 = pose_heatmaps_torch(src_kp.to(device), SIZE, _RADIUS)
    p2 = pose_heatmaps_torch(tgt_kp.to(device), SIZE, _RADIUS)
    b = s.batch

    def call(m: FlowRegressor, a: torch.Tensor, c: torch.Tensor, precision: str = "fp32") -> Callable[[], int]:
        def fn() -> int:
            with torch.no_grad(), autocast(device, precision):
                m.infer(a, c)
            return b

        return fn

    fns = {"eager": call(model, p1, p2), "bf16": call(model, p1, p2, "bf16")}
    cl = copy.deepcopy(model).to(memory_format=_CL)
    fns["channels_last"] = call(cl, p1.contiguous(memory_format=_CL), p2.contiguous(memory_format=_CL))
    settings: dict[str, Any] = {"batch": b, "size": list(SIZE), "weights": source, "device": str(device)}
    skipped: list[BenchResult] = []
    if s.compile:
        comp = copy.deepcopy(model)
        comp.compile()
        fn = call(comp, p1, p2)
        reason = _try_compile(fn)
        if reason is None:
            fns["compile"] = fn
        else:
            skipped.append(skipped_row("flow", "compile", "img/s", reason, settings))
    timings = measure(fns, s.repeats, s.warmup, synchronizer(device))
    rates = {k: [t.rate() for t in v] for k, v in timings.items()}
    return rate_rows("flow", "img/s", rates, "eager", settings) + skipped


def bench_generator(s: BenchSettings, device: torch.device) -> list[BenchResult]:
    """PoseTransfer end to end with the shipped weights (heatmaps, learned flow, generator, pixel warp when
    shipped, clamp, copy to CPU): images per second. On a CPU with more than one torch thread, also the eager
    pipeline with one thread ("eager_1thread"), as a check for thread oversubscription on a shared machine."""
    from ..infer import PoseTransfer

    unit = "img/s"
    try:
        base = PoseTransfer.load(device=device, precision="fp32")
    except (DiaflowError, OSError) as exc:
        return [skipped_row("generator", "eager", unit, f"shipped weights unavailable: {exc}", {})]
    src_kp, tgt_kp = _poses(s, s.batch)
    src = _images(s.batch, torch.device("cpu"))
    b = s.batch
    settings: dict[str, Any] = {
        "batch": b,
        "size": list(SIZE),
        "device": str(device),
        "pixel_warp": base.pixel_warp is not None,
        "weights": base.weights_hash,
    }

    def modules(pt: PoseTransfer) -> list[torch.nn.Module]:
        return [m for m in (pt.generator, pt.flow.model, pt.pixel_warp) if m is not None]

    def call(pt: PoseTransfer, x: torch.Tensor) -> Callable[[], int]:
        def fn() -> int:
            pt.transfer(x, src_kp, tgt_kp)
            return b

        return fn

    fns = {"eager": call(base, src), "bf16": call(PoseTransfer.load(device=device, precision="bf16"), src)}
    cl = PoseTransfer.load(device=device, precision="fp32")
    for m in modules(cl):
        m.to(memory_format=_CL)
    fns["channels_last"] = call(cl, src.contiguous(memory_format=_CL))
    skipped: list[BenchResult] = []
    if s.compile:
        comp = PoseTransfer.load(device=device, precision="fp32")
        for m in modules(comp):
            m.compile()
        fn = call(comp, src)
        reason = _try_compile(fn)
        if reason is None:
            fns["compile"] = fn
        else:
            skipped.append(skipped_row("generator", "compile", unit, reason, settings))
    notes = {}
    if device.type == "cpu" and torch.get_num_threads() > 1:
        fns["eager_1thread"] = _one_thread(call(base, src))
        notes["eager_1thread"] = "eager with 1 torch thread"
    timings = measure(fns, s.repeats, s.warmup, synchronizer(device))
    rates = {k: [t.rate() for t in v] for k, v in timings.items()}
    return rate_rows("generator", unit, rates, "eager", settings, notes=notes) + skipped


def _train_step_fn(
    gen: torch.nn.Module,
    disc: torch.nn.Module,
    batch: dict[str, torch.Tensor],
    gan_weight: float = 0.01,
    precision: str = "fp32",
) -> Callable[[], int]:
    """One step as ``train.generator.train_generator`` runs it with the GAN on and no perceptual loss: a D phase
    (real and detached fake), then a G phase (L1 + vanilla GAN); Adam as the Market recipe; networks under
    autocast for bf16, losses in fp32 as in the trainer."""
    opt_g = torch.optim.Adam(gen.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_d = torch.optim.Adam(disc.parameters(), lr=2e-5, betas=(0.5, 0.999))
    x1, p2, tgt, flow, vis = (batch[k] for k in ("src", "p2", "tgt", "flow", "vis"))

    dev = x1.device

    def step() -> int:
        with autocast(dev, precision):
            fake = gen(x1, p2, flow, vis)
            real_logits, fake_logits = disc(x1, p2, tgt), disc(x1, p2, fake.detach())
        loss_d = d_loss(real_logits.float(), fake_logits.float(), "vanilla")
        opt_d.zero_grad(set_to_none=True)
        loss_d.backward()
        opt_d.step()
        with autocast(dev, precision):
            gan_logits = disc(x1, p2, fake)
        loss = (fake.float() - tgt).abs().mean() + gan_weight * g_loss(gan_logits.float(), "vanilla")
        opt_g.zero_grad(set_to_none=True)
        loss.backward()
        opt_g.step()
        return x1.shape[0]

    return step


def bench_train(s: BenchSettings, device: torch.device) -> list[BenchResult]:
    """One generator training step (G + D, reference shapes, flow from the proxy body): images per second."""
    b = s.train_batch
    src_kp, tgt_kp = _poses(s, b)
    flow, vis = compute_flow_batch(src_kp.numpy(), tgt_kp.numpy(), size=SIZE)
    batch = {
        "src": _images(b, device, 0),
        "tgt": _images(b, device, 1),
        "p2": pose_heatmaps_torch(tgt_kp.to(device), SIZE, _RADIUS),
        "flow": torch.as_tensor(flow, dtype=torch.float32, device=device),
        "vis": torch.as_tensor(vis, device=device).long(),
    }
    torch.manual_seed(0)
    gen = build_generator(GeneratorConfig()).to(device).train()
    disc = PatchDiscriminator(DiscriminatorConfig()).to(device).train()
    fns = {"fp32": _train_step_fn(gen, disc, batch)}
    cl_batch = {k: (v.contiguous(memory_format=_CL) if v.dim() == 4 else v) for k, v in batch.items()}
    fns["channels_last"] = _train_step_fn(
        copy.deepcopy(gen).to(memory_format=_CL), copy.deepcopy(disc).to(memory_format=_CL), cl_batch
    )
    fns["bf16"] = _train_step_fn(copy.deepcopy(gen), copy.deepcopy(disc), batch, precision="bf16")
    settings = {"batch": b, "size": list(SIZE), "device": str(device), "losses": "L1 + 0.01 GAN, D phase"}
    timings = measure(fns, s.repeats, s.warmup, synchronizer(device))
    rates = {k: [t.rate() for t in v] for k, v in timings.items()}
    return rate_rows("train", "img/s", rates, "fp32", settings)


def count_flops(fn: Callable[[], Any]) -> int:
    """FLOPs of one call as ``torch.utils.flop_counter`` counts them (2 per multiply-add of convolutions and
    matrix products; elementwise ops, norms and grid_sample are not counted)."""
    with torch.no_grad(), FlopCounterMode(display=False) as counter:
        fn()
    return int(counter.get_total_flops())


def _reference_configs() -> tuple[FlowRegressorConfig, GeneratorConfig, PixelWarperConfig, str]:
    """The shipped networks' shapes (from the weight sidecars) when present, else the reference defaults."""
    from ..config import from_dict
    from ..weights import find_weights, read_meta

    cfgs: list[Any] = []
    where = []
    for name, cls in (("flow", FlowRegressorConfig), ("generator", GeneratorConfig), ("pixel_warp", PixelWarperConfig)):
        path = find_weights(name, required=False)
        meta = read_meta(path) if path is not None else {}
        if "model" in meta:
            cfgs.append(from_dict(cls, meta["model"], where=str(path)))
            where.append(f"{name}: shipped")
        else:
            cfgs.append(cls())
            where.append(f"{name}: reference default")
    return cfgs[0], cfgs[1], cfgs[2], ", ".join(where)


def bench_flops(s: BenchSettings, device: torch.device) -> list[BenchResult]:
    """Parameters (millions) and GFLOP per 128x64 image of the three inference networks, on the CPU."""
    flow_cfg, gen_cfg, pw_cfg, shapes = _reference_configs()
    cpu = torch.device("cpu")
    nets = {
        "flow_regressor": FlowRegressor(flow_cfg).eval(),
        "generator": build_generator(gen_cfg).eval(),
        "pixel_warp": PixelWarper(pw_cfg).eval(),
    }
    p = pose_heatmaps_torch(torch.as_tensor(load_poses(1, s.market_root)[0]), SIZE, _RADIUS)
    x = _images(1, cpu)
    flow = torch.zeros(1, 2, *SIZE)
    vis = torch.zeros(1, *SIZE, dtype=torch.long)
    calls: dict[str, Callable[[], Any]] = {
        "flow_regressor": lambda: nets["flow_regressor"](p, p),
        "generator": lambda: nets["generator"](x, p, flow, vis),
        "pixel_warp": lambda: nets["pixel_warp"](x, x, flow, vis),
    }
    settings = {"batch": 1, "size": list(SIZE), "shapes": shapes, "counter": "torch.utils.flop_counter"}
    rows: list[BenchResult] = []
    total_flops, total_params = 0.0, 0.0
    for name, net in nets.items():
        params = count_parameters(net) / 1e6
        gflops = count_flops(calls[name]) / 1e9
        total_flops, total_params = total_flops + gflops, total_params + params
        rows.append(BenchResult("flops", f"params/{name}", "M params", params, settings=settings))
        rows.append(BenchResult("flops", f"flops/{name}", "GFLOP/img", gflops, settings=settings))
    rows.append(BenchResult("flops", "params/total", "M params", total_params, settings=settings))
    rows.append(
        BenchResult(
            "flops",
            "flops/total",
            "GFLOP/img",
            total_flops,
            settings=settings,
            extra={"design_gflop_per_image": DESIGN_GFLOP_PER_IMAGE},
            note=f"DESIGN.md s6: {DESIGN_GFLOP_PER_IMAGE}",
        )
    )
    return rows

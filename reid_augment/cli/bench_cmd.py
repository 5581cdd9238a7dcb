"""``reid-augment bench``: throughput ratios against a baseline measured in the same run, and model cost."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console(stderr=True)


def _fmt(x: float | None) -> str:
    if x is None:
        return "-"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}" if abs(x) < 10 else f"{x:.1f}"


def bench(
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="Run only this case (repeatable): proxy, flow, generator, train, flow_train, reid, data, flops.",
        ),
    ] = None,
    device: Annotated[str, typer.Option(help="cpu, cuda, cuda:N or auto.")] = "auto",
    threads: Annotated[int | None, typer.Option(help="torch intra-op threads for the run (default: torch's).")] = None,
    repeats: Annotated[int, typer.Option(help="Timed repeats per variant; the median is reported.")] = 5,
    warmup: Annotated[int, typer.Option(help="Untimed calls per variant before timing.")] = 1,
    compile_: Annotated[
        bool, typer.Option("--compile/--no-compile", help="Also time torch.compile variants (minutes to compile).")
    ] = False,
    quick: Annotated[bool, typer.Option(help="Smoke run: tiny batches, 1 repeat, no warm-up.")] = False,
    flow_train_batch: Annotated[
        int, typer.Option(help="Pairs per flow_train step (16: the CPU recipe's; 64: the GPU script's).")
    ] = 16,
    train_batch: Annotated[
        int,
        typer.Option(
            help="Images per generator training step, case train (8: the CPU recipe's; 32: the GPU script's)."
        ),
    ] = 8,
    data: Annotated[
        Path | None, typer.Option(help="Market-1501 root for the data case (default: $DIAFLOW_MARKET, ../shared/...).")
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write settings, environment and rows here.")] = None,
) -> None:
    """Benchmarks: each timed row is the median over the repeats and its ratio to the case's baseline row."""
    from diaflow_core.bench import BenchSettings, bench_report, run_benchmarks, write_bench_json

    settings = BenchSettings(
        device=device,
        threads=threads,
        repeats=repeats,
        warmup=warmup,
        compile=compile_,
        quick=quick,
        flow_train_batch=flow_train_batch,
        train_batch=train_batch,
        market_root=str(data) if data is not None else None,
    )
    with console.status("benchmarking") as status:
        rows, env = run_benchmarks(settings, only or (), progress=lambda name: status.update(f"benchmark: {name}"))
    title = f"{env['device']} · {env['cpu']} · {env['torch_threads']} threads · torch {env['torch']}"
    table = Table(title=title)
    table.add_column("case", no_wrap=True)
    table.add_column("value", justify="right", no_wrap=True)
    table.add_column("unit", no_wrap=True)
    table.add_column("baseline", no_wrap=True)
    table.add_column("ratio", justify="right")
    table.add_column("note")
    for r in rows:
        if r.skipped is not None:
            table.add_row(r.name, "skipped", r.unit, r.baseline or "", "-", f"[yellow]{r.skipped}[/]")
            continue
        baseline = "(baseline)" if r.baseline == r.name else r.baseline or ""
        ratio = f"{r.ratio:.2f}x" if r.ratio is not None else "-"
        table.add_row(r.name, _fmt(r.value), r.unit, baseline, ratio, r.note)
    Console().print(table)
    if json_out is not None:
        console.print(f"report: {write_bench_json(json_out, bench_report(rows, settings, env))}")

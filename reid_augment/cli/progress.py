"""A rich progress bar fed by the library's training callbacks (the library itself never prints)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

console = Console()

_SHOWN = ("loss", "l1", "epe", "vis_ce", "d", "g_gan", "pairs_per_s", "img_per_s")


@contextmanager
def training_progress(title: str) -> Iterator[Callable[[dict[str, Any]], None]]:
    progress = Progress(
        TextColumn(f"[bold]{title}[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[info]}"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
    )
    task = progress.add_task(title, total=None, info="")

    def update(rec: dict[str, Any]) -> None:
        if "val" in rec:
            vals = ", ".join(f"{k}={v:.4f}" for k, v in rec["val"].items() if isinstance(v, float))
            progress.console.print(f"epoch {rec['epoch'] + 1} validation: {vals}")
            return
        info = " ".join(f"{k}={rec[k]:.3g}" for k in _SHOWN if k in rec)
        progress.update(task, completed=rec["step"], total=rec.get("total_steps"), info=info)

    with progress:
        yield update

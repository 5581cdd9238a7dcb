"""Rich rendering of the augment pipeline's events: bars with rate and ETA, skip notes, the summary."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from reid_augment.augment import AugmentEvent, AugmentSummary

__all__ = ["augment_progress", "summary_table"]

_LABELS = {"originals": "carry originals", "generate": "generate"}
_MAX_SKIP_LINES = 10


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:.1f}/s", style="progress.data.speed")


@contextmanager
def augment_progress(console: Console) -> Iterator[Callable[[AugmentEvent], None]]:
    """An ``on_event`` callback drawing one bar per stage; the first skips are printed, the rest counted."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        _RateColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        console=console,
    )
    tasks: dict[str, int] = {}
    skips = 0

    def on_event(event: AugmentEvent) -> None:
        nonlocal skips
        if event.kind == "start":
            tasks[event.stage] = progress.add_task(_LABELS.get(event.stage, event.stage), total=event.total)
        elif event.kind == "advance" and event.stage in tasks:
            progress.advance(tasks[event.stage], event.advance)
        elif event.kind == "skip":
            skips += 1
            if skips <= _MAX_SKIP_LINES:
                progress.console.print(f"[yellow]skip[/] {event.path}: {event.reason}")
            elif skips == _MAX_SKIP_LINES + 1:
                progress.console.print("[yellow]more skips: counted in the summary[/]")

    with progress:
        yield on_event


def summary_table(s: AugmentSummary) -> Table:
    table = Table(title="reid-augment", show_header=False, box=None)
    table.add_row("images in", str(s.images_in))
    table.add_row("generated", f"{s.generated} ({s.rate:.1f} images/s, {s.seconds:.1f} s)")
    if s.done_before:
        table.add_row("already done (manifest)", str(s.done_before))
    if s.recovered:
        table.add_row("found on disk, kept (row added)", str(s.recovered))
    table.add_row("originals carried / already there", f"{s.originals_carried} / {s.originals_present}")
    for reason, n in s.skipped.most_common():
        table.add_row(f"skipped: {reason}", str(n))
    table.add_row("output", str(s.out))
    table.add_row("manifest", str(s.manifest))
    if s.preview is not None:
        table.add_row("preview", str(s.preview))
    return table

"""Progress of a batch, reported by the parent process only: a rich progress bar on a terminal,
plain log lines otherwise (or nothing), and the summary table at the end."""

from __future__ import annotations

import logging
import sys
import time
from typing import TYPE_CHECKING, Literal, Protocol, TextIO

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from pipeline.batch.task import FileResult

if TYPE_CHECKING:
    from pipeline.batch.run import BatchSummary

__all__ = ["LogReporter", "NullReporter", "Reporter", "RichReporter", "make_reporter", "print_summary"]

log = logging.getLogger("pipeline.batch")

ProgressKind = Literal["auto", "rich", "log", "none"]


class Reporter(Protocol):
    def start(self, total: int, skipped: int) -> None: ...
    def update(self, result: FileResult) -> None: ...
    def note(self, message: str) -> None: ...
    def close(self) -> None: ...


class NullReporter:
    def start(self, total: int, skipped: int) -> None:
        pass

    def update(self, result: FileResult) -> None:
        pass

    def note(self, message: str) -> None:
        pass

    def close(self) -> None:
        pass


class _Counts:
    def __init__(self) -> None:
        self.total = self.done = self.pages = self.failed = 0
        self.started = time.perf_counter()

    def add(self, result: FileResult) -> None:
        self.done += 1
        self.pages += result.pages
        self.failed += not result.ok

    @property
    def pages_per_minute(self) -> float:
        return 60 * self.pages / max(time.perf_counter() - self.started, 1e-9)

    @property
    def eta(self) -> str:
        if not self.done or self.done >= self.total:
            return "?" if not self.done else "0 s"
        seconds = (time.perf_counter() - self.started) / self.done * (self.total - self.done)
        return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


class LogReporter:
    """One log line per file, for logs and non-terminal stderr."""

    def __init__(self) -> None:
        self.counts = _Counts()

    def start(self, total: int, skipped: int) -> None:
        self.counts = _Counts()
        self.counts.total = total
        log.info("%d file(s) to convert, %d already done and unchanged", total, skipped)

    def update(self, result: FileResult) -> None:
        c = self.counts
        c.add(result)
        where = f"[{c.done}/{c.total}]"
        if result.ok:
            log.info(
                "%s ok      %s (%d pages, %.1f s) · %.1f pages/min · ETA %s",
                where, result.item.path, result.pages, result.seconds, c.pages_per_minute, c.eta,
            )  # fmt: skip
        else:
            assert result.error is not None
            log.error("%s FAILED  %s", where, result.error["message"])

    def note(self, message: str) -> None:
        log.warning("%s", message)

    def close(self) -> None:
        pass


class RichReporter:
    """A progress bar on stderr: files and pages done, throughput, failures, ETA."""

    def __init__(self, console: Console | None = None) -> None:
        self.counts = _Counts()
        self.progress = Progress(
            TextColumn("[bold]converting"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("files · {task.fields[pages]} pages · {task.fields[rate]} pages/min ·"),
            TextColumn("[red]{task.fields[failed]} failed"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console or Console(stderr=True),
        )
        self.task = self.progress.add_task("convert", total=None, pages=0, rate="-", failed=0)

    def start(self, total: int, skipped: int) -> None:
        self.counts = _Counts()
        self.counts.total = total
        self.progress.start()
        self.progress.update(self.task, total=total)
        if skipped:
            self.progress.console.print(f"{skipped} file(s) already done and unchanged: skipped")

    def update(self, result: FileResult) -> None:
        self.counts.add(result)
        if not result.ok:
            assert result.error is not None
            self.progress.console.print(f"[red]FAILED[/red] {escape(str(result.error['message']))}")
        rate = f"{self.counts.pages_per_minute:.1f}"
        self.progress.update(self.task, advance=1, pages=self.counts.pages, rate=rate, failed=self.counts.failed)

    def note(self, message: str) -> None:
        self.progress.console.print(f"[yellow]{escape(message)}[/yellow]")

    def close(self) -> None:
        self.progress.stop()


def make_reporter(kind: ProgressKind = "auto") -> Reporter:
    """auto: the bar when stderr is a terminal, log lines otherwise."""
    if kind == "auto":
        kind = "rich" if sys.stderr.isatty() else "log"
    return {"rich": RichReporter, "log": LogReporter, "none": NullReporter}[kind]()


def print_summary(summary: BatchSummary, file: TextIO | None = None) -> None:
    """One line (stable, for scripts) and a table: converted, skipped, failed by kind, time;
    then why the run stopped and where the errors are (to stderr, unless `file` is given)."""
    notes = file or sys.stderr
    file = file or sys.stdout
    failures = ", ".join(f"{kind} {n}" for kind, n in summary.failures_by_kind.most_common())
    print(
        f"converted {summary.converted} file(s), {summary.pages} page(s), failed {summary.failed}"
        f"{f' ({failures})' if failures else ''}, skipped {summary.skipped} already done"
        f" in {summary.seconds:.1f} s → {summary.out_dir}",
        file=file,
    )
    console = Console(file=file, highlight=False)
    table = Table(box=box.SIMPLE if console.is_terminal else box.ASCII, show_header=True)
    table.add_column("files")
    table.add_column("count", justify="right")
    table.add_row("converted", f"{summary.converted} ({summary.pages} pages)")
    table.add_row("skipped (done, unchanged)", str(summary.skipped))
    if summary.replanned:
        table.add_row("plan rebuilt from the stored text (segmenter or lexicon upgraded)", str(summary.replanned))
    for kind, n in summary.failures_by_kind.most_common():
        table.add_row(f"failed: {kind}", str(n))
    if summary.failed_before:
        table.add_row("failed earlier, not retried (--retry-failed)", str(summary.failed_before))
    rate = 60 * summary.pages / summary.seconds if summary.seconds else 0.0
    table.add_row("time", f"{summary.seconds:.1f} s ({rate:.1f} pages/min)")
    console.print(table)
    if summary.stopped:
        print(f"stopped early: {summary.stopped}", file=notes)
    if summary.failed or summary.failed_before:
        print(f"errors: {summary.out_dir / 'errors.jsonl'}", file=notes)

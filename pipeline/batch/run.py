"""`convert_many`: walk the inputs, skip what the manifest says is done, convert the rest in
parallel, record each file as it finishes, and write errors.jsonl and documents.jsonl."""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from pipeline.batch.manifest import Manifest, OutputLock, Row
from pipeline.batch.progress import ProgressKind, Reporter, make_reporter
from pipeline.batch.recover import rebuild_rows
from pipeline.batch.runners import Task, run_inline, run_pool
from pipeline.batch.task import STATE_DIR, FileResult, convert_one, resegment_one, staging_folder
from pipeline.batch.walk import WorkItem, check_output_folder, find_inputs
from pipeline.errors import ExitCode, OutputConflictError
from pipeline.files import atomic_write_chunks, staging
from pipeline.fingerprint import fingerprints, split_key
from pipeline.ingest import IMAGE_SUFFIXES, PDF_SUFFIXES, sha256_of
from pipeline.options import Options

__all__ = ["BatchOptions", "BatchSummary", "convert_many"]

log = logging.getLogger(__name__)


class BatchOptions(BaseModel):
    """How a batch runs (not what it produces: that is Options)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    jobs: int | None = Field(
        None, ge=0, description="Worker processes (default: one per core); 0 converts in this process."
    )
    dask: str | None = Field(None, description="A Dask scheduler address (tcp://host:8786), or 'local'.")
    force: bool = Field(False, description="Convert every file again, done or not.")
    retry_failed: bool = Field(False, description="Convert files that failed in an earlier run again.")
    progress: ProgressKind = Field("auto", description="rich bar on a terminal, log lines otherwise, or none.")

    @property
    def workers(self) -> int:
        if self.jobs is not None:
            return self.jobs
        # The cores this process may use (a container or taskset may allow fewer than the machine has).
        return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


@dataclass
class BatchSummary:
    out_dir: Path
    found: int = 0  # input files found
    converted: int = 0
    skipped: int = 0  # done in an earlier run and unchanged
    replanned: int = 0  # text current, plan rebuilt from it after a segmenter or lexicon upgrade
    failed: int = 0  # failed in this run
    failed_before: int = 0  # failed in an earlier run and not retried (see --retry-failed)
    pages: int = 0
    seconds: float = 0.0
    failures_by_kind: Counter[str] = field(default_factory=Counter)
    stopped: str | None = None  # why the run stopped before the end (the disk is full)

    @property
    def exit_code(self) -> ExitCode:
        if self.stopped:
            return ExitCode.export_error
        return ExitCode.some_files_failed if self.failed or self.failed_before else ExitCode.ok


@dataclass
class _Plan:
    todo: list[WorkItem] = field(default_factory=list)
    replan: list[tuple[WorkItem, Row]] = field(default_factory=list)  # text current, plan stale
    rejected: list[FileResult] = field(default_factory=list)  # failed before any work (duplicates)
    restat: list[tuple[int, int, str]] = field(default_factory=list)


def _unchanged(row: Row, item: WorkItem, restat: list[tuple[int, int, str]]) -> bool:
    """Same content as when the row was made: same size and mtime, or else the same sha256."""
    try:
        stat = item.path.stat()
    except OSError:
        return row.size is None  # unreadable then, unreadable now
    if (row.size, row.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
        return True
    try:
        same = row.sha256 is not None and sha256_of(item.path) == row.sha256
    except OSError:
        return False
    if same:
        restat.append((stat.st_size, stat.st_mtime_ns, row.relative))
    return same


def _plan(items: list[WorkItem], rows: dict[str, Row], version: str, options: Options, batch: BatchOptions,
          out_dir: Path, summary: BatchSummary) -> _Plan:  # fmt: skip
    plan = _Plan()
    owners: dict[Path, WorkItem] = {}
    for item in items:
        if (owner := owners.setdefault(item.relative, item)) is not item:
            error = OutputConflictError(f"its outputs would overwrite those of {owner.path}", path=item.path)
            plan.rejected.append(FileResult(item, False, error=error.to_record()))
            continue
        row = rows.get(str(item.relative))
        if batch.force or row is None or not _unchanged(row, item, plan.restat):
            plan.todo.append(item)
        elif row.status == "done" and split_key(row.version)[0] == split_key(version)[0]:
            complete = set(options.formats) <= set(row.formats) and all((out_dir / o).exists() for o in row.outputs)
            if not complete:
                plan.todo.append(item)
            elif row.version != version:
                plan.replan.append((item, row))
            else:
                summary.skipped += 1
        elif row.version != version:
            plan.todo.append(item)
        elif batch.retry_failed:
            plan.todo.append(item)
        else:
            summary.failed_before += 1
    return plan


def _longest_first(items: list[WorkItem]) -> list[WorkItem]:
    """Likely-long files first (PDFs and TIFFs, which hold many pages, then images, then text;
    bigger before smaller), so that no worker idles at the end while another still reads a
    300-page PDF. The run files keep the walk order whatever the order of work."""

    def cost(item: WorkItem) -> tuple[int, int]:
        suffix = item.path.suffix.lower()
        rank = (
            0 if suffix in PDF_SUFFIXES else 1 if suffix in (".tif", ".tiff") else 2 if suffix in IMAGE_SUFFIXES else 3
        )
        try:
            size = item.path.stat().st_size
        except OSError:
            size = 0
        return rank, -size

    return sorted(items, key=cost)


def _sweep_stale_temps(out_dir: Path) -> None:
    """Temp files of atomic writes killed mid-way (kill -9, power cut) are never outputs. Only
    the staging folder is swept: nothing else under OUT is gazette's to delete."""
    folder = staging_folder(out_dir)
    if folder.is_dir():
        for path in folder.iterdir():
            path.unlink(missing_ok=True)


def _write_run_files(
    out_dir: Path, items: list[WorkItem], manifest: Manifest, extra_errors: list[FileResult], options: Options
) -> None:
    """errors.jsonl and documents.jsonl describe every current input, this run's or earlier."""
    rows = manifest.rows()
    current = [rows.get(str(item.relative)) for item in items]
    errors = [row.error for row in current if row and row.status == "failed" and row.error]
    errors += [result.error for result in extra_errors if result.error]

    def error_lines() -> Iterator[bytes]:
        for record in errors:
            yield (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8")

    atomic_write_chunks(out_dir / "errors.jsonl", error_lines())
    if "jsonl" not in options.formats:
        return

    def document_lines() -> Iterator[bytes]:
        for row in current:
            if row is None or row.status != "done":
                continue
            for output in row.outputs:
                if output.endswith(".jsonl"):
                    try:
                        yield (out_dir / output).read_bytes()
                    except OSError as exc:
                        log.warning("%s: cannot read %s (%s); its line is missing", row.relative, output, exc)

    # Streamed: documents.jsonl of a big archive does not fit in memory.
    atomic_write_chunks(out_dir / "documents.jsonl", document_lines())


class _Recorder:
    """The parent's side of every finished file: its manifest row, the summary, the progress
    report and the caller's callback. Returns False when the batch must stop (disk full)."""

    def __init__(self, manifest: Manifest, version: str, options: Options, summary: BatchSummary,
                 reporter: Reporter, on_result: Callable[[FileResult], None] | None) -> None:  # fmt: skip
        self.manifest, self.version, self.formats = manifest, version, options.formats
        self.summary, self.reporter, self.on_result = summary, reporter, on_result
        # Failures that are not the file's own (duplicates, a full disk) stay out of the
        # manifest, so the next run tries those files again by itself.
        self.unrecorded: list[FileResult] = []

    def __call__(self, result: FileResult, record: bool = True) -> bool:
        summary = self.summary
        if result.fatal:
            summary.stopped = str(result.error["message"]) if result.error else "stopped"
        if record and not result.fatal:
            self.manifest.record(result, self.version, self.formats)
        else:
            self.unrecorded.append(result)
        if result.ok:
            summary.converted += 1
            summary.pages += result.pages
        else:
            summary.failed += 1
            summary.failures_by_kind[str(result.error["error"]) if result.error else "?"] += 1
        self.reporter.update(result)
        if self.on_result:
            self.on_result(result)
        return not result.fatal


def _dispatch(todo: list[WorkItem], out_dir: Path, options: Options, batch: BatchOptions, task: Task,
              accept: _Recorder, note: Callable[[str], None]) -> None:  # fmt: skip
    if not todo:
        return
    if batch.dask:
        from pipeline.batch.cluster import run_dask

        run_dask(todo, out_dir, options, task, accept, batch.dask, max(batch.workers, 1))
    elif batch.workers == 0:
        run_inline(todo, out_dir, options, task, accept)
    else:
        run_pool(todo, out_dir, options, task, accept, batch.workers, note)


def convert_many(
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    options: Options | None = None,
    batch: BatchOptions | None = None,
    *,
    on_result: Callable[[FileResult], None] | None = None,
    reporter: Reporter | None = None,
    task: Task = convert_one,
) -> BatchSummary:
    """Convert files and folders into `out_dir` (mirroring the input tree), resuming where an
    earlier run into the same folder stopped. `task` is the per-file function (tests inject
    faults through it); `on_result` sees every finished file in the parent process."""
    options = options or Options()
    batch = batch or BatchOptions()
    out_dir = Path(out_dir)
    inputs = list(inputs)
    check_output_folder(inputs, out_dir)  # before the lock writes .gazette/ into it
    started = time.perf_counter()
    summary = BatchSummary(out_dir)
    reporter = reporter or make_reporter(batch.progress)
    state = out_dir / STATE_DIR
    with OutputLock(state / "lock", out_dir), staging(staging_folder(out_dir)):
        _sweep_stale_temps(out_dir)
        version, parts = fingerprints(options)
        manifest = Manifest(state / "manifest.sqlite")
        try:
            manifest.remember(f"version:{version}", parts)
            items = list(find_inputs(inputs, exclude=out_dir))
            summary.found = len(items)
            if manifest.recovered:
                rebuild_rows(manifest, items, out_dir)
            plan = _plan(items, manifest.rows(), version, options, batch, out_dir, summary)
            manifest.refresh_stats(plan.restat)
            accept = _Recorder(manifest, version, options, summary, reporter, on_result)
            replanned = {}
            for item, row in plan.replan:  # no OCR: the plan is rebuilt from the stored text
                if resegment_one(item, out_dir, options):
                    replanned[row.relative] = version
                else:
                    plan.todo.append(item)
            manifest.restamp(replanned)
            summary.replanned = len(replanned)
            todo = _longest_first(plan.todo)
            reporter.start(len(todo) + len(plan.rejected), summary.skipped)
            try:
                for rejected in plan.rejected:
                    accept(rejected, record=False)
                _dispatch(todo, out_dir, options, batch, task, accept, reporter.note)
            finally:
                reporter.close()
                # Also after Ctrl-C: the run files then describe what is done so far.
                _write_run_files(out_dir, items, manifest, accept.unrecorded, options)
        finally:
            manifest.close()
    summary.seconds = time.perf_counter() - started
    return summary

"""The unit of work of a batch: `convert_one` converts one file and writes its outputs.

It is a plain, picklable function that never raises for a bad file, so the same task runs
in this process, in a process pool worker or on a Dask worker, and its outputs are the same
bytes wherever it ran. `prepare_worker` loads what every file needs (the restore model, the
tesseract probe) once per worker process, before its first file.
"""

from __future__ import annotations

import logging
import os
import resource
import socket
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.api import convert, resegment
from pipeline.batch.guard import file_deadline, watch_parent
from pipeline.batch.walk import STATE_DIR, WorkItem
from pipeline.document import Document
from pipeline.errors import DiskFullError, GazetteError, InternalError
from pipeline.export import output_files, to_jsonl_line, write_outputs
from pipeline.export.json import from_json
from pipeline.filenames import display_path
from pipeline.files import atomic_write_text, staging
from pipeline.ingest import sha256_of
from pipeline.options import Options
from pipeline.restore.paths import has_model
from pipeline.review.journal import CorrectionRecord, Journal, apply_corrections, belongs_to

__all__ = ["STATE_DIR", "FileResult", "convert_one", "jsonl_part", "prepare_worker"]

log = logging.getLogger(__name__)

# Outputs that hold the plan; the others (text, ALTO, PAGE, hOCR, PDF) hold only the words.
PLAN_FORMATS = ("json",)


@dataclass
class FileResult:
    """What a worker reports about one file; the parent alone records and reports it."""

    item: WorkItem
    ok: bool
    pages: int = 0
    seconds: float = 0.0
    sha256: str | None = None
    size: int | None = None  # size and mtime when the conversion started: the manifest's
    mtime_ns: int | None = None  # cheap "unchanged" test on the next run
    outputs: list[str] = field(default_factory=list)  # relative to the output folder
    flags: list[str] = field(default_factory=list)
    error: dict[str, str | int | None] | None = None  # the errors.jsonl record
    fatal: bool = False  # the batch cannot go on (disk full): stop scheduling files
    worker: str = ""  # host:pid of the process that converted it
    peak_rss_mb: float = 0.0  # that worker's peak resident memory so far
    child_peak_rss_mb: float = 0.0  # the largest child it ran (tesseract, pdftoppm)

    @classmethod
    def failed(cls, item: WorkItem, error: GazetteError, **fields: Any) -> FileResult:
        """The result of a file that failed with `error`: its errors.jsonl record (naming the
        input), fatal when the batch cannot go on (the disk is full)."""
        if error.path is None:
            error.path = display_path(item.path)
        record = {**error.to_record(), "path": display_path(item.path)}
        return cls(item, False, error=record, fatal=isinstance(error, DiskFullError), **fields)


def staging_folder(out_dir: Path) -> Path:
    """Where a batch's atomic writes keep their temp files (pipeline.files.staging): the only
    place its sweep after a killed run deletes anything."""
    return out_dir / STATE_DIR / "tmp"


def jsonl_part(relative: Path) -> Path:
    """Where one document's documents.jsonl line is kept, so a resumed run can rebuild
    documents.jsonl with the lines of files it skipped."""
    return Path(STATE_DIR) / "jsonl" / relative.with_name(relative.name + ".jsonl")


def _stat(path: Path) -> tuple[int | None, int | None]:
    try:
        stat = path.stat()
    except OSError:
        return None, None
    return stat.st_size, stat.st_mtime_ns


def _hash(path: Path) -> str | None:
    try:
        return sha256_of(path)
    except OSError:
        return None


def _stamped(result: FileResult) -> FileResult:
    """The result with the worker's identity and peak memory (ru_maxrss is in KiB on Linux)."""
    result.worker = f"{socket.gethostname()}:{os.getpid()}"
    result.peak_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result.child_peak_rss_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return result


def _unexpected(exc: Exception) -> InternalError:
    frame = traceback.extract_tb(exc.__traceback__)[-1] if exc.__traceback__ else None
    where = f" at {Path(frame.filename).name}:{frame.lineno}" if frame else ""
    return InternalError(f"unexpected {type(exc).__name__}{where}: {exc}")


def convert_one(item: WorkItem, out_dir: Path, options: Options) -> FileResult:
    """Convert one file and write its outputs atomically; a failure becomes a FileResult
    (with the errors.jsonl record), never an exception, so one bad file never stops a batch."""
    with staging(staging_folder(out_dir)):
        return _convert_one(item, out_dir, options)


def _convert_one(item: WorkItem, out_dir: Path, options: Options) -> FileResult:
    started = time.perf_counter()
    size, mtime_ns = _stat(item.path)
    written: list[Path] = []
    try:
        try:
            with file_deadline(options.file_timeout):
                document = convert(item.path, options)
            document = _with_corrections(document, out_dir, item)
            written = write_outputs(document, out_dir / item.relative, options.formats)
            if "jsonl" in options.formats:
                part = out_dir / jsonl_part(item.relative)
                atomic_write_text(part, to_jsonl_line(document))
                written.append(part)
        except GazetteError:
            raise
        except Exception as exc:  # a bug must cost one file, not the night's batch
            log.debug("unexpected error on %s", item.path, exc_info=True)
            raise _unexpected(exc) from exc
    except GazetteError as exc:
        sha256 = _hash(item.path)
        # Outputs of other content no longer describe this input; a reader must not take them
        # for its current outputs. Outputs of this very content (an earlier run's, or this
        # run's own written before a later step failed) stay: nothing converted is lost.
        if sha256 is None or _earlier_content(item, out_dir) != sha256:
            for target in [*written, *_earlier_outputs(item, out_dir)]:
                target.unlink(missing_ok=True)
        return _stamped(
            FileResult.failed(
                item,
                exc,
                seconds=time.perf_counter() - started,
                sha256=sha256,
                size=size,
                mtime_ns=mtime_ns,
            )
        )
    return _stamped(
        FileResult(
            item,
            True,
            pages=len(document.pages),
            seconds=time.perf_counter() - started,
            sha256=document.sha256,
            size=size,
            mtime_ns=mtime_ns,
            outputs=[str(path.relative_to(out_dir)) for path in written],
            flags=list(document.flags),
        )
    )


def resegment_one(item: WorkItem, out_dir: Path, options: Options) -> bool:
    """Rebuild the plan of a converted file from its stored Document JSON (corrections
    applied), and rewrite the outputs that carry the plan; False when there is no readable
    JSON to start from (the file is then converted again)."""
    stem = out_dir / item.relative
    json_path = stem.with_name(stem.name + ".json")
    try:
        document = from_json(json_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    document = resegment(_with_corrections(document, out_dir, item))
    write_outputs(document, stem, tuple(f for f in options.formats if f in PLAN_FORMATS))
    if "jsonl" in options.formats:
        atomic_write_text(out_dir / jsonl_part(item.relative), to_jsonl_line(document))
    return True


def _with_corrections(document: Document, out_dir: Path, item: WorkItem) -> Document:
    """Reviewers' corrections from the journal, re-applied to a fresh conversion; those whose
    word is gone are kept in the journal and named in the document's warnings."""
    relative = item.relative.as_posix()
    records = [r for r in _journal_records(out_dir) if belongs_to(r, document, relative)]
    if not records:
        return document
    document, orphans = apply_corrections(document, records)
    if orphans:
        notes = [f"correction {o.record.edit_id} by {o.record.reviewer} not applied: {o.reason}" for o in orphans]
        for note in notes:
            log.warning("%s: %s", relative, note)
        document.warnings = [*document.warnings, *notes]
    return document


# The journal last loaded by this process: (path, size, mtime_ns) → its records. A batch
# applies the same journal to every file; it is parsed again only after an append.
_journal_cache: tuple[tuple[str, int, int], list[CorrectionRecord]] | None = None


def _journal_records(out_dir: Path) -> list[CorrectionRecord]:
    global _journal_cache
    journal = Journal(out_dir)
    try:
        stat = journal.path.stat()
    except FileNotFoundError:
        return []
    except OSError:
        return journal.load()  # which raises the typed error
    key = (str(journal.path.absolute()), stat.st_size, stat.st_mtime_ns)
    if _journal_cache is not None and _journal_cache[0] == key:
        return _journal_cache[1]
    # Stat before load: an append in between makes the key stale, never the records.
    records = journal.load()
    _journal_cache = (key, records)
    return records


def _earlier_content(item: WorkItem, out_dir: Path) -> str | None:
    """sha256 of the input an earlier conversion's Document describes (None: none readable)."""
    stem = out_dir / item.relative
    try:
        return from_json(stem.with_name(stem.name + ".json").read_text(encoding="utf-8")).sha256
    except (OSError, ValueError):
        return None


def _earlier_outputs(item: WorkItem, out_dir: Path) -> list[Path]:
    return [*output_files(out_dir / item.relative), out_dir / jsonl_part(item.relative)]


def prepare_worker(options: Options, log_level: int = logging.WARNING, parent_pid: int | None = None) -> None:
    """Run once in every worker process before its first file: load the restore model and
    probe tesseract now, so no file pays for them, with one thread each (parallelism comes
    from the workers; more threads per worker would only oversubscribe the cores); and end
    this worker when the batch's process `parent_pid` dies."""
    if parent_pid is not None:
        watch_parent(parent_pid)
    os.environ["OMP_THREAD_LIMIT"] = "1"
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    # Only the parent reports; a worker's own log lines would break through the progress bar.
    root = logging.getLogger()
    if log_level <= logging.DEBUG:
        logging.basicConfig(level=log_level, format=f"[worker {os.getpid()}] %(message)s")
    elif not root.handlers:
        root.addHandler(logging.NullHandler())
    from pipeline.ocr import probe

    try:
        probe(options.language)
    except GazetteError:
        pass  # each image file then reports the missing dependency itself
    if options.restore == "never":
        return
    try:
        if not has_model():
            return
        from pipeline.restore.api import get_restorer, set_restore_threads

        set_restore_threads(1)  # one ONNX Runtime thread, not spinning between files
        get_restorer()
    except Exception:  # each file then reports the model error itself
        log.warning("worker warm-up failed (each file will report it)", exc_info=True)

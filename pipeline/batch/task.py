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

from pipeline.api import convert
from pipeline.batch.walk import WorkItem
from pipeline.document import Document
from pipeline.errors import DiskFullError, GazetteError, InternalError
from pipeline.export import output_files, to_jsonl_line, write_outputs
from pipeline.files import atomic_write_text
from pipeline.ingest import sha256_of
from pipeline.options import Options
from pipeline.review.journal import reapply_journal

__all__ = ["STATE_DIR", "FileResult", "convert_one", "jsonl_part", "prepare_worker"]

log = logging.getLogger(__name__)

# The batch's own state inside the output folder: manifest, lock, JSONL parts.
STATE_DIR = ".gazette"


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
    started = time.perf_counter()
    size, mtime_ns = _stat(item.path)
    written: list[Path] = []
    try:
        try:
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
        if exc.path is None:
            exc.path = str(item.path)
        # Outputs of an earlier conversion no longer describe this input; a reader must not
        # take them for its current outputs.
        for target in [*written, *_earlier_outputs(item, out_dir)]:
            target.unlink(missing_ok=True)
        record = {**exc.to_record(), "path": str(item.path)}
        return _stamped(
            FileResult(
                item,
                False,
                seconds=time.perf_counter() - started,
                sha256=_hash(item.path),
                size=size,
                mtime_ns=mtime_ns,
                error=record,
                fatal=isinstance(exc, DiskFullError),
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


def _with_corrections(document: Document, out_dir: Path, item: WorkItem) -> Document:
    """Reviewers' corrections from the journal, re-applied to a fresh conversion; those whose
    word is gone are kept in the journal and named in the document's warnings."""
    document, orphans = reapply_journal(document, out_dir, item.relative.as_posix())
    if orphans:
        notes = [f"correction {o.record.edit_id} by {o.record.reviewer} not applied: {o.reason}" for o in orphans]
        document.warnings = [*document.warnings, *notes]
    return document


def _earlier_outputs(item: WorkItem, out_dir: Path) -> list[Path]:
    return [*output_files(out_dir / item.relative), out_dir / jsonl_part(item.relative)]


def prepare_worker(options: Options, log_level: int = logging.WARNING) -> None:
    """Run once in every worker process before its first file: load the restore model and
    probe tesseract now, so no file pays for them, with one thread each (parallelism comes
    from the workers; more threads per worker would only oversubscribe the cores)."""
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
        from pipeline.batch.manifest import RESTORE_MODEL_DIR

        if not (RESTORE_MODEL_DIR / "model.safetensors").exists():
            return
        import torch

        from pipeline.restore.api import get_restorer

        torch.set_num_threads(1)
        get_restorer()
    except Exception:  # each file then reports the model error itself
        log.debug("worker warm-up failed", exc_info=True)

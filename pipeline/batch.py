"""Convert many inputs into an output tree that mirrors them; one bad file never stops the run.

Each input is converted by `convert_one`, a plain, picklable function (the unit of work that
process pools and Dask workers run); the parent alone writes the run's errors.jsonl and
documents.jsonl and reports progress.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.api import convert
from pipeline.errors import GazetteError
from pipeline.export import to_jsonl_line, write_outputs
from pipeline.files import atomic_write_text
from pipeline.ingest import IMAGE_SUFFIXES, PDF_SUFFIXES, TEXT_SUFFIXES
from pipeline.options import Options

__all__ = ["BatchSummary", "FileResult", "WorkItem", "convert_many", "convert_one", "find_inputs"]

log = logging.getLogger(__name__)

INPUT_SUFFIXES = PDF_SUFFIXES | IMAGE_SUFFIXES | (TEXT_SUFFIXES - {""})


@dataclass(frozen=True)
class WorkItem:
    path: Path
    relative: Path  # where its outputs go under the output folder


@dataclass
class FileResult:
    item: WorkItem
    ok: bool
    pages: int = 0
    seconds: float = 0.0
    jsonl: str | None = None
    error: dict[str, str | int | None] | None = None


@dataclass
class BatchSummary:
    converted: int = 0
    failed: int = 0
    pages: int = 0
    seconds: float = 0.0
    failures_by_kind: Counter[str] = field(default_factory=Counter)


def find_inputs(inputs: Iterable[str | Path]) -> Iterator[WorkItem]:
    """Files as given; folders walked (sorted, symlink loops and hidden entries skipped)."""
    for raw in inputs:
        root = Path(raw)
        if not root.is_dir():
            yield WorkItem(root, Path(root.name))
            continue
        seen: set[tuple[int, int]] = set()
        for folder, dirs, files in os.walk(root, followlinks=True):
            stat = os.stat(folder)
            if (stat.st_dev, stat.st_ino) in seen:  # a symlink loop: walked already
                dirs[:] = []
                continue
            seen.add((stat.st_dev, stat.st_ino))
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                path = Path(folder) / name
                if not name.startswith(".") and path.suffix.lower() in INPUT_SUFFIXES:
                    yield WorkItem(path, path.relative_to(root))


def convert_one(item: WorkItem, out_dir: Path, options: Options) -> FileResult:
    """Convert one file and write its outputs; errors become a FileResult, never an exception."""
    started = time.perf_counter()
    try:
        document = convert(item.path, options)
        write_outputs(document, out_dir / item.relative, options.formats)
    except GazetteError as exc:
        if exc.path is None:
            exc.path = str(item.path)
        return FileResult(item, False, seconds=time.perf_counter() - started, error=exc.to_record())
    jsonl = to_jsonl_line(document) if "jsonl" in options.formats else None
    return FileResult(item, True, len(document.pages), time.perf_counter() - started, jsonl)


def convert_many(
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    options: Options | None = None,
    on_result: Callable[[FileResult], None] | None = None,
) -> BatchSummary:
    options = options or Options()
    out_dir = Path(out_dir)
    summary = BatchSummary()
    errors: list[str] = []
    jsonl: list[str] = []
    started = time.perf_counter()
    for item in find_inputs(inputs):
        result = convert_one(item, out_dir, options)
        if result.ok:
            summary.converted += 1
            summary.pages += result.pages
            if result.jsonl:
                jsonl.append(result.jsonl)
        else:
            summary.failed += 1
            assert result.error is not None
            summary.failures_by_kind[str(result.error["error"])] += 1
            errors.append(json.dumps(result.error, ensure_ascii=False) + "\n")
        if on_result:
            on_result(result)
    summary.seconds = time.perf_counter() - started
    out_dir.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out_dir / "errors.jsonl", "".join(errors))
    if "jsonl" in options.formats:
        atomic_write_text(out_dir / "documents.jsonl", "".join(jsonl))
    return summary

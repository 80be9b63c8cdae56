"""Which files a batch converts: the inputs walked into WorkItems, in a stable order."""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from pipeline.errors import OutputConflictError
from pipeline.ingest import IMAGE_SUFFIXES, PDF_SUFFIXES, TEXT_SUFFIXES

__all__ = ["INPUT_SUFFIXES", "STATE_DIR", "WorkItem", "check_output_folder", "find_inputs"]

log = logging.getLogger(__name__)

# The batch's own state inside an output folder (manifest, lock, JSONL parts, temp files); a
# folder that has it is gazette's, never an input.
STATE_DIR = ".gazette"
INPUT_SUFFIXES = PDF_SUFFIXES | IMAGE_SUFFIXES | (TEXT_SUFFIXES - {""})


@dataclass(frozen=True)
class WorkItem:
    """One input file. Its `relative` path is where its outputs go under the output folder and
    the key of its row in the manifest, so it is what makes a run resumable."""

    path: Path
    relative: Path


def _regular(path: Path) -> bool:
    """A regular file, or a name that cannot be read (its conversion then says why)."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return True


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return stat.st_dev, stat.st_ino


def check_output_folder(inputs: Iterable[str | Path], out_dir: str | Path) -> None:
    """Refuse an output folder whose input files would be skipped: `find_inputs` never walks
    the output folder, so an input folder used as OUT, or a subfolder of an input that holds
    inputs of its own (`convert A -o A/2019`), would lose its files silently. A new folder, or
    one gazette already writes to (it has .gazette/), may lie inside an input."""
    out = Path(out_dir)
    identity = _identity(out)
    if identity is None:
        return  # not created yet: no input can be it
    for raw in inputs:
        if not Path(raw).is_dir():
            continue
        if _identity(Path(raw)) == identity:
            raise OutputConflictError(
                f"the output folder is the input folder {raw}, so none of its files would be converted",
                path=out_dir,
                advice=f"Pass an output folder outside it, or a new folder inside it (-o {Path(raw) / 'out'}).",
            )
        inside = Path(os.path.realpath(out)).is_relative_to(os.path.realpath(raw))
        if inside and not (out / STATE_DIR).is_dir() and next(find_inputs([out]), None) is not None:
            raise OutputConflictError(
                f"the output folder is a folder of the input {raw} that holds input files, which would not be "
                "converted",
                path=out_dir,
                advice=f"Pass an output folder outside {raw}, or a new folder.",
            )


def find_inputs(inputs: Iterable[str | Path], exclude: str | Path | None = None) -> Iterator[WorkItem]:
    """Files as given; folders walked in sorted order, following symlinks but skipping symlink
    loops, hidden entries, unknown suffixes and the `exclude` folder (the output folder, when
    it lies inside an input: its .txt outputs must not become inputs of the next run)."""
    excluded = _identity(Path(exclude)) if exclude is not None else None
    for raw in inputs:
        # Absolute, so that the Documents' source_path still finds the page images when the
        # review app or `gazette export` runs from another folder.
        root = Path(os.path.abspath(raw))
        if not root.is_dir():
            yield WorkItem(root, Path(root.name))
            continue
        seen: set[tuple[int, int]] = {excluded} if excluded else set()
        for folder, dirs, files in os.walk(root, followlinks=True):
            identity = _identity(Path(folder))
            if identity is None or identity in seen:  # a symlink loop, or the output folder
                log.debug("not walking %s again (symlink loop or output folder)", folder)
                dirs[:] = []
                continue
            seen.add(identity)
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
            for name in sorted(files):
                path = Path(folder) / name
                if name.startswith(".") or path.suffix.lower() not in INPUT_SUFFIXES:
                    continue
                if not _regular(path):  # a FIFO or a device would block or read forever
                    log.warning("%s: skipped, not a regular file (a FIFO, device or socket)", path)
                    continue
                yield WorkItem(path, path.relative_to(root))

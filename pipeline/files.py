"""Atomic file writes: temp file, fsync, rename.

A reader (or a batch resumed after `kill -9`) never sees a half-written output: either the
old file or the complete new one. The temp file sits beside its target or, inside a
`staging(folder)` block, in that folder: a batch stages into OUT/.gazette/tmp, so that after a
kill it deletes only what it wrote there, never a user's file that merely looks like a temp.
`atomic_write_files` does it for a set of files: every new file is written in full before
any old one is replaced, so a failure part-way (a full disk) leaves the previous set as it was.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

from pipeline.errors import DiskFullError, ExportError, GazetteError

__all__ = [
    "atomic_write_bytes",
    "atomic_write_chunks",
    "atomic_write_files",
    "atomic_write_text",
    "output_error",
    "staging",
]

_UMASK = os.umask(0)
os.umask(_UMASK)
_FILE_MODE = 0o666 & ~_UMASK

# Temp files are named `.<name>.<random>.tmp` (tempfile.mkstemp with the prefix and suffix below).
_TEMP_SUFFIX = ".tmp"
_STAGING: ContextVar[Path | None] = ContextVar("gazette_staging", default=None)


@contextmanager
def staging(folder: Path) -> Iterator[Path]:
    """Within the block (this thread or task only), atomic writes put their temp files in
    `folder`, created if needed. A target on another filesystem falls back to a temp beside it."""
    folder.mkdir(parents=True, exist_ok=True)
    token = _STAGING.set(folder)
    try:
        yield folder
    finally:
        _STAGING.reset(token)


_DISK_FULL = (errno.ENOSPC, errno.EDQUOT)


def output_error(exc: OSError | sqlite3.Error, path: str | Path, what: str = "output") -> GazetteError:
    """The one mapping of an error while writing `path` (an OSError, or SQLite's for the batch
    manifest) to a typed error: DiskFullError when the disk (or the quota) is full, ExportError
    otherwise; `what` names the file's role in the message."""
    if isinstance(exc, OSError):
        full, reason = exc.errno in _DISK_FULL, exc.strerror or str(exc)
    else:
        full, reason = getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL, str(exc)
    if full:
        return DiskFullError(f"disk full writing {path} ({reason})")
    return ExportError(f"cannot write {what} ({reason})", path=path)


def _write_temp(path: Path, chunks: Iterable[bytes], beside: bool = False) -> Path:
    """A complete, fsynced temp file for `path` holding `chunks` (removed again on failure), in
    the staging folder if one is set, else (or `beside`) in the folder of `path`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    folder = path.parent if beside else _STAGING.get() or path.parent
    fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TEMP_SUFFIX, dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), _FILE_MODE)  # mkstemp creates 0600; outputs are ordinary files
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
    return Path(tmp_name)


def atomic_write_chunks(path: str | Path, chunks: Iterable[bytes]) -> None:
    """Write `chunks` one after another into `path`, atomically: streamed, for outputs that do
    not fit in memory (documents.jsonl of a big archive)."""
    atomic_write_files({Path(path): chunks})


def atomic_write_files(files: Mapping[Path, Iterable[bytes]]) -> None:
    """Write each file of `files` (path → its chunks) atomically, all temp files first: no old
    file is replaced before every new one is complete on disk."""
    temps: dict[Path, Path] = {}
    path = next(iter(files), Path())
    try:
        for path, chunks in files.items():
            temps[path] = _write_temp(path, chunks)
        for path, temp in list(temps.items()):
            try:
                os.replace(temp, path)
            except OSError as exc:
                if exc.errno != errno.EXDEV:
                    raise
                # The staging folder is on another filesystem than this output: copy it beside.
                with temp.open("rb") as staged:
                    temps[path] = _write_temp(path, iter(lambda: staged.read(1 << 20), b""), beside=True)
                temp.unlink()
                os.replace(temps[path], path)
            del temps[path]
        for folder in {path.parent for path in files}:
            _fsync_dir(folder)
    except OSError as exc:
        raise output_error(exc, path) from exc
    finally:
        for temp in temps.values():
            temp.unlink(missing_ok=True)


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    atomic_write_chunks(path, (data,))


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not every filesystem allows opening a folder.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)

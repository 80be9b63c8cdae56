"""Atomic file writes: temp file in the same folder, fsync, rename.

A reader (or a batch resumed after `kill -9`) never sees a half-written output: either the
old file or the complete new one.
"""

from __future__ import annotations

import errno
import os
import re
import sqlite3
import tempfile
from collections.abc import Iterable
from pathlib import Path

from pipeline.errors import DiskFullError, ExportError, GazetteError

__all__ = ["STALE_TEMP", "atomic_write_bytes", "atomic_write_chunks", "atomic_write_text", "output_error"]

_UMASK = os.umask(0)
os.umask(_UMASK)
_FILE_MODE = 0o666 & ~_UMASK

# Temp files are named `.<name>.<random>.tmp` (tempfile.mkstemp with the prefix and suffix
# below); STALE_TEMP matches what a write killed mid-way leaves behind, for the batch to sweep.
_TEMP_SUFFIX = ".tmp"
STALE_TEMP = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")

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


def atomic_write_chunks(path: str | Path, chunks: Iterable[bytes]) -> None:
    """Write `chunks` one after another into `path`, atomically: streamed, for outputs that do
    not fit in memory (documents.jsonl of a big archive)."""
    path = Path(path)
    tmp_name = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TEMP_SUFFIX, dir=path.parent)
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), _FILE_MODE)  # mkstemp creates 0600; outputs are ordinary files
            for chunk in chunks:
                handle.write(chunk)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp_name, path)
        tmp_name = None
        _fsync_dir(path.parent)
    except OSError as exc:
        raise output_error(exc, path) from exc
    finally:
        if tmp_name is not None:
            Path(tmp_name).unlink(missing_ok=True)


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

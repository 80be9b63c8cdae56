"""The state of an output folder: which inputs are done (the manifest) and who writes it (the lock).

The manifest is SQLite in WAL mode in OUT_DIR/.gazette/manifest.sqlite, written by the parent
process only, one transaction per finished file. A file counts as done once its outputs are
renamed into place *and* its row is committed, so `kill -9` at any moment loses at most the
files that were in flight. Rows are keyed by the input's path relative to its input folder and
carry its content hash and the fingerprint of what produced them (pipeline/fingerprint.py).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import socket
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pipeline.errors import ExportError, OutputLockedError
from pipeline.filenames import storable
from pipeline.files import output_error

if TYPE_CHECKING:
    from pipeline.batch.task import FileResult

__all__ = ["Manifest", "OutputLock", "Row"]

log = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS files (
    relative TEXT PRIMARY KEY,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')),
    version TEXT NOT NULL,
    sha256 TEXT,
    size INTEGER,
    mtime_ns INTEGER,
    pages INTEGER NOT NULL DEFAULT 0,
    formats TEXT NOT NULL DEFAULT '[]',
    outputs TEXT NOT NULL DEFAULT '[]',
    error TEXT,
    seconds REAL,
    finished_at REAL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# PRAGMA user_version of the layout above. A manifest of an older version is migrated by the
# steps of _MIGRATIONS (version it upgrades from → SQL); version 0 with no table is a new file.
SCHEMA_VERSION = 1
_MIGRATIONS: dict[int, str] = {}
_COLUMNS = ("relative", "status", "version", "sha256", "size", "mtime_ns", "pages", "formats", "outputs", "error",
            "seconds", "finished_at")  # fmt: skip


def _migrate(db: sqlite3.Connection) -> None:
    """Bring the file to SCHEMA_VERSION; a layout gazette does not know counts as damage."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise sqlite3.DatabaseError(f"written by a newer gazette (layout {version}, this one knows {SCHEMA_VERSION})")
    while version < SCHEMA_VERSION and version in _MIGRATIONS:
        db.executescript(_MIGRATIONS[version])
        version += 1
    db.executescript(_SCHEMA)
    columns = tuple(row[1] for row in db.execute("PRAGMA table_info(files)"))
    if columns != _COLUMNS:
        raise sqlite3.DatabaseError(f"the files table has another layout ({', '.join(columns)})")
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def _key(relative: Path) -> str | bytes:
    """The row key of an input: its relative path as text, or as its bytes (a BLOB) when the
    name is not UTF-8, so that every name is stored losslessly and found again."""
    return str(relative) if storable(relative) else os.fsencode(relative)


def _relative(key: str | bytes) -> str:
    return os.fsdecode(key) if isinstance(key, bytes) else key


@dataclass(frozen=True)
class Row:
    relative: str
    status: Literal["done", "failed"]
    version: str
    sha256: str | None
    size: int | None
    mtime_ns: int | None
    pages: int
    formats: tuple[str, ...]
    outputs: tuple[str, ...]
    error: dict[str, Any] | None


class Manifest:
    """One row per input file ever finished into this output folder.

    `recovered` is True when the file was damaged (or of an unknown layout) and was set aside
    for a new one: the caller then rebuilds the rows from the outputs on disk (`restore`).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self.recovered = False
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            # A damaged manifest costs a re-check of the outputs, never the run itself.
            aside = path.with_name(f"{path.name}.damaged-{int(time.time())}")
            log.warning("%s is damaged (%s); moved to %s and rebuilt from the outputs", path, exc, aside)
            for suffix in ("", "-wal", "-shm"):
                damaged = Path(f"{path}{suffix}")
                if damaged.exists():
                    damaged.rename(f"{aside}{suffix}")
            self._db = self._open()
            self.recovered = True

    def _open(self) -> sqlite3.Connection:
        try:
            db = sqlite3.connect(self.path, isolation_level=None, timeout=30)
        except sqlite3.OperationalError as exc:
            raise ExportError(f"cannot open the batch manifest ({exc})", path=self.path) from exc
        try:
            db.execute("PRAGMA journal_mode=WAL")
            # A committed row survives the process being killed; only a power cut may lose the
            # last few, which the next run simply converts again.
            db.execute("PRAGMA synchronous=NORMAL")
            # Damage in the middle of the file shows only when that page is read: look at
            # every page now, so it is found here and not halfway through the run.
            problems = [row[0] for row in db.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError(f"integrity check failed: {'; '.join(problems[:3])}")
            _migrate(db)
        except sqlite3.OperationalError as exc:
            db.close()
            raise ExportError(f"cannot open the batch manifest ({exc})", path=self.path) from exc
        except sqlite3.DatabaseError:
            db.close()  # before the damaged file is renamed (see __init__)
            raise
        return db

    def rows(self) -> dict[str, Row]:
        rows = {}
        query = "SELECT relative, status, version, sha256, size, mtime_ns, pages, formats, outputs, error FROM files"
        for relative, status, version, sha, size, mtime_ns, pages, formats, outputs, error in self._db.execute(query):
            relative = _relative(relative)
            rows[relative] = Row(
                relative,
                status,
                version,
                sha,
                size,
                mtime_ns,
                pages,
                tuple(json.loads(formats)),
                tuple(json.loads(outputs)),
                json.loads(error) if error else None,
            )
        return rows

    def record(self, result: FileResult, version: str, formats: tuple[str, ...]) -> None:
        """Commit one finished file (its outputs are already in place)."""
        values = (
            _key(result.item.relative),
            "done" if result.ok else "failed",
            version,
            result.sha256,
            result.size,
            result.mtime_ns,
            result.pages,
            json.dumps(list(formats)),
            # ASCII JSON: a name that is not UTF-8 survives as a \\udcxx escape.
            json.dumps(result.outputs),
            json.dumps(result.error) if result.error else None,
            result.seconds,
            time.time(),
        )
        self._write("INSERT OR REPLACE INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", [values])

    def refresh_stats(self, stats: list[tuple[int, int, str]]) -> None:
        """New (size, mtime_ns) for rows whose content was re-hashed and found unchanged, so
        the next run does not hash them again."""
        if stats:
            rows = [(size, mtime, _key(Path(relative))) for size, mtime, relative in stats]
            self._write("UPDATE files SET size = ?, mtime_ns = ? WHERE relative = ?", rows)

    def restamp(self, versions: dict[str, str]) -> None:
        """Give done rows a new key after their plan was rebuilt from the stored text."""
        rows = [(v, _key(Path(r))) for r, v in versions.items()]
        self._write("UPDATE files SET version = ? WHERE relative = ?", rows)

    def remember(self, key: str, value: Any) -> None:
        self._write("INSERT OR REPLACE INTO meta VALUES (?, ?)", [(key, json.dumps(value, sort_keys=True))])

    def _write(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        try:
            with self._db:  # one transaction
                self._db.execute("BEGIN IMMEDIATE")
                self._db.executemany(sql, rows)
        except sqlite3.DatabaseError as exc:  # also "database disk image is malformed"
            if exc.sqlite_errorcode == sqlite3.SQLITE_FULL:
                raise output_error(exc, self.path, "the batch manifest") from exc
            raise ExportError(
                f"cannot update the batch manifest ({exc})",
                path=self.path,
                advice="Check that the output folder is writable and has free space; if the manifest is damaged, "
                "delete it (files already converted are then converted again).",
            ) from exc

    def close(self) -> None:
        self._db.close()


class OutputLock:
    """An exclusive, non-blocking flock on OUT_DIR/.gazette/lock for the whole run, so two
    `gazette convert` runs never write one manifest. The kernel drops it when the process
    dies, even by `kill -9`, so a stale lock never blocks the next run."""

    def __init__(self, path: Path, out_dir: Path) -> None:
        self.path = path
        self.out_dir = out_dir
        self._fd: int | None = None

    def __enter__(self) -> OutputLock:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise ExportError(f"cannot create {self.path} ({exc.strerror or exc})", path=self.out_dir) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.read(fd, 200).decode("utf-8", "replace").split()
            except OSError:
                holder = []
            finally:
                os.close(fd)
            pid = holder[0] if holder else "unknown"
            host = f" on {holder[1]}" if len(holder) > 1 and holder[1] != socket.gethostname() else ""
            raise OutputLockedError(
                f"another gazette convert or export is writing to {self.out_dir} (pid {pid}{host})"
            ) from None
        except OSError as exc:  # ENOLCK: a network filesystem without locks
            os.close(fd)
            raise ExportError(
                f"cannot lock {self.path} ({exc.strerror or exc})",
                path=self.out_dir,
                advice="The output folder's filesystem does not support file locks (NFS without lockd?); "
                "convert into a folder on a local disk and copy the outputs over afterwards.",
            ) from exc
        try:
            os.ftruncate(fd, 0)
            os.write(fd, f"{os.getpid()} {socket.gethostname()}\n".encode())
        except OSError as exc:
            os.close(fd)  # releases the lock
            raise output_error(exc, self.path, "the output lock file") from exc
        self._fd = fd
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self._fd is not None:
            # The file stays: unlinking it would let a third run lock a new file while a
            # second one still waits on the old.
            try:
                os.ftruncate(self._fd, 0)
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            except OSError as exc:  # closing releases the lock all the same
                log.debug("%s: %s", self.path, exc)
            finally:
                os.close(self._fd)
                self._fd = None

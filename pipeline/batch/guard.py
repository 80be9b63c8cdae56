"""Limits a batch worker lives under: a deadline per file, and an end when its parent dies.

- `file_deadline(seconds)`: SIGALRM raises FileTimeoutError in the file's code, so a file that
  hangs (a read that never ends, a library looping on a damaged PDF) fails alone and the run
  goes on. Signals reach only a process's main thread: in a Dask worker's task threads the
  limit is not applied (Dask has its own means to cancel work).
- `watch_parent(pid)`: a worker polls for the process that started the batch and exits when it
  is gone (`kill -9` of `gazette convert`), instead of converting on for nobody with 0.5 GB
  held. Workers are children of the forkserver, not of the parent, so PR_SET_PDEATHSIG would
  watch the wrong process.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from pipeline.errors import FileTimeoutError

__all__ = ["file_deadline", "watch_parent"]


@contextmanager
def file_deadline(seconds: float | None) -> Iterator[None]:
    """FileTimeoutError inside the block once `seconds` have passed (no limit: None, or not
    in the main thread)."""
    if not seconds or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expire(signum: int, frame: FrameType | None) -> None:
        raise FileTimeoutError(f"not finished after {seconds:g} s (the per-file time limit)")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _alive(pid: int) -> bool:
    """Running: a dead process that its own parent has not reaped yet (a zombie) is dead."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    except OSError:  # no /proc: ask the kernel, which cannot tell a zombie
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True
    return stat.rsplit(")", 1)[1].split()[0] not in ("Z", "X")


def watch_parent(pid: int, interval: float = 1.0) -> threading.Thread:
    """A daemon thread that ends this process (exit 1, no clean-up: the parent that would
    record results is gone) when process `pid` no longer exists."""

    def watch() -> None:
        while _alive(pid):
            time.sleep(interval)
        os._exit(1)

    thread = threading.Thread(target=watch, name="gazette-parent-watch", daemon=True)
    thread.start()
    return thread

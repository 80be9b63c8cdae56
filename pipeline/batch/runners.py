"""Where the per-file task runs: in this process, or in a pool of worker processes.

(Dask is in pipeline/batch/cluster.py.) A runner calls `accept(result)` in the parent for every
finished file; when `accept` returns False (the disk is full) it stops starting new files and
lets the ones in flight finish.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
from collections import Counter, deque
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from pipeline.batch.task import FileResult, prepare_worker
from pipeline.batch.walk import WorkItem
from pipeline.errors import InternalError, WorkerLostError
from pipeline.options import Options

__all__ = ["Accept", "Note", "Task", "lost", "run_inline", "run_pool", "task_failed"]

log = logging.getLogger(__name__)

Task = Callable[[WorkItem, Path, Options], FileResult]
Accept = Callable[[FileResult], bool]
Note = Callable[[str], None]

# A file whose worker dies is retried once; the second death marks it failed.
MAX_LOSSES = 2


def lost(item: WorkItem, detail: str = "") -> FileResult:
    """The result of a file whose worker process died under it, twice."""
    problem = f"the worker process converting it died {MAX_LOSSES} times{f' ({detail})' if detail else ''}"
    return FileResult.failed(item, WorkerLostError(problem, path=item.path))


def task_failed(item: WorkItem, exc: BaseException, where: str) -> FileResult:
    """The result of a file whose task raised instead of returning (convert_one never does for
    a bad file: a result that does not pickle, a bug in an injected task)."""
    return FileResult.failed(item, InternalError(f"the task failed {where} ({type(exc).__name__}: {exc})"))


def run_inline(items: Sequence[WorkItem], out_dir: Path, options: Options, task: Task, accept: Accept) -> None:
    """One file after another in this process (`--jobs 0`): no isolation, easiest to debug."""
    for item in items:
        if not accept(task(item, out_dir, options)):
            return


def _ready() -> int:
    return os.getpid()


def _new_pool(jobs: int, options: Options) -> ProcessPoolExecutor:
    """A pool whose `jobs` workers have started and warmed up (in parallel).

    A pool that breaks before running a single task is no file's fault: most often the main
    script starts a batch at import time, which every worker process re-runs as it starts."""
    # forkserver, not fork: workers start onnxruntime's threads, which do not survive a fork of
    # a parent that started them; the server preloads gazette's modules (not the model), so each
    # worker starts in milliseconds.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["pipeline.batch.task"])
    level = logging.getLogger("pipeline").getEffectiveLevel()
    warm_up = (options, level, os.getpid())
    pool = ProcessPoolExecutor(jobs, mp_context=context, initializer=prepare_worker, initargs=warm_up)
    try:
        for future in [pool.submit(_ready) for _ in range(jobs)]:
            future.result()
    except BrokenProcessPool as exc:
        pool.shutdown(wait=True, cancel_futures=True)
        raise WorkerLostError(
            "worker processes die as they start",
            advice='If a script calls convert_many, call it under `if __name__ == "__main__":` (every worker '
            "imports the main script); otherwise run with --jobs 0 -v to see the error in the foreground.",
        ) from exc
    return pool


def _stop_pool(pool: ProcessPoolExecutor) -> None:
    """Cancel what has not started and end the workers now, not after their current file
    (Python 3.14 has pool.terminate_workers(); before it, the processes are in _processes)."""
    terminate = getattr(pool, "terminate_workers", None)
    if terminate is not None:
        terminate()
    else:
        for process in list((getattr(pool, "_processes", None) or {}).values()):
            process.terminate()
    pool.shutdown(wait=True, cancel_futures=True)


def _collect(
    futures: set[Future[FileResult]],
    in_flight: dict[Future[FileResult], WorkItem],
    accept: Accept,
    broken: list[WorkItem],
) -> bool:
    """Hand finished futures' results to `accept`; files lost with a broken pool go to `broken`.
    True when `accept` asks to stop scheduling."""
    stop = False
    for future in futures:
        item = in_flight.pop(future)
        try:
            result = future.result()
        except BrokenProcessPool:
            broken.append(item)
            continue
        except Exception as exc:
            result = task_failed(item, exc, "in the worker process")
        stop |= not accept(result)
    return stop


def run_pool(
    items: Sequence[WorkItem], out_dir: Path, options: Options, task: Task, accept: Accept, jobs: int, note: Note
) -> None:
    """At most `jobs` files in flight in a process pool. When a worker dies (BrokenProcessPool:
    killed, out of memory, a crash in a library) the pool is unusable and every file in flight
    is lost with it, culprit or not; each is retried alone in a fresh pool, so a second death
    names the culprit (recorded as WorkerLostError) and the others simply finish."""
    queue = deque(items)
    suspects: deque[WorkItem] = deque()
    losses: Counter[WorkItem] = Counter()
    in_flight: dict[Future[FileResult], WorkItem] = {}
    pool: ProcessPoolExecutor | None = None
    stopping = False
    try:
        while queue or suspects or in_flight:
            if stopping and not in_flight:
                break
            if pool is None:
                pool = _new_pool(max(1, min(jobs, len(queue) + len(suspects))), options)
            if not stopping:
                if suspects:
                    if not in_flight:
                        item = suspects.popleft()
                        in_flight[pool.submit(task, item, out_dir, options)] = item
                else:
                    while queue and len(in_flight) < jobs:
                        item = queue.popleft()
                        in_flight[pool.submit(task, item, out_dir, options)] = item
            broken: list[WorkItem] = []
            stopping |= _collect(wait(in_flight, return_when=FIRST_COMPLETED).done, in_flight, accept, broken)
            if not broken:
                continue
            # Every other future of a broken pool fails too, or has just finished: collect them.
            stopping |= _collect(wait(in_flight).done, in_flight, accept, broken)
            pool.shutdown(wait=True, cancel_futures=True)
            pool = None
            for item in broken:
                losses[item] += 1
                if losses[item] >= MAX_LOSSES:
                    stopping |= not accept(lost(item))
                else:
                    note(f"a worker process died while {item.path} was in flight; retrying it alone")
                    suspects.append(item)
    except BaseException:
        if pool is not None:
            _stop_pool(pool)
            pool = None
        raise
    finally:
        if pool is not None:
            pool.shutdown(wait=True)

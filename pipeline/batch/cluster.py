"""The per-file task on a dask.distributed cluster: an existing one (`--dask tcp://host:8786`)
or one started here (`--dask local`).

The task is the same `convert_one` the process pool runs, so the outputs are the same bytes
(timings aside). A worker that dies is replaced by its nanny and its task rescheduled; a task
that was running on `allowed-failures + 1` dying workers fails with KilledWorker, recorded as
WorkerLostError. Duplicate executions (a task rescheduled after its first run wrote its
outputs) are harmless: every output is written by atomic rename.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from pathlib import Path

import dask
from distributed import Client, KilledWorker, LocalCluster, as_completed
from distributed.diagnostics.plugin import WorkerPlugin

from pipeline.batch.runners import MAX_LOSSES, Accept, Task, lost, task_failed
from pipeline.batch.task import FileResult, prepare_worker
from pipeline.batch.walk import WorkItem
from pipeline.errors import ClusterError
from pipeline.options import Options

__all__ = ["PrepareWorker", "run_dask"]

log = logging.getLogger(__name__)


class PrepareWorker(WorkerPlugin):
    """Loads the restore model and probes tesseract once on every worker, also on workers
    that join (or are restarted) later."""

    name = "gazette-prepare-worker"

    def __init__(self, options: Options, log_level: int) -> None:
        self.options = options
        self.log_level = log_level

    def setup(self, worker: object) -> None:
        prepare_worker(self.options, self.log_level)


def _connect(address: str, jobs: int) -> tuple[Client, LocalCluster | None]:
    # allowed-failures counts the *extra* workers a task may take down: one retry on worker
    # loss, as the process pool does. A remote scheduler has its own setting (see README).
    with dask.config.set({"distributed.scheduler.allowed-failures": MAX_LOSSES - 1}):
        try:
            if address == "local":
                cluster = LocalCluster(
                    n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None,
                    silence_logs=logging.ERROR,
                )  # fmt: skip
                return Client(cluster), cluster
            return Client(address, timeout="30s"), None
        except OSError as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {address} ({exc})") from exc


def run_dask(
    items: Sequence[WorkItem], out_dir: Path, options: Options, task: Task, accept: Accept, address: str, jobs: int
) -> None:
    """One file per worker thread in flight, as the process pool does: a worker gets its next
    file when it is free, so no file waits behind a long PDF on a busy worker while another
    worker idles (and the scheduler need not hold a million tasks); results are accepted in
    the order they finish."""
    out_dir = out_dir.absolute()  # workers may run in another folder (or on another machine)
    client, cluster = _connect(address, jobs)
    level = logging.getLogger("pipeline").getEffectiveLevel()
    futures: dict[str, WorkItem] = {}
    try:
        client.register_plugin(PrepareWorker(options, level))
        threads = sum(client.nthreads().values()) or jobs
        window = max(1, threads)
        pending = list(reversed(items))
        running = as_completed()

        def submit() -> None:
            item = pending.pop()
            # retries= re-runs a task that raised (convert_one only raises on what it cannot
            # catch, such as a result that does not pickle); worker loss is allowed-failures.
            future = client.submit(
                task, item, out_dir, options, key=f"gazette-convert-{uuid.uuid4().hex}", pure=False, retries=1
            )
            futures[future.key] = item
            running.add(future)

        while pending and running.count() < window:
            submit()
        for future in running:
            item = futures.pop(future.key)
            try:
                result: FileResult = future.result()
            except KilledWorker as exc:
                result = lost(item, f"dask: {exc}")
            except Exception as exc:
                result = task_failed(item, exc, "on the Dask worker")
            if not accept(result):
                pending.clear()
            while pending and running.count() < window:
                submit()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

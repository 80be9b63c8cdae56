"""Batch conversion of whole archives: resumable, parallel, with progress; on Dask when one
machine is not enough.

    from pipeline.batch import BatchOptions, convert_many
    summary = convert_many(["archive/"], "out/", Options(), BatchOptions(jobs=4))

`convert_one` is the unit of work (one file → its outputs), the same function in this
process, in a process pool or on a Dask worker; the parent alone records results in the
manifest (OUT_DIR/.gazette/manifest.sqlite), reports progress and writes errors.jsonl and
documents.jsonl.
"""

from __future__ import annotations

from pipeline.batch.progress import print_summary
from pipeline.batch.run import BatchOptions, BatchSummary, convert_many
from pipeline.batch.task import FileResult, convert_one
from pipeline.batch.walk import WorkItem, find_inputs

__all__ = [
    "BatchOptions",
    "BatchSummary",
    "FileResult",
    "WorkItem",
    "convert_many",
    "convert_one",
    "find_inputs",
    "print_summary",
]

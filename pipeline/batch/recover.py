"""Rows of a lost manifest, rebuilt from the outputs on disk.

When the manifest was damaged and set aside, the outputs it described are still there. Each
input whose Document (its `.json` output, or its documents.jsonl part) names the input's
current content (sha256) and the fingerprints that made it is recorded as done again, so a
damaged manifest costs a re-hash of the inputs, not a night of OCR. An input whose outputs
cannot be read, or describe other content, is simply converted again.
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.batch.manifest import Manifest
from pipeline.batch.task import FileResult, jsonl_part
from pipeline.batch.walk import WorkItem
from pipeline.document import Document
from pipeline.export import SUFFIXES, output_files
from pipeline.export.json import from_json
from pipeline.ingest import sha256_of

__all__ = ["rebuild_rows"]

log = logging.getLogger(__name__)


def _stored_document(item: WorkItem, out_dir: Path) -> Document | None:
    stem = out_dir / item.relative
    for path in (stem.with_name(stem.name + SUFFIXES["json"]), out_dir / jsonl_part(item.relative)):
        try:
            return from_json(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
    return None


def rebuild_rows(manifest: Manifest, items: list[WorkItem], out_dir: Path) -> int:
    """Record as done every input whose stored Document still describes it; the count."""
    adopted = 0
    for item in items:
        document = _stored_document(item, out_dir)
        fingerprints = document.provenance.fingerprints if document else {}
        if document is None or "text" not in fingerprints or "plan" not in fingerprints:
            continue
        try:
            stat = item.path.stat()
            if sha256_of(item.path) != document.sha256:
                continue
        except OSError:
            continue
        stem = out_dir / item.relative
        outputs = output_files(stem)
        if (part := out_dir / jsonl_part(item.relative)).exists():
            outputs.append(part)
        formats = tuple(f for f, suffix in SUFFIXES.items() if stem.with_name(stem.name + suffix).exists())
        formats += ("page",) * any(p.name.endswith(".page.xml") for p in outputs)
        formats += ("jsonl",) * part.exists()
        result = FileResult(
            item,
            True,
            pages=len(document.pages),
            sha256=document.sha256,
            size=stat.st_size,
            mtime_ns=stat.st_mtime_ns,
            outputs=[str(p.relative_to(out_dir)) for p in outputs],
        )
        manifest.record(result, f"{fingerprints['text']}+{fingerprints['plan']}", formats)
        adopted += 1
    log.warning("rebuilt the manifest: %d of %d inputs are done according to their outputs", adopted, len(items))
    return adopted

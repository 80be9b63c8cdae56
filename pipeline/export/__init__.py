"""Exports of a Document, one module per format; `write_outputs` writes the chosen ones."""

from __future__ import annotations

from pathlib import Path

from pipeline.document import Document
from pipeline.export.json import to_json, to_jsonl_line
from pipeline.export.text import to_text
from pipeline.files import atomic_write_text

__all__ = ["SUFFIXES", "to_json", "to_jsonl_line", "to_text", "write_outputs"]

# Outputs for one input are <stem><suffix>; jsonl is one file per run, written by the caller.
SUFFIXES = {"json": ".json", "txt": ".txt"}


def write_outputs(document: Document, stem: Path, formats: tuple[str, ...]) -> list[Path]:
    """Write each per-document format next to `stem` (e.g. out/plans/a.pdf → a.pdf.json)."""
    written = []
    for fmt in formats:
        if fmt not in SUFFIXES:
            continue
        target = stem.with_name(stem.name + SUFFIXES[fmt])
        atomic_write_text(target, to_json(document) if fmt == "json" else to_text(document))
        written.append(target)
    return written

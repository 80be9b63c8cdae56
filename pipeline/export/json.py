"""JSON and JSONL exports: the Document as its schema describes it."""

from __future__ import annotations

from pipeline.document import Document

__all__ = ["from_json", "to_json", "to_jsonl_line"]


def to_json(document: Document) -> str:
    return document.model_dump_json(indent=2, exclude_none=True) + "\n"


def to_jsonl_line(document: Document) -> str:
    """One document on one line, for other systems that stream documents."""
    return document.model_dump_json(exclude_none=True) + "\n"


def from_json(text: str) -> Document:
    return Document.model_validate_json(text)

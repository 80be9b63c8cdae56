"""Plain-text export: NFC, one line per OCR line, a form feed between pages."""

from __future__ import annotations

from pipeline.document import Document
from pipeline.vietnamese import nfc

__all__ = ["to_text"]


def to_text(document: Document) -> str:
    text = nfc(document.text)
    return text if text.endswith("\n") else text + "\n"

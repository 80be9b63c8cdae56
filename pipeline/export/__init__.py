"""Exports of a Document, one module per format; `write_outputs` writes the chosen ones.

json, txt, alto, hocr and pdf give one file per document, `<stem><suffix>`; PAGE XML holds
one page image per file, so `page` gives `<stem>.p0001.page.xml`, … (PAGE_NAME); jsonl is one
file per run, written by the caller. Every format but pdf is a pure function of the Document;
pdf reads the page images from the source again (see pipeline/export/pdf.py).
"""

from __future__ import annotations

import logging
from pathlib import Path

from pipeline.document import Document
from pipeline.export.alto import to_alto
from pipeline.export.hocr import to_hocr
from pipeline.export.json import to_json, to_jsonl_line
from pipeline.export.page import to_page_xml
from pipeline.export.text import to_text
from pipeline.files import atomic_write_files

__all__ = [
    "PAGE_NAME",
    "SUFFIXES",
    "output_files",
    "page_xml_path",
    "to_alto",
    "to_hocr",
    "to_json",
    "to_jsonl_line",
    "to_page_xml",
    "to_text",
    "write_outputs",
]

log = logging.getLogger(__name__)

SUFFIXES = {"json": ".json", "txt": ".txt", "alto": ".alto.xml", "page": ".page.xml", "hocr": ".hocr", "pdf": ".pdf"}
PAGE_NAME = "{stem}.p{number:04d}.page.xml"
_TEXT_WRITERS = {"json": to_json, "txt": to_text, "alto": to_alto, "hocr": to_hocr}


def page_xml_path(stem: Path, number: int) -> Path:
    return stem.with_name(PAGE_NAME.format(stem=stem.name, number=number))


def output_files(stem: Path) -> list[Path]:
    """The per-document outputs that exist for `stem`, of every format (PAGE's one per page)."""
    paths = [stem.with_name(stem.name + suffix) for fmt, suffix in SUFFIXES.items() if fmt != "page"]
    pages = stem.parent.glob(_glob_escape(stem.name) + ".p[0-9][0-9][0-9][0-9]*.page.xml")
    return [p for p in paths if p.exists()] + sorted(pages)


def _glob_escape(name: str) -> str:
    return "".join(f"[{c}]" if c in "*?[" else c for c in name)


def write_outputs(document: Document, stem: Path, formats: tuple[str, ...]) -> list[Path]:
    """Write each per-document format next to `stem` (e.g. out/plans/a.pdf → a.pdf.json).

    Every format is made before any file is written, and every file is complete on disk before
    any earlier output is replaced (`atomic_write_files`): a format that fails (the source of
    the pdf is gone) or a full disk leaves the document's earlier outputs as they were, never a
    mix of old and new. The pdf is made last (it is the slow one and the one that needs the
    source file), and skipped with a warning for text inputs, which have no page image; PAGE
    XML likewise covers only pages that have an image and word boxes.
    """
    contents: dict[Path, bytes] = {}
    for fmt in sorted(formats, key=lambda f: f == "pdf"):
        if fmt in _TEXT_WRITERS:
            contents[stem.with_name(stem.name + SUFFIXES[fmt])] = _TEXT_WRITERS[fmt](document).encode("utf-8")
        elif fmt == "page":
            pages = to_page_xml(document)
            skipped = [p.number for p in document.pages if p.number not in pages]
            if skipped:
                log.warning("%s: no PAGE XML for page(s) %s (no image or boxes)", document.source_path, skipped)
            for number, xml in pages.items():
                contents[page_xml_path(stem, number)] = xml.encode("utf-8")
        elif fmt == "pdf":
            from pipeline.export.pdf import has_page_images, to_pdf

            if not has_page_images(document):
                log.warning("%s: no searchable PDF for a text input (it has no page image)", document.source_path)
                continue
            contents[stem.with_name(stem.name + SUFFIXES[fmt])] = to_pdf(document)
    atomic_write_files({path: (data,) for path, data in contents.items()})
    return list(contents)

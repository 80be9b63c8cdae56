"""hOCR export (hOCR 1.2, XHTML): one file per document, an `ocr_page` per page.

ocr_page → ocr_carea (a run of lines) → ocr_line → ocrx_word, each with `bbox` in
original-image pixels and words with `x_wconf` (0–100, the machine's confidence in the
current text; absent for words a reviewer corrected, as in ALTO). The text is the current
(restored, corrected) text, NFC, `lang="vi"`. A token with a space in it (a restored merge,
"với nội") becomes one ocrx_word per word, as in ALTO. Pages without boxes (text inputs) are
written without `bbox`, which hOCR recommends but does not require, rather than invented
coordinates. Ids match ALTO's and the review journal's (`p1-l2-w3`).
"""

from __future__ import annotations

from lxml import etree

from pipeline.document import Box, Document, Page
from pipeline.export.layout import (
    LANGUAGE_CODES,
    LineView,
    WordPart,
    element_maker,
    image_reference,
    page_blocks,
    word_confidence,
    xml_file_name,
)

__all__ = ["XHTML_NS", "to_hocr"]

XHTML_NS = "http://www.w3.org/1999/xhtml"
_XML_NS = "http://www.w3.org/XML/1998/namespace"
_DOCTYPE = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN" '
    '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">'
)
_CAPABILITIES = "ocr_page ocr_carea ocr_line ocrx_word ocrp_wconf"
_el = element_maker(XHTML_NS)


def _title(box: Box | None, *extra: str) -> str | None:
    properties = ([f"bbox {box.x0} {box.y0} {box.x1} {box.y1}"] if box else []) + list(extra)
    return "; ".join(properties) or None


def _word(parent: etree._Element, part: WordPart) -> etree._Element:
    confidence = word_confidence(part.token)
    extra = [f"x_wconf {round(confidence * 100)}"] if confidence is not None else []
    return _el(parent, "span", part.text, **{"class": "ocrx_word", "id": part.id, "title": _title(part.box, *extra)})


def _line(parent: etree._Element, line: LineView) -> None:
    element = _el(parent, "span", **{"class": "ocr_line", "id": line.id, "title": _title(line.box)})
    previous = None
    for part in line.parts:
        if previous is not None:
            previous.tail = " "  # the space between words is text, so copying the page gives words apart
        previous = _word(element, part)


def _page(body: etree._Element, document: Document, page: Page) -> None:
    size = Box(x0=0, y0=0, x1=page.width, y1=page.height) if page.width and page.height else None
    image = image_reference(document, page)
    properties = [f'image "{image}"', f"ppageno {page.number - 1}"]  # hOCR counts the front cover as 0
    if page.dpi:
        properties.append(f"scan_res {page.dpi} {page.dpi}")
    element = _el(body, "div", **{"class": "ocr_page", "id": f"p{page.number}", "title": _title(size, *properties)})
    for block in page_blocks(page):
        area = _el(element, "div", **{"class": "ocr_carea", "id": block.id, "title": _title(block.box)})
        for line in block.lines:
            _line(area, line)
            _el(area, "br")  # so a browser shows the lines as lines


def to_hocr(document: Document) -> str:
    """The document as hOCR (XHTML, UTF-8)."""
    language = LANGUAGE_CODES.get(document.language or "vi", "vi")
    root = etree.Element(f"{{{XHTML_NS}}}html", nsmap={None: XHTML_NS})
    root.set(f"{{{_XML_NS}}}lang", language)
    root.set("lang", language)
    head = _el(root, "head")
    _el(head, "title", xml_file_name(document.source_path))
    _el(head, "meta", **{"http-equiv": "Content-Type", "content": "text/html;charset=utf-8"})
    _el(head, "meta", name="ocr-system", content=f"gazette {document.provenance.gazette_version}")
    _el(head, "meta", name="ocr-capabilities", content=_CAPABILITIES)
    _el(head, "meta", name="ocr-number-of-pages", content=str(len(document.pages)))
    _el(head, "meta", name="ocr-langs", content=language)
    _el(head, "meta", name="ocr-scripts", content="Latn")
    body = _el(root, "body")
    for page in document.pages:
        _page(body, document, page)
    text = etree.tostring(root, encoding="unicode", pretty_print=True)
    return f'<?xml version="1.0" encoding="UTF-8"?>\n{_DOCTYPE}\n{text}'

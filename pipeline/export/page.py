"""PAGE XML 2019-07-15 export (http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15).

PAGE describes one page image per file (PcGts has exactly one Page), so a document gives one
XML per page; `write_outputs` names them `<stem>.p0001.page.xml`. PAGE needs an image and
coordinates on every region, line and word, so only pages with a known size and word boxes
(OCR'd pages) are exported; text files and PDF text-layer pages have none and are skipped
rather than given invented coordinates.

TextEquiv index convention. The schema says only that the TextEquiv with the lowest index is
the main text. We follow the tools that store corrections beside OCR output: LAREX/OCR4all
writes the human (ground-truth) text as index 0 and the prediction as index 1, and the OCR-D
spec numbers a recogniser's alternatives from index 1 (see OCR4all/LAREX#282 and
qurator-spk/dinglehopper#33). Every Word therefore has, in ascending order:

- index 0: the reviewer's corrected text, only when the word was corrected (no conf: a
  person wrote it);
- index 1: the machine's final reading, i.e. restored text when restore changed the word,
  else the OCR text, with its confidence (restore model's, else tesseract's);
- index 2: the text exactly as OCR read it (Token.source_text, tesseract's confidence), only
  when restore changed it.

So the first TextEquiv of a word is always its current text, TextLine and TextRegion carry
the concatenated current text (the consistency OCR-D checks), and a split restored token
("véindi" → "với nội") stays one Word whose index 2 keeps the merged OCR reading.
Coordinates are the word boxes in original-image pixels; `imageFilename` is the source path,
with `#page=N` (RFC 8118) for PDF pages. `Created` and `LastChange` are the document's
`layout.export_time` (the latest correction's time, else a constant epoch), not the clock, so
a re-export writes the same bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime

from lxml import etree

from pipeline.document import Box, Document, Page, Token
from pipeline.errors import ExportError
from pipeline.export.layout import (
    LANGUAGE_NAMES,
    clip,
    element_maker,
    export_time,
    image_reference,
    is_corrected,
    page_blocks,
    short_number,
    xml_file_name,
)
from pipeline.vietnamese import clean_text

__all__ = ["PAGE_NS", "exportable_pages", "page_to_xml", "to_page_xml"]

PAGE_NS = "http://schema.primaresearch.org/PAGE/gts/pagecontent/2019-07-15"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_SCHEMA_LOCATION = f"{PAGE_NS} {PAGE_NS}/pagecontent.xsd"
_el = element_maker(PAGE_NS)


def _points(box: Box) -> str:
    return f"{box.x0},{box.y0} {box.x1},{box.y0} {box.x1},{box.y1} {box.x0},{box.y1}"


def _text_equiv(parent: etree._Element, text: str, index: int | None = None, conf: float | None = None) -> None:
    equiv = _el(
        parent, "TextEquiv",
        index=str(index) if index is not None else None,
        conf=short_number(conf) if conf is not None else None,
    )  # fmt: skip
    _el(equiv, "Unicode", clean_text(text))


def _timestamp(moment: datetime) -> str:
    return moment.astimezone(UTC).replace(microsecond=0, tzinfo=None).isoformat() + "Z"


def _has_image(page: Page) -> bool:
    return bool(page.width and page.height) and all(t.box for line in page.lines for t in line.tokens if t.text.strip())


def exportable_pages(document: Document) -> list[Page]:
    """Pages PAGE XML can describe: an image of known size and a box on every word."""
    return [page for page in document.pages if _has_image(page)]


def _metadata(root: etree._Element, document: Document, page: Page, created: str) -> None:
    provenance = document.provenance
    metadata = _el(root, "Metadata")
    _el(metadata, "Creator", f"gazette {provenance.gazette_version}")
    _el(metadata, "Created", created)
    _el(metadata, "LastChange", created)
    source = xml_file_name(document.source_path)
    _el(metadata, "Comments", f"page {page.number} of {len(document.pages)} of {source} (sha256 {document.sha256})")
    steps = [("gazette", provenance.gazette_version), *sorted(provenance.engines.items())]
    steps += [(f"{stage} model", model) for stage, model in sorted(provenance.models.items())]
    for name, value in steps:
        _el(metadata, "MetadataItem", type="processingStep", name=name, value=value)
    corrections = [c for line in page.lines for t in line.tokens for c in t.corrections]
    if corrections:
        reviewers = ", ".join(sorted({c.reviewer for c in corrections}))
        _el(metadata, "MetadataItem", type="processingStep", name="review", value=f"corrected by {reviewers}")


def _word(parent: etree._Element, tid: str, token: Token, box: Box) -> None:
    word = _el(parent, "Word", id=tid)
    _el(word, "Coords", points=_points(box))
    machine = token.machine_text
    if is_corrected(token):
        _text_equiv(word, token.text, 0)
    _text_equiv(word, machine, 1, token.machine_confidence)
    if machine != token.source_text:
        _text_equiv(word, token.source_text, 2, token.ocr_confidence)


def page_to_xml(document: Document, page: Page, *, now: datetime | None = None) -> str:
    """One page of the document as a PAGE XML file (raises ExportError for a page without image)."""
    if not _has_image(page):
        raise ExportError(
            f"page {page.number} has no image size or word boxes (a text input or PDF text layer)",
            path=document.source_path,
            advice="PAGE XML describes page images; use the alto, txt or json formats for text inputs.",
        )
    root = etree.Element(f"{{{PAGE_NS}}}PcGts", nsmap={None: PAGE_NS, "xsi": _XSI})
    root.set(f"{{{_XSI}}}schemaLocation", _SCHEMA_LOCATION)
    root.set("pcGtsId", f"sha256-{document.sha256[:16]}-p{page.number}")
    _metadata(root, document, page, _timestamp(now or export_time(document)))
    image = image_reference(document, page)
    resolution = {"imageXResolution": str(page.dpi), "imageYResolution": str(page.dpi)} if page.dpi else {}
    element = _el(
        root, "Page", imageFilename=image, imageWidth=str(page.width), imageHeight=str(page.height),
        **resolution, imageResolutionUnit="PPI" if page.dpi else None,
        orientation=short_number(page.deskew_angle) if page.deskew_angle else None,
        primaryLanguage=LANGUAGE_NAMES.get(document.language or ""),
    )  # fmt: skip
    blocks = page_blocks(page)
    if blocks:
        order = _el(_el(element, "ReadingOrder"), "OrderedGroup", id=f"p{page.number}-ro")
        for index, block in enumerate(blocks):
            _el(order, "RegionRefIndexed", index=str(index), regionRef=block.id)
    for block in blocks:
        assert block.box is not None
        region = _el(element, "TextRegion", id=block.id)
        _el(region, "Coords", points=_points(block.box))
        for line in block.lines:
            assert line.box is not None
            text_line = _el(region, "TextLine", id=line.id)
            _el(text_line, "Coords", points=_points(line.box))
            for tid, token in line.tokens:
                if token.box is not None:  # every word with text has one (_has_image)
                    _word(text_line, tid, token, clip(token.box, page.width, page.height))
            _text_equiv(text_line, " ".join(part.text for part in line.parts))
        _text_equiv(region, "\n".join(" ".join(part.text for part in line.parts) for line in block.lines))
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + etree.tostring(root, encoding="unicode", pretty_print=True)


def to_page_xml(document: Document, *, now: datetime | None = None) -> dict[int, str]:
    """PAGE XML for every page that has an image and boxes, by page number (empty for text inputs)."""
    now = now or export_time(document)
    return {page.number: page_to_xml(document, page, now=now) for page in exportable_pages(document)}

"""ALTO 4.4 export (http://www.loc.gov/standards/alto/ns-v4#): one file per document.

- Description: MeasurementUnit pixel (of the original page image), the source file and its
  sha256, and one `Processing` step each for gazette, every engine (tesseract), every model
  (restore) and, when the document has corrections, the reviewers' manual correction
  (`OCRProcessing` is deprecated since ALTO 4.0 in favour of `Processing`).
- Layout: a Page per page (WIDTH/HEIGHT when known), a PrintSpace, a TextBlock per run of
  lines, TextLine, String (CONTENT = current text, WC, CS), SP between words.
- WC is the machine's confidence in the current text (see layout.word_confidence); CS="true"
  marks a word a reviewer corrected, which then has no WC (no machine scored its text).
  Restored or corrected words point at their processing step with PROCESSINGREFS, and keep
  the text as OCR read it in an ALTERNATIVE with PURPOSE="ocr".
- A token whose text holds a space (a restored merge, "với nội") becomes one String per word,
  sharing its box in proportion to length, ids `p1-l2-w3-1`, `p1-l2-w3-2`.
- Pages of text files (and PDF text layers) have no boxes. ALTO 4.x makes every coordinate
  optional, so they are written without any rather than with invented ones.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from pipeline.document import Box, Document, Page
from pipeline.export.layout import (
    LineView,
    WordPart,
    element_maker,
    is_corrected,
    is_restored,
    page_blocks,
    short_number,
    word_confidence,
    xml_file_name,
)
from pipeline.vietnamese import clean_text

__all__ = ["ALTO_NS", "to_alto"]

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v4#"
_XSI = "http://www.w3.org/2001/XMLSchema-instance"
_SCHEMA_LOCATION = f"{ALTO_NS} http://www.loc.gov/standards/alto/v4/alto-4-4.xsd"
_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


_el = element_maker(ALTO_NS)


def _coords(box: Box | None) -> dict[str, str]:
    if box is None:
        return {}
    return {"HPOS": str(box.x0), "VPOS": str(box.y0), "WIDTH": str(box.width), "HEIGHT": str(box.height)}


def _xsd_datetime(value: str) -> str | None:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment.isoformat()


def _processing_step(
    description: etree._Element,
    step_id: str,
    category: str,
    software: tuple[str, str],
    *,
    explanation: str | None = None,
    settings: str | None = None,
    agency: str | None = None,
    when: str | None = None,
) -> None:
    step = _el(description, "Processing", ID=step_id)
    _el(step, "processingCategory", category)
    if when:
        _el(step, "processingDateTime", when)
    if agency:
        _el(step, "processingAgency", agency)
    if explanation:
        _el(step, "processingStepDescription", explanation)
    if settings:
        _el(step, "processingStepSettings", settings)
    program = _el(step, "processingSoftware")
    _el(program, "softwareName", software[0])
    _el(program, "softwareVersion", software[1])


def _description(root: etree._Element, document: Document) -> dict[str, str]:
    """Writes the Description; returns the processing ids the Strings refer to."""
    description = _el(root, "Description")
    _el(description, "MeasurementUnit", "pixel")
    source = _el(description, "sourceImageInformation")
    _el(source, "fileName", xml_file_name(document.source_path))
    _el(source, "fileIdentifier", document.sha256, fileIdentifierLocation="sha256")
    provenance = document.provenance
    settings = "; ".join(f"{k}={v}" for k, v in sorted(provenance.settings.items()))
    _processing_step(
        description, "proc-gazette", "contentGeneration", ("gazette", provenance.gazette_version),
        explanation=f"gazette convert of a {document.kind} file", settings=settings or None,
    )  # fmt: skip
    for n, (engine, version) in enumerate(sorted(provenance.engines.items()), 1):
        _processing_step(description, f"proc-engine-{n}", "contentGeneration", (engine, version))
    refs: dict[str, str] = {}
    for n, (stage, model_id) in enumerate(sorted(provenance.models.items()), 1):
        refs[stage] = f"proc-model-{n}"
        _processing_step(
            description, refs[stage], "contentModification", (f"gazette {stage} model", model_id),
            explanation=f"{stage}: words rewritten by the model keep the OCR reading as ALTERNATIVE",
        )  # fmt: skip
    corrections = [c for _, _, _, t in document.tokens() for c in t.corrections]
    corrected = sum(1 for _, _, _, t in document.tokens() if is_corrected(t))
    if corrected:
        refs["review"] = "proc-review"
        times = sorted(filter(None, (_xsd_datetime(c.time) for c in corrections)))
        _processing_step(
            description, "proc-review", "contentModification", ("gazette review", provenance.gazette_version),
            explanation=f"words corrected by reviewers: {corrected}", when=times[-1] if times else None,
            agency=", ".join(sorted({c.reviewer for c in corrections})) or None,
        )  # fmt: skip
    return refs


def _string(parent: etree._Element, part: WordPart, refs: dict[str, str]) -> None:
    token = part.token
    confidence = word_confidence(token)
    corrected = is_corrected(token)
    processing = [refs["restore"]] if is_restored(token) and "restore" in refs else []
    if corrected and "review" in refs:
        processing.append(refs["review"])
    string = _el(
        parent, "String", ID=part.id, **_coords(part.box), CONTENT=part.text,
        WC=short_number(confidence) if confidence is not None else None,
        CS="true" if corrected else None,
        PROCESSINGREFS=" ".join(processing) or None,
    )  # fmt: skip
    ocr_reading = clean_text(token.source_text)  # compared as written: an empty ALTERNATIVE says nothing
    if part.first and ocr_reading and ocr_reading != clean_text(token.text):
        _el(string, "ALTERNATIVE", ocr_reading, PURPOSE="ocr")


def _spacing(left: WordPart, right: WordPart) -> dict[str, str]:
    if left.box is None or right.box is None or right.box.x0 < left.box.x1:
        return {}
    top, bottom = min(left.box.y0, right.box.y0), max(left.box.y1, right.box.y1)
    return _coords(Box(x0=left.box.x1, y0=top, x1=right.box.x0, y1=bottom))


def _text_line(block: etree._Element, line: LineView, refs: dict[str, str]) -> None:
    element = _el(block, "TextLine", ID=line.id, **_coords(line.box))
    if line.tokens and all(is_corrected(t) for _, t in line.tokens):
        element.set("CS", "true")  # ALTO asks for the correction status at the highest level that holds
    for n, part in enumerate(line.parts):
        if n:
            _el(element, "SP", **_spacing(line.parts[n - 1], part))
        _string(element, part, refs)


def _page(layout: etree._Element, page: Page, language: str | None, refs: dict[str, str]) -> None:
    size = {"WIDTH": str(page.width), "HEIGHT": str(page.height)} if page.width and page.height else {}
    element = _el(layout, "Page", ID=f"p{page.number}", PHYSICAL_IMG_NR=str(page.number), LANG=language, **size)
    blocks = page_blocks(page)
    print_space = Box.union([b.box for b in blocks if b.box])
    space = _el(element, "PrintSpace", ID=f"p{page.number}-ps", **_coords(print_space))
    for block in blocks:
        text_block = _el(space, "TextBlock", ID=block.id, **_coords(block.box))
        for line in block.lines:
            _text_line(text_block, line, refs)


def to_alto(document: Document) -> str:
    """The document as ALTO 4.4 XML (UTF-8, NFC)."""
    root = etree.Element(f"{{{ALTO_NS}}}alto", nsmap={None: ALTO_NS, "xsi": _XSI})
    root.set(f"{{{_XSI}}}schemaLocation", _SCHEMA_LOCATION)
    root.set("SCHEMAVERSION", "4.4")
    refs = _description(root, document)
    layout = _el(root, "Layout")
    for page in document.pages:
        _page(layout, page, document.language, refs)
    return _XML_DECLARATION + etree.tostring(root, encoding="unicode", pretty_print=True)

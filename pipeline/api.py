"""The Python API: what the CLI, batch runs and notebooks all call.

from pipeline import convert, Options
doc = convert("plan.pdf", Options(language="vie"))
print(doc.text)
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import numpy as np
from PIL import Image

from pipeline import __version__
from pipeline.document import Document, Line, Page, Plan, Provenance, Token
from pipeline.errors import EmptyInputError
from pipeline.filenames import display_path, file_uri
from pipeline.fingerprint import plan_fingerprint, text_fingerprint
from pipeline.ingest import ImagePage, TextPage, open_source
from pipeline.ocr import OcrTimeoutError, ocr_array, probe
from pipeline.options import Options
from pipeline.preprocess import prepare
from pipeline.restore.calibration import default_calibration

__all__ = ["convert", "ocr_image", "resegment", "restore_lines", "segment_text", "text_to_page"]

log = logging.getLogger(__name__)


class _Clock:
    """Accumulates seconds per stage across pages."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}

    def add(self, stage: str, since: float) -> float:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - since
        return now


def text_to_page(text: str, number: int = 1, source: str = "text-file") -> Page:
    """A page of already-OCR'd text: one Line per text line (blank lines kept), no boxes."""
    lines = [Line(tokens=[Token(text=w, source_text=w) for w in raw.split()]) for raw in text.splitlines()]
    return Page(number=number, source=source, lines=lines)


def ocr_image(
    image: Image.Image | np.ndarray,
    options: Options | None = None,
    *,
    number: int = 1,
    dpi: int | None = None,
    clock: _Clock | None = None,
) -> Page:
    """OCR one page image: clean it up, run tesseract, map boxes back to the original image."""
    options = options or Options()
    clock = clock or _Clock()
    started = time.perf_counter()
    prepared = prepare(image, options)
    width, height = prepared.original_size
    started = clock.add("preprocess", started)
    page = Page(number=number, source="ocr", width=width, height=height, dpi=dpi, deskew_angle=prepared.angle)
    try:
        result = ocr_array(
            prepared.image, language=options.language, dpi=dpi or options.dpi, timeout=options.ocr_timeout
        )
    except OcrTimeoutError as exc:
        log.warning("page %d: %s", number, exc.message)
        page.warnings = [f"ocr-timeout: {exc.problem}"]
        clock.add("ocr", started)
        return page
    lines = []
    for line in result.lines:
        tokens = []
        for token in line.tokens:
            flags = ["low-confidence"] if (token.ocr_confidence or 0) < options.low_confidence else []
            box = prepared.to_original(token.box) if token.box else None
            tokens.append(token.model_copy(update={"box": box, "flags": flags}))
        lines.append(Line(box=prepared.to_original(line.box) if line.box else None, tokens=tokens))
    page.lines = lines
    page.warnings = [*result.warnings, *([] if lines else ["no text found on this page"])]
    clock.add("ocr", started)
    return page


def restore_lines(lines: list[str], running: bool = False) -> list:  # list[RestoredLine]; model loaded on first use
    """Restore Vietnamese in lines of English-model OCR text; same lines and tokens out as in.
    `running`: the lines are one text in reading order (read across line ends, labels repaired)."""
    from pipeline.restore.api import restore_lines as restore

    return restore(lines, running=running)


def _restore_pages(pages: list[Page], options: Options, models: dict[str, str], warnings: list[str]) -> list[Page]:
    """Text pages that look like English-model OCR are restored whole; on vie OCR pages every
    word is corrected in context (Options.correct_vie) and the low-confidence tokens restored.
    Without an installed model, auto mode leaves the text as is."""
    from pipeline.restore.api import get_restorer, looks_garbled, repair_page_labels, restore_page, vie_corrector
    from pipeline.restore.confidence import default_word_right
    from pipeline.restore.paths import has_model

    if options.restore == "auto" and not has_model():
        warnings.append("restore model not installed (models/restore): text left as read")
        return pages
    restorer = get_restorer()
    restored = []
    for page in pages:
        if page.source == "ocr" and options.restore == "auto":
            below: float | None = options.restore_below
        elif options.restore == "always" or looks_garbled(page.text, restorer):
            below = None
        else:
            restored.append(page)
            continue
        correct = options.correct_vie and below is not None
        restored.append(restore_page(page, below, restorer, score_words=options.score_words, correct=correct))
        models["restore"] = restorer.model_id
        corrector = vie_corrector(restorer) if correct else None
        if corrector is not None:
            models["restore_vie"] = corrector.name
        # What restore_confidence is: the word-right model's probability (its id, word-right-…)
        # when it is shipped and the LM rescores, else the calibrated network probability.
        word_right = default_word_right() if restorer.rescorer is not None and options.score_words else None
        models["restore_calibration"] = word_right.name if word_right else default_calibration().name
    return repair_page_labels(restored)


def convert(path: str | Path, options: Options | None = None) -> Document:
    """Read one PDF, image or text file into a Document (raises GazetteError subclasses)."""
    options = options or Options()
    clock = _Clock()
    started = time.perf_counter()
    source = open_source(path, options)
    items = source.pages()
    engines: dict[str, str] = {}
    pages: list[Page] = []
    # Pages are produced lazily (a PDF page is rasterised when asked for), so the time spent
    # inside the generator is ingest time.
    while (item := next(items, None)) is not None:
        clock.add("ingest", started)
        if isinstance(item, TextPage):
            pages.append(text_to_page(item.text, item.number, item.source))
        else:
            assert isinstance(item, ImagePage)
            engines.setdefault("tesseract", probe(options.language))
            pages.append(ocr_image(item.image, options, number=item.number, dpi=item.dpi, clock=clock))
        started = time.perf_counter()
    clock.add("ingest", started)
    if not any(line.tokens for page in pages for line in page.lines):
        timed_out = [p.number for p in pages if any(w.startswith("ocr-timeout") for w in p.warnings)]
        if timed_out:  # not an empty document: one whose text tesseract did not finish reading
            raise OcrTimeoutError(
                f"no text read: page(s) {', '.join(map(str, timed_out))} timed out after {options.ocr_timeout:g} s",
                path=source.path,
            )
        raise EmptyInputError("no text found on any page", path=source.path)
    warnings: list[str] = []
    models: dict[str, str] = {}
    if options.restore != "never":
        started = time.perf_counter()
        pages = _restore_pages(pages, options, models, warnings)
        clock.add("restore", started)
    provenance = Provenance(
        gazette_version=__version__,
        engines=engines,
        models=models,
        settings={
            "language": options.language,
            "dpi": options.dpi,
            "binarize": options.binarize,
            "restore": options.restore,
        },
    )
    for stage, seconds in clock.seconds.items():
        provenance.add_timing(stage, seconds)
    provenance.fingerprints = {"text": text_fingerprint(options)[0]}
    document = Document(
        source_path=display_path(source.path),
        source_uri=file_uri(source.path),
        sha256=source.sha256,
        kind=source.kind,
        encoding=source.encoding,
        pages=pages,
        provenance=provenance,
        warnings=warnings,
    )
    return resegment(document)


def segment_text(text: str) -> Plan | None:
    """The plan in a text: metadata, sections, tasks, agencies; None when it is not a plan."""
    from pipeline.segment import segment_text as segment

    return segment(text)


def resegment(document: Document) -> Document:
    """Language and plan of the document's current text (corrections included), in place; a
    text that is no plan is flagged, not forced. Spans are offsets into that text."""
    from pipeline.segment import detect_language

    text = document.text
    document.language = detect_language(text)
    document.plan = segment_text(text)
    flags = [f for f in document.flags if f != "not-a-plan"]
    document.flags = flags if document.plan is not None else [*flags, "not-a-plan"]
    document.provenance.fingerprints = {**document.provenance.fingerprints, "plan": plan_fingerprint()}
    return document

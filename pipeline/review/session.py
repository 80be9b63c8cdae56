"""What the review widget shows and does, without any widget: one reviewer on one output folder.

The session keeps each document as converted (its JSON) and derives what the reviewer sees
by applying the journal to it, again after every save, so other reviewers' edits and
conflicts appear as soon as the journal has them. Kept apart from the widget so it tests
without a browser. Everything the browser shows is decided here (a word's conflict, whether
it is pending, the confidence, which is the one the exports write), so the browser only draws.
"""

from __future__ import annotations

import getpass
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

from pipeline.document import Box, Document, Token, parse_token_id
from pipeline.errors import GazetteError, ReviewError
from pipeline.export.layout import word_confidence
from pipeline.review.attention import DOUBTFUL, LOW, Low, TokenReview, review_states
from pipeline.review.corrections import ConvertedDocument, find_documents, load_document
from pipeline.review.images import has_image, page_image, verified_source
from pipeline.review.journal import (
    CorrectionRecord,
    Journal,
    OrphanCorrection,
    apply_corrections,
    correction_conflicts,
    new_record,
)
from pipeline.vietnamese import clean_text

__all__ = ["ReviewSession", "default_reviewer"]

log = logging.getLogger(__name__)

REVIEW_DPI = 150  # PDF pages are rasterised again for display; boxes are scaled by the SVG viewBox
MAX_IMAGE_WIDTH = 1400


def default_reviewer() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "reviewer"


class AgencyView(TypedDict):
    text: str
    candidates: list[str]


class TokenView(TypedDict):
    """One word as the browser draws it (static/review.js reads these keys)."""

    id: str
    text: str
    box: list[int] | None
    level: str
    confidence: float | None  # the exports' confidence (ALTO WC, hOCR x_wconf): None once a reviewer wrote it
    ocr_confidence: float | None
    restore_confidence: float | None
    ocr: str
    restored: str | None
    agency: AgencyView | None
    flagged: bool
    pending: bool
    reviewed: bool
    corrected: bool
    conflict: bool  # journal.open_conflict: drawn as a conflict as long as it is open
    history: list[dict[str, object]]  # Correction fields and "conflict" (made on a text someone else changed)


class LineView(TypedDict):
    box: list[int] | None
    tokens: list[TokenView]


@dataclass
class PageView:
    """One page as the widget draws it."""

    number: int
    width: int | None
    height: int | None
    lines: list[LineView]
    image: bytes = b""
    image_note: str = ""


@dataclass
class ReviewSession:
    out_dir: Path
    reviewer: str = field(default_factory=default_reviewer)
    source_root: Path | None = None
    low_confidence: float | Low = LOW  # words less likely right than this are queued
    documents: list[ConvertedDocument] = field(init=False)
    relative: str = field(init=False, default="")
    base: Document | None = field(init=False, default=None)  # as converted: the journal is applied to it
    document: Document | None = field(init=False, default=None)  # as reviewed: base + journal
    states: dict[str, TokenReview] = field(init=False, default_factory=dict)
    orphans: list[OrphanCorrection] = field(init=False, default_factory=list)
    _images: dict[tuple[str, int], tuple[bytes, str, tuple[int, int] | None]] = field(init=False, default_factory=dict)
    _source: Path | GazetteError | None = field(init=False, default=None)  # the open document's, verified once

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)
        self.journal = Journal(self.out_dir)
        self.documents = find_documents(self.out_dir)

    def open(self, relative: str) -> None:
        converted = next((d for d in self.documents if d.relative == relative), None)
        if converted is None:
            raise ReviewError(f"no converted document {relative!r}", path=self.out_dir)
        self.relative = relative
        self.base = load_document(converted)
        self._source = None  # verified again on the first page image: the file may have been put back
        self._images = {key: value for key, value in self._images.items() if key[0] != relative}
        self.refresh()

    def refresh(self) -> None:
        """Re-read the journal: this reviewer's and everyone else's corrections."""
        assert self.base is not None
        records = self.journal.records_for(self.base, self.relative)
        self.document, self.orphans = apply_corrections(self.base, records)
        self.states = review_states(self.document, self.low_confidence)

    def save(self, token: str, text: str, previous: str) -> CorrectionRecord:
        """Journal the reviewer's text for a token (durably, before returning) and show it."""
        assert self.document is not None
        text = " ".join(clean_text(text).split())  # a pasted control character is no part of a word
        if not text:
            raise ReviewError(
                "a word cannot be empty",
                path=self.relative,
                advice="To delete a word, note it in the text of its neighbour.",
            )
        record = new_record(self.document, self.relative, token, text, self.reviewer, previous=previous)
        self.journal.append(record)
        self.refresh()
        return record

    # --- navigation ---------------------------------------------------------------------

    def next_token(self, after: str | None, step: int) -> str | None:
        """The next word still to review after `after` (step 1, wrapping round), or the previous
        flagged word before it (step -1, reviewed or not, so a reviewer can step back)."""
        ids = list(self.states)
        wanted = [tid for tid in ids if (self.states[tid].pending if step > 0 else self.states[tid].flagged)]
        if not wanted:
            return None
        if after is None or after not in self.states:
            return wanted[0] if step > 0 else wanted[-1]
        position = ids.index(after)
        order = ids[position + 1 :] + ids[: position + 1] if step > 0 else ids[:position][::-1] + ids[position:][::-1]
        wanted_set = set(wanted)
        return next((tid for tid in order if tid in wanted_set), None)

    def counts(self, page: int | None = None) -> dict[str, int]:
        in_page = [s for tid, s in self.states.items() if page is None or parse_token_id(tid)[0] == page]
        return {
            "pending": sum(s.pending for s in in_page),
            "flagged": sum(s.flagged for s in in_page),
            "reviewed": sum(s.reviewed for s in in_page),
        }

    # --- what the widget draws --------------------------------------------------------------

    def page_view(self, number: int) -> PageView:
        assert self.document is not None
        page = next((p for p in self.document.pages if p.number == number), None)
        if page is None:
            raise ReviewError(f"the document has no page {number}", path=self.relative)
        tokens: dict[int, list[TokenView]] = {id(line): [] for line in page.lines}
        for tid, in_page, line, token in self.document.tokens():
            if in_page is page:
                tokens[id(line)].append(_token_view(tid, token, self.states[tid]))
        lines = [LineView(box=_box(line.box), tokens=tokens[id(line)]) for line in page.lines]
        view = PageView(number, page.width, page.height, lines)
        if has_image(self.document):
            view.image, view.image_note, size = self._image(number)
            if not page.width and size:  # a PDF page read from its text layer: no boxes, the image as is
                view.width, view.height = size
        else:
            view.image_note = "a text file: no page image"
        return view

    def _image(self, number: int) -> tuple[bytes, str, tuple[int, int] | None]:
        """The page as JPEG for display (and its size), or no image and why; the last few pages are kept."""
        assert self.document is not None
        key = (self.relative, number)
        if key not in self._images:
            try:
                source = self._verified_source()
                image = page_image(self.document, number, dpi=REVIEW_DPI, source=source).image
                image.thumbnail((MAX_IMAGE_WIDTH, MAX_IMAGE_WIDTH * 2))
                jpeg = io.BytesIO()
                image.save(jpeg, format="JPEG", quality=85)
                self._images[key] = (jpeg.getvalue(), "", image.size)
            except GazetteError as exc:
                log.warning("%s", exc.message)
                self._images[key] = (b"", exc.message, None)
            if len(self._images) > 6:
                self._images.pop(next(iter(self._images)))
        return self._images[key]

    def _verified_source(self) -> Path:
        """The open document's source file, its sha256 checked once per opening (it hashes the file)."""
        assert self.document is not None
        if self._source is None:
            try:
                self._source = verified_source(self.document, self.source_root)
            except GazetteError as exc:
                self._source = exc
        if isinstance(self._source, GazetteError):
            raise self._source
        return self._source


def _box(box: Box | None) -> list[int] | None:
    return [box.x0, box.y0, box.x1, box.y1] if box is not None else None


def _token_view(tid: str, token: Token, state: TokenReview) -> TokenView:
    before = token.machine_text
    conflicts = correction_conflicts(token.corrections)
    history: list[dict[str, object]] = [
        {**correction.model_dump(), "conflict": conflict}
        for correction, conflict in zip(token.corrections, conflicts, strict=True)
    ]
    return {
        "id": tid,
        "text": token.text,
        "box": _box(token.box),
        "level": state.level,
        "confidence": word_confidence(token),
        "ocr_confidence": token.ocr_confidence,
        "restore_confidence": token.restore_confidence,
        "ocr": token.source_text,
        "restored": before if (before != token.source_text or token.restore_confidence is not None) else None,
        "agency": (
            {"text": state.agency.text, "candidates": [c.name for c in state.agency.candidates[:3]]}
            if state.agency
            else None
        ),
        "flagged": state.flagged,
        "pending": state.pending,
        "reviewed": state.reviewed,
        "corrected": "corrected" in token.flags,
        "conflict": state.conflict,
        "history": history,
    }


def _percent(p: float) -> str:
    return f"{100 * p:g} %"  # 94.5 %, not a rounded 94 %


def _low(low: Low) -> str:
    if low.ocr == low.text:
        return _percent(low.ocr)
    return f"{_percent(low.ocr)} (words read by OCR) or {_percent(low.text)} (words of a text file)"


LEGEND = [
    (
        "low",
        f"probably wrong: the chance that the word is right is below {_low(LOW)}; queued for review. "
        "The chance combines the OCR confidence, the restore model and the language model, and is checked "
        "on plans it was not fitted on: of the words given 80 %, about 8 in 10 are right",
    ),
    ("doubtful", f"doubtful: chance it is right between the red threshold and {_percent(DOUBTFUL)}; shown, not queued"),
    ("agency", "inside an agency name the lexicon does not know: queued"),
    ("reviewed", "reviewed (corrected or confirmed)"),
    ("conflict", "two reviewers disagreed: queued again"),
]

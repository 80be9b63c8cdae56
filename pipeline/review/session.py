"""What the review widget shows and does, without any widget: one reviewer on one output folder.

The session keeps each document as converted (its JSON) and derives what the reviewer sees
by applying the journal to it, again after every save, so other reviewers' edits and
conflicts appear as soon as the journal has them. Kept apart from the widget so it tests
without a browser.
"""

from __future__ import annotations

import getpass
import io
import logging
from dataclasses import dataclass, field
from pathlib import Path

from pipeline.document import Document, Token, token_id
from pipeline.errors import GazetteError
from pipeline.review.attention import DOUBTFUL, LOW, TokenReview, review_states
from pipeline.review.corrections import ConvertedDocument, find_documents, load_document
from pipeline.review.images import has_image, page_image
from pipeline.review.journal import CorrectionRecord, Journal, OrphanCorrection, apply_corrections, new_record
from pipeline.review.journal import original_text as text_before_review

__all__ = ["ReviewSession", "default_reviewer"]

log = logging.getLogger(__name__)

REVIEW_DPI = 150  # PDF pages are rasterised again for display; boxes are scaled by the SVG viewBox
MAX_IMAGE_WIDTH = 1400


def default_reviewer() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "reviewer"


@dataclass
class PageView:
    """One page as the widget draws it."""

    number: int
    width: int | None
    height: int | None
    lines: list[dict]
    image: bytes = b""
    image_note: str = ""


@dataclass
class ReviewSession:
    out_dir: Path
    reviewer: str = field(default_factory=default_reviewer)
    source_root: Path | None = None
    documents: list[ConvertedDocument] = field(init=False)
    relative: str = field(init=False, default="")
    base: Document | None = field(init=False, default=None)  # as converted: the journal is applied to it
    document: Document | None = field(init=False, default=None)  # as reviewed: base + journal
    states: dict[str, TokenReview] = field(init=False, default_factory=dict)
    orphans: list[OrphanCorrection] = field(init=False, default_factory=list)
    _images: dict[tuple[str, int], tuple[bytes, str, tuple[int, int] | None]] = field(init=False, default_factory=dict)

    def __post_init__(self) -> None:
        self.out_dir = Path(self.out_dir)
        self.journal = Journal(self.out_dir)
        self.documents = find_documents(self.out_dir)

    def open(self, relative: str) -> None:
        converted = next((d for d in self.documents if d.relative == relative), None)
        if converted is None:
            raise KeyError(f"no converted document {relative!r} in {self.out_dir}")
        self.relative = relative
        self.base = load_document(converted)
        self.refresh()

    def refresh(self) -> None:
        """Re-read the journal: this reviewer's and everyone else's corrections."""
        assert self.base is not None
        records = self.journal.records_for(self.base, self.relative)
        self.document, self.orphans = apply_corrections(self.base, records)
        self.states = review_states(self.document)

    def save(self, token: str, text: str, previous: str) -> CorrectionRecord:
        """Journal the reviewer's text for a token (durably, before returning) and show it."""
        assert self.document is not None
        text = " ".join(text.split())
        if not text:
            raise ValueError("a word cannot be empty; to delete a word, note it in the text of its neighbour")
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
        in_page = [s for tid, s in self.states.items() if page is None or tid.startswith(f"p{page}-")]
        return {
            "pending": sum(s.pending for s in in_page),
            "flagged": sum(s.flagged for s in in_page),
            "reviewed": sum(s.reviewed for s in in_page),
        }

    # --- what the widget draws --------------------------------------------------------------

    def page_view(self, number: int) -> PageView:
        assert self.document is not None
        page = next(p for p in self.document.pages if p.number == number)
        lines = []
        for li, line in enumerate(page.lines, 1):
            tokens = []
            for wi, token in enumerate(line.tokens, 1):
                tid = token_id(number, li, wi)
                tokens.append(_token_view(tid, token, self.states[tid]))
            lines.append({"box": _box(line.box), "tokens": tokens})
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
                image = page_image(self.document, number, dpi=REVIEW_DPI, source_root=self.source_root).image
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


def _box(box) -> list[int] | None:
    return [box.x0, box.y0, box.x1, box.y1] if box is not None else None


def _token_view(tid: str, token: Token, state: TokenReview) -> dict:
    before = text_before_review(token)
    history = []
    for i, correction in enumerate(token.corrections):
        conflict = i > 0 and correction.previous != token.corrections[i - 1].text
        history.append({**correction.model_dump(), "conflict": conflict})
    return {
        "id": tid,
        "text": token.text,
        "box": _box(token.box),
        "level": state.level,
        "confidence": state.confidence,
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
        "conflict": "correction-conflict" in token.flags,
        "history": history,
    }


LEGEND = [
    ("low", f"low confidence (below {LOW:.2f}): queued for review"),
    ("doubtful", f"doubtful ({LOW:.2f}–{DOUBTFUL:.2f})"),
    ("agency", "inside an agency name the lexicon does not know: queued"),
    ("reviewed", "reviewed (corrected or confirmed)"),
    ("conflict", "two reviewers disagreed: queued again"),
]

"""The one data model of gazette: Document → Page → Line → Token; Plan → Section → Task → AgencyMention.

Every stage takes these objects and returns new ones (or annotates them); the JSON schema
in `schema/` is generated from these classes (`gazette schema`) and versioned by
SCHEMA_VERSION. Boxes are always in the pixel coordinates of the original page image; spans
of the plan are character offsets into the text that was segmented (Document.text).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SCHEMA_VERSION",
    "AgencyCandidate",
    "AgencyKind",
    "AgencyMention",
    "AgencyStatus",
    "Assignment",
    "Box",
    "Correction",
    "Debris",
    "DebrisKind",
    "Document",
    "DocumentKind",
    "Language",
    "Line",
    "Page",
    "PageSource",
    "Plan",
    "PlanMetadata",
    "Provenance",
    "Section",
    "SectionKind",
    "Signer",
    "Span",
    "StageTiming",
    "Task",
    "Timeline",
    "TimelineKind",
    "Token",
    "parse_token_id",
    "token_id",
]

# Bump the minor version for additive changes, the major one for breaking changes.
SCHEMA_VERSION = "1.4.0"

_TOKEN_ID = re.compile(r"p([1-9][0-9]*)-l([1-9][0-9]*)-w([1-9][0-9]*)")

DocumentKind = Literal["pdf", "image", "text"]
PageSource = Literal["ocr", "text-layer", "text-file"]
Language = Literal["vi", "en"]
SectionKind = Literal[
    "viewpoints", "purpose", "objectives", "requirements", "content", "solutions", "budget", "implementation",
    "reporting", "recipients", "other",
]  # fmt: skip
AgencyStatus = Literal["matched", "collective", "unknown"]
AgencyKind = Literal[
    "ministry", "department", "board", "office", "press", "police", "military", "people's committee",
    "people's council", "party body", "government", "association", "unit", "enterprise", "collective", "catch-all",
    "other",
]  # fmt: skip
TimelineKind = Literal["date", "deadline", "month", "quarter", "year", "recurring", "unspecified"]
DebrisKind = Literal["running-header", "page-number", "web", "signature-noise"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class Box(_Model):
    """Axis-aligned box in original-image pixels: left, top, right, bottom (exclusive)."""

    x0: int
    y0: int
    x1: int
    y1: int

    @property
    def width(self) -> int:
        return self.x1 - self.x0

    @property
    def height(self) -> int:
        return self.y1 - self.y0

    @classmethod
    def union(cls, boxes: list[Box]) -> Box | None:
        if not boxes:
            return None
        return cls(
            x0=min(b.x0 for b in boxes),
            y0=min(b.y0 for b in boxes),
            x1=max(b.x1 for b in boxes),
            y1=max(b.y1 for b in boxes),
        )


class Correction(_Model):
    """One reviewer's edit of a token, as the review journal recorded it."""

    text: str = Field(description="The token's text after this correction.")
    previous: str = Field(description="The token's text before it (the restored text for the first one).")
    reviewer: str
    time: str = Field(description="ISO 8601 UTC time of the edit.")
    edit_id: str | None = Field(None, description="The journal record's id (applying the journal twice is a no-op).")


def token_id(page: int, line: int, word: int) -> str:
    """Stable id of a token by position, 1-based: 'p2-l14-w3' (used by the journal and ALTO/PAGE/hOCR ids)."""
    return f"p{page}-l{line}-w{word}"


def parse_token_id(tid: str) -> tuple[int, int, int]:
    """(page, line, word) of a token_id; ValueError when `tid` is not one."""
    match = _TOKEN_ID.fullmatch(tid)
    if match is None:
        raise ValueError(f"not a token id: {tid!r} (expected e.g. 'p2-l14-w3')")
    page, line, word = (int(group) for group in match.groups())
    return page, line, word


class Token(_Model):
    """One word as read (source_text) and as currently believed (text)."""

    text: str
    source_text: str = Field(description="The word exactly as OCR or the input file gave it.")
    box: Box | None = None
    ocr_confidence: float | None = Field(None, ge=0.0, le=1.0, description="Tesseract word confidence, 0..1.")
    restore_confidence: float | None = Field(None, ge=0.0, le=1.0)
    flags: list[str] = Field(default_factory=list, description="e.g. 'low-confidence', 'restored', 'corrected'.")
    corrections: list[Correction] = Field(
        default_factory=list, description="Reviewers' edits, oldest first; text is the last one's text."
    )

    @property
    def machine_text(self) -> str:
        """The text before any reviewer touched it: what OCR (and restore) made of the word.

        The first correction's `previous`; for a word flagged `corrected` without its history
        (an old export), the text as read; else the current text.
        """
        if self.corrections:
            return self.corrections[0].previous
        return self.source_text if "corrected" in self.flags else self.text

    @property
    def machine_confidence(self) -> float | None:
        """The machine's confidence in machine_text: the restore model's when the word went
        through it (it scores the text restore chose), else tesseract's."""
        return self.restore_confidence if self.restore_confidence is not None else self.ocr_confidence


class Line(_Model):
    box: Box | None = None
    tokens: list[Token] = Field(default_factory=list)

    @property
    def text(self) -> str:
        return " ".join(t.text for t in self.tokens)

    @property
    def source_text(self) -> str:
        return " ".join(t.source_text for t in self.tokens)


class Page(_Model):
    number: int = Field(ge=1, description="1-based page number within the document.")
    source: PageSource
    width: int | None = Field(None, description="Width of the original page image in pixels.")
    height: int | None = None
    dpi: int | None = None
    deskew_angle: float | None = Field(None, description="Measured skew in degrees (counter-clockwise positive).")
    lines: list[Line] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)


class StageTiming(_Model):
    stage: str
    seconds: float


class Provenance(_Model):
    gazette_version: str
    engines: dict[str, str] = Field(default_factory=dict, description="External programs and their versions.")
    models: dict[str, str] = Field(default_factory=dict, description="Model ids used (e.g. restore model).")
    settings: dict[str, str | int | float | bool | None] = Field(default_factory=dict)
    timings: list[StageTiming] = Field(default_factory=list)
    fingerprints: dict[str, str] = Field(
        default_factory=dict,
        description="'text': what produced the words (OCR, restore, options); 'plan': what built the plan "
        "(segmenter, lexicon). See pipeline/fingerprint.py.",
    )

    def add_timing(self, stage: str, seconds: float) -> None:
        self.timings = [*self.timings, StageTiming(stage=stage, seconds=round(seconds, 4))]


class Span(_Model):
    """Character offsets [start, end) into the segmented text: a view, not a copy (as spaCy's Span)."""

    start: int = Field(ge=0)
    end: int = Field(ge=0)


class AgencyCandidate(_Model):
    name: str
    score: float = Field(ge=0.0, le=100.0)


class AgencyMention(_Model):
    """One agency as written, snapped to its canonical name in corpora/agencies.tsv when close enough."""

    text: str = Field(description="The mention as written.")
    span: Span | None = None
    canonical: str | None = Field(None, description="Canonical Vietnamese name; null when unknown.")
    kind: AgencyKind | None = None
    scope: str | None = Field(None, description="central, provincial or district.")
    score: float = Field(0.0, ge=0.0, le=100.0, description="rapidfuzz similarity to the canonical form.")
    status: AgencyStatus
    candidates: list[AgencyCandidate] = Field(
        default_factory=list, description="Nearest lexicon entries, for review, when the mention is unknown."
    )
    entity_id: str | None = Field(None, description="The lexicon entity's id (stable across renames of the file).")
    rule: str | None = Field(
        None,
        description="How the plan's reading found it: 'field' (Đơn vị chủ trì: …), 'heading' (an item headed by "
        "agencies), 'prose' (… chủ trì, phối hợp với …), 'subject' (the agencies a sentence opens with), "
        "'executors' (Đơn vị thực hiện, nobody marked chủ trì).",
    )
    successors: list[str] = Field(
        default_factory=list,
        description="Canonical names in force today when the body has since been merged or renamed "
        "(Sở Thông tin và Truyền thông → Sở Khoa học và Công nghệ); empty when it still exists.",
    )


class Timeline(_Model):
    """When a task happens, normalised to ISO 8601 beside the original wording."""

    text: str = Field(description="The timeline as written.")
    kind: TimelineKind
    start: str | None = Field(None, description="ISO 8601: 2019, 2019-04 or 2019-04-10.")
    end: str | None = Field(None, description="Last period covered; for a deadline, the date it is due.")
    recurring: bool = Field(False, description="Thường xuyên, hằng năm, định kỳ …")


class Task(_Model):
    label: str = Field(description="Its number as in the plan ('4.1', 'a', 'đ'), repaired when OCR broke the sequence.")
    path: str = Field(description="Labels from the top task down, e.g. '4.a'.")
    level: int = Field(ge=1)
    title: str = Field(description="The first sentence of the task, shortened.")
    span: Span
    leads: list[AgencyMention] = Field(default_factory=list, description="Đơn vị chủ trì.")
    partners: list[AgencyMention] = Field(default_factory=list, description="Đơn vị phối hợp.")
    executors: list[AgencyMention] = Field(default_factory=list, description="Đơn vị thực hiện.")
    target_group: str | None = Field(None, description="Đối tượng.")
    quantity: str | None = Field(None, description="Số lượng.")
    timeline: Timeline | None = None
    flags: list[str] = Field(default_factory=list, description="e.g. 'label-repaired', 'label-inferred'.")
    subtasks: list[Task] = Field(default_factory=list)


class Assignment(_Model):
    """One entry of the implementation section: agencies and what they are to do."""

    label: str | None = None
    agencies: list[AgencyMention] = Field(default_factory=list)
    duties: str
    span: Span


class Section(_Model):
    label: str | None = Field(None, description="I, II, … or 1, 2, … (sequence-repaired); null when unnumbered.")
    heading: str
    kind: SectionKind
    span: Span
    subsections: list[Section] = Field(default_factory=list)
    tasks: list[Task] = Field(default_factory=list)
    assignments: list[Assignment] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)


class Signer(_Model):
    name: str | None = None
    position: str | None = Field(None, description="e.g. Phó Chủ tịch, Giám đốc.")
    on_behalf_of: str | None = Field(None, description="TM. …: the collective body signed for.")
    deputy_for: str | None = Field(None, description="KT. …: the head the signer deputises for.")
    signed: bool = Field(False, description="The copy says Đã ký (the signed original is elsewhere).")
    block: list[str] = Field(default_factory=list, description="The signature block's lines as written.")
    span: Span | None = None


class PlanMetadata(_Model):
    """Each field null when the document does not say it; never guessed."""

    number: str | None = Field(None, description="Document number and code, e.g. 1759/KH-UBND.")
    title: str | None = None
    place: str | None = Field(None, description="Place of issue.")
    date: str | None = Field(None, description="Date of issue, ISO 8601.")
    province: str | None = None
    issuing_body: str | None = None
    year: int | None = Field(None, description="The single year the title names (… năm 2026); else the year of issue.")
    period: str | None = Field(
        None, description="The period the title names, e.g. '2026-2030' (giai đoạn 2026 – 2030)."
    )
    signer: Signer | None = None
    recipients: list[str] | None = Field(None, description="Nơi nhận, one entry per line; null without the block.")


class Debris(_Model):
    """Text removed from the structure (running headers, web-page remains, signature noise), kept here."""

    kind: DebrisKind
    text: str
    span: Span


class Plan(_Model):
    language: Language
    metadata: PlanMetadata
    sections: list[Section] = Field(default_factory=list)
    debris: list[Debris] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)


class Document(_Model):
    schema_version: str = SCHEMA_VERSION
    source_path: str = Field(description="The source file's path as text (bytes that are not UTF-8 shown as U+FFFD).")
    source_uri: str | None = Field(
        None, description="The source file as a file: URI, every byte of its name kept (percent-encoded)."
    )
    sha256: str
    kind: DocumentKind
    encoding: str | None = Field(None, description="Text files: the encoding detected and decoded from.")
    pages: list[Page] = Field(default_factory=list)
    provenance: Provenance
    warnings: list[str] = Field(default_factory=list)
    language: Language | None = Field(None, description="Detected language of the text.")
    plan: Plan | None = Field(None, description="The plan's structure; null (flag 'not-a-plan') when it is none.")
    flags: list[str] = Field(default_factory=list, description="Document-level flags, e.g. 'not-a-plan'.")

    @property
    def text(self) -> str:
        """Plain text: one line per OCR line, pages separated by form feeds."""
        return "\f".join(page.text for page in self.pages)

    def tokens(self) -> Iterator[tuple[str, Page, Line, Token]]:
        """Every token with its stable id (see token_id), in reading order."""
        for page in self.pages:
            for li, line in enumerate(page.lines, 1):
                for wi, token in enumerate(line.tokens, 1):
                    yield token_id(page.number, li, wi), page, line, token


def json_schema() -> dict:
    """The JSON schema of Document, with its version, as committed under schema/."""
    schema = Document.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://gazette.invalid/schema/document-{SCHEMA_VERSION}.json"
    schema["title"] = "gazette Document"
    schema["x-schema-version"] = SCHEMA_VERSION
    return schema

"""The one data model of gazette: Document → Page → Line → Token.

Every stage takes these objects and returns new ones (or annotates them); the JSON schema
in `schema/` is generated from these classes (`gazette schema`) and versioned by
SCHEMA_VERSION. Boxes are always in the pixel coordinates of the original page image.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "SCHEMA_VERSION",
    "Box",
    "Document",
    "DocumentKind",
    "Line",
    "Page",
    "PageSource",
    "Provenance",
    "StageTiming",
    "Token",
]

# Bump the minor version for additive changes, the major one for breaking changes.
SCHEMA_VERSION = "1.0.0"

DocumentKind = Literal["pdf", "image", "text"]
PageSource = Literal["ocr", "text-layer", "text-file"]


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


class Token(_Model):
    """One word as read (source_text) and as currently believed (text)."""

    text: str
    source_text: str = Field(description="The word exactly as OCR or the input file gave it.")
    box: Box | None = None
    ocr_confidence: float | None = Field(None, ge=0.0, le=1.0, description="Tesseract word confidence, 0..1.")
    restore_confidence: float | None = Field(None, ge=0.0, le=1.0)
    flags: list[str] = Field(default_factory=list, description="e.g. 'low-confidence', 'restored', 'corrected'.")


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

    def add_timing(self, stage: str, seconds: float) -> None:
        self.timings = [*self.timings, StageTiming(stage=stage, seconds=round(seconds, 4))]


class Document(_Model):
    schema_version: str = SCHEMA_VERSION
    source_path: str
    sha256: str
    kind: DocumentKind
    encoding: str | None = Field(None, description="Text files: the encoding detected and decoded from.")
    pages: list[Page] = Field(default_factory=list)
    provenance: Provenance
    warnings: list[str] = Field(default_factory=list)

    @property
    def text(self) -> str:
        """Plain text: one line per OCR line, pages separated by form feeds."""
        return "\f".join(page.text for page in self.pages)


def json_schema() -> dict:
    """The JSON schema of Document, with its version, as committed under schema/."""
    schema = Document.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://gazette.invalid/schema/document-{SCHEMA_VERSION}.json"
    schema["title"] = "gazette Document"
    schema["x-schema-version"] = SCHEMA_VERSION
    return schema

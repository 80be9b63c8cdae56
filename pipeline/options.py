"""One Options object, validated once, shared by the CLI, the API, batch runs and notebooks."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = ["OUTPUT_FORMATS", "Options"]

OUTPUT_FORMATS = ("json", "txt", "jsonl", "alto", "page", "hocr", "pdf")


class Options(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # ingest
    dpi: int = Field(300, ge=72, le=1200, description="Rasterisation resolution for scanned PDF pages.")
    max_image_pixels: int = Field(
        200_000_000, ge=1, description="Refuse images above this many pixels (decompression-bomb guard)."
    )
    max_pages: int = Field(2000, ge=1, description="Refuse documents with more pages than this.")
    max_text_bytes: int = Field(
        4 * 1024 * 1024,
        ge=1,
        description="Refuse text inputs larger than this: a converted text costs about 400 bytes of memory "
        "per byte of input, so the default bounds a worker near 1.7 GB.",
    )
    encoding: str | None = Field(None, description="Force the encoding of text inputs (default: detect).")
    min_text_layer_chars: int = Field(
        20, ge=0, description="A PDF page whose text layer has fewer characters is treated as scanned."
    )
    # preprocess
    deskew: bool = True
    denoise: bool = True
    binarize: Literal["auto", "always", "never"] = "auto"
    # ocr
    language: str = Field("vie", description="Tesseract language(s), e.g. 'vie' or 'vie+eng'.")
    ocr_timeout: float = Field(180.0, gt=0, description="Seconds allowed per page before tesseract is stopped.")
    file_timeout: float | None = Field(
        7200.0,
        gt=0,
        description="Batch runs: seconds allowed per file (all its pages) before it fails as stuck; None: no limit.",
    )
    low_confidence: float = Field(0.6, ge=0, le=1, description="Tokens below this OCR confidence are flagged.")
    # restore
    restore: Literal["auto", "always", "never"] = Field(
        "auto",
        description="auto: restore text inputs that look like English-model OCR, and vie OCR tokens "
        "below restore_below; always: restore every token; never: leave the text as read.",
    )
    restore_below: float = Field(0.6, ge=0, le=1, description="vie OCR tokens below this confidence are restored.")
    score_words: bool = Field(
        True,
        description="Give every word the probability that it is right (the word-right model), also the confident "
        "words of vie OCR, so the review queue finds their errors; off: only restored words are scored "
        "(about 0.45 s a page faster on scans).",
    )
    correct_vie: bool = Field(
        True,
        description="Correct every word of vie OCR in its line's context (restore/vie.py: a tone mark tesseract "
        "swapped, triến → triển, đữ → dữ), not only the words below restore_below.",
    )
    # export
    formats: tuple[str, ...] = ("json", "txt")

    @field_validator("formats", mode="before")
    @classmethod
    def _split_formats(cls, value: object) -> object:
        if isinstance(value, str):
            value = [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [v for v in value if v not in OUTPUT_FORMATS]
        if unknown:
            raise ValueError(f"unknown output format(s) {unknown}; choose from {', '.join(OUTPUT_FORMATS)}")
        return value

"""gazette: scanned Vietnamese provincial plans → clean, structured, reviewable text."""

from __future__ import annotations

__version__ = "0.1.0"

from pipeline.api import convert, ocr_image, restore_lines, segment_text, text_to_page
from pipeline.document import SCHEMA_VERSION, Document, Line, Page, Plan, Token
from pipeline.errors import GazetteError
from pipeline.options import Options

__all__ = [
    "SCHEMA_VERSION",
    "Document",
    "GazetteError",
    "Line",
    "Options",
    "Page",
    "Plan",
    "Token",
    "__version__",
    "convert",
    "ocr_image",
    "restore_lines",
    "segment_text",
    "text_to_page",
]

"""gazette: scanned Vietnamese provincial plans → clean, structured, reviewable text."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

if TYPE_CHECKING:
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

# The public names are imported on first use, not with the package: `import pipeline.restore.api`
# (or any other submodule) would otherwise pay for every stage (OpenCV, PIL, the pydantic models).
_HOMES = {
    "convert": "pipeline.api",
    "ocr_image": "pipeline.api",
    "restore_lines": "pipeline.api",
    "segment_text": "pipeline.api",
    "text_to_page": "pipeline.api",
    "SCHEMA_VERSION": "pipeline.document",
    "Document": "pipeline.document",
    "Line": "pipeline.document",
    "Page": "pipeline.document",
    "Plan": "pipeline.document",
    "Token": "pipeline.document",
    "GazetteError": "pipeline.errors",
    "Options": "pipeline.options",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'pipeline' has no attribute {name!r}")
    value = getattr(import_module(home), name)
    globals()[name] = value
    return value

"""Page images for review and line crops, read back from the document's source file.

Token and line boxes are in the pixels of the page image that was OCR'd (PDF pages
rasterised at Page.dpi). A PDF page is rasterised again here, at any DPI; `PageImage.scale`
maps those boxes onto the image returned. Text files have no image: callers show text only.

Boxes fit only the very file that was converted, so the source is checked against the
document's sha256 (`verified_source`) before any image is read: line crops are training
ground truth, and a re-scan with the same name would pair them with the wrong pixels. The
check hashes the whole file, so callers do it once per document and pass `source=` for
each page.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PIL import Image

from pipeline.document import Box, Document
from pipeline.errors import ReviewError
from pipeline.sources import find_source, rasterize_pdf_page, read_image_frame

__all__ = ["PageImage", "crop_box", "has_image", "page_image", "verified_source"]

DEFAULT_PDF_DPI = 300


@dataclass(frozen=True)
class PageImage:
    image: Image.Image
    scale: float  # image pixels per pixel of the boxes (Page coordinates)


def has_image(document: Document) -> bool:
    return document.kind in ("pdf", "image")


def verified_source(document: Document, source_root: str | Path | None = None) -> Path:
    """The document's source file, checked to be the one converted (SourceMissingError if not)."""
    return find_source(document, source_root, verify=True)


def page_image(
    document: Document,
    number: int,
    *,
    dpi: int | None = None,
    source_root: str | Path | None = None,
    source: Path | None = None,
) -> PageImage:
    """Page `number` of the document's source as an RGB image; PDFs at `dpi` (default: the OCR DPI).

    `source`: the file `verified_source` returned for this document (default: found and
    verified now)."""
    if not has_image(document):
        raise ReviewError(f"a {document.kind} document has no page images", path=document.source_path)
    page = next((p for p in document.pages if p.number == number), None)
    if page is None:
        raise ReviewError(f"the document has no page {number}", path=document.source_path)
    path = source if source is not None else verified_source(document, source_root)
    if document.kind == "pdf":
        image = rasterize_pdf_page(path, number, dpi or page.dpi or DEFAULT_PDF_DPI)
    else:
        image = read_image_frame(path, number)
    image = image.convert("RGB")
    return PageImage(image, image.width / page.width if page.width else 1.0)


def crop_box(page_image: PageImage, box: Box, pad_x: float = 0.25, pad_y: float = 0.04) -> Image.Image:
    """The part of the page image inside `box`, widened by pad × the box height (little vertically:
    lines sit close together, and a crop must not show its neighbours)."""
    mx, my = box.height * pad_x, box.height * pad_y + 2
    x0, y0 = max(0.0, (box.x0 - mx) * page_image.scale), max(0.0, (box.y0 - my) * page_image.scale)
    x1 = min(float(page_image.image.width), (box.x1 + mx) * page_image.scale)
    y1 = min(float(page_image.image.height), (box.y1 + my) * page_image.scale)
    return page_image.image.crop((round(x0), round(y0), round(x1), round(y1)))

"""Reading a document's source file again: its checksum, PDF pages as pixels, image frames.

Conversion (`pipeline.ingest`) reads a source once; review (page images, line crops) and the
searchable PDF export read its page images again, from the file a Document names. This small
I/O module is what they share, so no later stage reaches back into ingest.

`read_image_frame` applies no pixel limit: a source is read again only after conversion
accepted it (with `find_source(..., verify=True)` checking it is that very file).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from PIL import Image, UnidentifiedImageError

from pipeline.document import Document
from pipeline.errors import CorruptInputError, MissingDependencyError, SourceMissingError
from pipeline.names import path_from_uri

__all__ = ["find_source", "rasterize_pdf_page", "read_image_frame", "sha256_of"]


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def find_source(document: Document, root: str | Path | None = None, verify: bool = False) -> Path:
    """The source file a Document was converted from (a relative source_path read against
    `root`, default the working folder), to read its page images again; with `verify`, also
    checks it is the very file that was converted (sha256), as boxes only fit that one."""
    path = Path(document.source_path)
    if document.source_uri and (exact := path_from_uri(document.source_uri)).is_file():
        path = exact  # the name byte for byte, even when it is not UTF-8
    elif not path.is_absolute() and root is not None:
        path = Path(root) / path
    if not path.is_file():
        raise SourceMissingError("the source file of this document is not there", path=path)
    if verify and sha256_of(path) != document.sha256:
        raise SourceMissingError("the source file changed since it was converted (sha256 differs)", path=path)
    return path


def rasterize_pdf_page(path: Path, number: int, dpi: int, grayscale: bool = False) -> Image.Image:
    """Page `number` (1-based) of a PDF as pixels, by poppler's pdftoppm."""
    from pdf2image import convert_from_path
    from pdf2image.exceptions import PDFInfoNotInstalledError, PDFPageCountError, PDFSyntaxError

    try:
        images = convert_from_path(path, dpi=dpi, first_page=number, last_page=number, grayscale=grayscale)
    except PDFInfoNotInstalledError as exc:
        raise MissingDependencyError("poppler-utils (pdftoppm, pdfinfo) is not installed") from exc
    except (PDFPageCountError, PDFSyntaxError) as exc:
        raise CorruptInputError(f"page {number} cannot be rasterised ({exc})", path=path) from exc
    if not images:
        raise CorruptInputError(f"page {number} cannot be rasterised", path=path)
    return images[0]


def read_image_frame(path: Path, number: int) -> Image.Image:
    """Frame `number` (1-based; a TIFF holds several pages) of an image file, loaded.

    Seeks straight to the frame (no decoding of the frames before it) and checks no pixel
    limit: the file was accepted, limits and all, when it was converted.
    """
    try:
        with Image.open(path) as image:
            image.seek(number - 1)
            image.load()
            return image.copy()
    except EOFError as exc:
        raise CorruptInputError(f"the image has no frame {number}", path=path) from exc
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise CorruptInputError(f"image data is damaged or truncated ({exc})", path=path) from exc

"""Reading a document's source file again: its checksum, PDF pages as pixels, image frames.

Conversion (`pipeline.ingest`) reads a source once; review (page images, line crops) and the
searchable PDF export read its page images again, from the file a Document names. This small
I/O module is what they share, so no later stage reaches back into ingest.

`read_image_frame` applies no pixel limit: a source is read again only after conversion
accepted it (with `find_source(..., verify=True)` checking it is that very file).
"""

from __future__ import annotations

import errno
import hashlib
import io
import logging
import os
import stat
from pathlib import Path
from typing import BinaryIO

from PIL import Image, UnidentifiedImageError

from pipeline.document import Document
from pipeline.errors import CorruptInputError, InputTooLargeError, MissingDependencyError, SourceMissingError
from pipeline.filenames import path_from_uri
from pipeline.options import Options

__all__ = ["find_source", "open_regular", "pdf_page_inches", "rasterize_pdf_page", "read_image_frame", "sha256_of"]

log = logging.getLogger(__name__)


def open_regular(path: Path) -> BinaryIO:
    """`path` opened for reading; OSError(EINVAL) for a FIFO, a device or a socket (also behind
    a symlink), which would block or read forever. Opened without blocking, so a FIFO with no
    writer is refused instead of hanging the run."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
        raise OSError(errno.EINVAL, "not a regular file (a FIFO, device or socket)", str(path))
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open_regular(path) as handle:
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


def _pdf_page(path: Path, number: int):  # -> pypdf.PageObject
    from pypdf import PdfReader

    try:
        return PdfReader(path, strict=False).pages[number - 1]
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        raise CorruptInputError(f"page {number} cannot be read ({type(exc).__name__}: {exc})", path=path) from exc


def pdf_page_inches(page) -> tuple[float, float]:  # page: pypdf.PageObject
    """Width and height of a page in inches, as pdftoppm renders it: the larger of the media and
    crop boxes, sides taken absolute (an inverted box `[0 0 7200 -7200]` is as large as an
    upright one) and scaled by the page's /UserUnit. ValueError when the boxes are unreadable."""
    try:
        unit = float(page.get("/UserUnit", 1) or 1)
        boxes = [page.mediabox, page.cropbox]
        width = max(abs(float(box.width)) for box in boxes) * unit / 72
        height = max(abs(float(box.height)) for box in boxes) * unit / 72
    except Exception as exc:
        raise ValueError(f"{type(exc).__name__}: {exc}") from exc
    return width, height


# A page drawn as nothing but one image: its content stream is a transform and one Do.
_SCAN_CONTENT_BYTES = 200


def _page_scan(page, inches: tuple[float, float], dpi: int) -> Image.Image | None:  # page: pypdf.PageObject
    """The page's own scan, when the page is nothing but one full-page image stored at about
    `dpi` (within 2 %) as a JPEG: decoding it costs a fraction of rendering the page, and gives
    the scanner's own pixels (pdftoppm would resample them). None (render instead) for anything
    else: several objects, vector content drawn over the image, masks, rotation, other encodings
    (Flate, JBIG2, CCITT)."""
    try:
        if int(page.get("/Rotate", 0) or 0) % 360:
            return None
        xobjects = (page.get("/Resources") or {}).get("/XObject")
        objects = [x.get_object() for x in xobjects.get_object().values()] if xobjects else []
        if len(objects) != 1 or objects[0].get("/Subtype") != "/Image":
            return None
        image = objects[0]
        masked = any(key in image for key in ("/SMask", "/Mask", "/ImageMask", "/Decode"))
        filters = image.get("/Filter")
        filters = list(filters) if isinstance(filters, list) else [filters]
        if filters[-1:] != ["/DCTDecode"] or masked:  # a JPEG, maybe wrapped (ASCII85) as reportlab does
            return None
        if len(page.get_contents().get_data()) > _SCAN_CONTENT_BYTES:
            return None
        for pixels, side in ((int(image["/Width"]), inches[0]), (int(image["/Height"]), inches[1])):
            if abs(pixels / side - dpi) > 0.02 * dpi:
                return None
        jpeg = image.get_data()  # the outer filters undone; DCTDecode left: the JPEG file itself
        if not jpeg.startswith(b"\xff\xd8"):
            return None
        scan = Image.open(io.BytesIO(jpeg))
        scan.load()
    except Exception:  # anything unusual: render the page as before
        log.debug("page without a direct scan, rendering it", exc_info=True)
        return None
    return scan


def rasterize_pdf_page(
    path: Path, number: int, dpi: int, grayscale: bool = False, max_pixels: int | None = None, page=None
) -> Image.Image:  # page: pypdf.PageObject
    """Page `number` (1-based) of a PDF as pixels: its own scan when the page is one (see
    _page_scan), else drawn by poppler's pdftoppm. InputTooLargeError before any pixel is
    decoded when the page at `dpi` exceeds `max_pixels` (default: the Options default),
    whoever asks (conversion, review, the searchable PDF), so all three see the same pixels.
    `page`: that page of a reader the caller already holds (conversion reads every page), so
    the PDF is not parsed again for each page."""
    from pdf2image import convert_from_path
    from pdf2image.exceptions import PDFInfoNotInstalledError, PDFPageCountError, PDFSyntaxError

    limit = max_pixels if max_pixels is not None else Options().max_image_pixels
    page = page if page is not None else _pdf_page(path, number)
    try:
        width_in, height_in = pdf_page_inches(page)
    except ValueError as exc:
        raise CorruptInputError(f"page {number}: its size cannot be read ({exc})", path=path) from exc
    expected = (round(width_in * dpi), round(height_in * dpi))
    if expected[0] * expected[1] > limit:
        raise InputTooLargeError(
            f"page {number} is {width_in:.0f}×{height_in:.0f} in; at {dpi} DPI it exceeds {limit:,} pixels",
            path=path,
            advice="Convert it at a lower --dpi, or raise the limit (Options.max_image_pixels) if the page is real.",
        )
    scan = _page_scan(page, (width_in, height_in), dpi)
    if scan is not None:
        return scan.convert("L" if grayscale else "RGB")
    try:
        images = convert_from_path(path, dpi=dpi, first_page=number, last_page=number, grayscale=grayscale)
    except PDFInfoNotInstalledError as exc:
        raise MissingDependencyError("poppler-utils (pdftoppm, pdfinfo) is not installed") from exc
    except (PDFPageCountError, PDFSyntaxError) as exc:
        raise CorruptInputError(f"page {number} cannot be rasterised ({exc})", path=path) from exc
    if not images:
        raise CorruptInputError(f"page {number} cannot be rasterised", path=path)
    image = images[0]
    # pdftoppm may give up on a page silently (a 1×1 image, exit 0): a page must come out at
    # about the size its boxes say, either way round (/Rotate).
    if min(image.size) < 0.5 * min(expected) or max(image.size) < 0.5 * max(expected):
        raise CorruptInputError(
            f"page {number} came out at {image.size[0]}×{image.size[1]} pixels instead of about "
            f"{expected[0]}×{expected[1]}",
            path=path,
        )
    return image


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

"""Files → pages: PDFs (text layer or rasterised one page at a time), images, text files.

`open_source` checks the file (kind by content, not by name; size limits; encryption) and
returns a `Source` whose `pages()` yields `ImagePage`s or `TextPage`s lazily, so a 500-page
PDF never sits in memory at once. Reading a source again after conversion (page images for
review and the searchable PDF) lives in `pipeline.sources`; `sha256_of`, `find_source`,
`rasterize_pdf_page` and `read_image_frame` are re-exported here for older imports.
"""

from __future__ import annotations

import errno
import logging
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageSequence, UnidentifiedImageError

from pipeline.document import DocumentKind, PageSource
from pipeline.errors import (
    CorruptInputError,
    EmptyInputError,
    EncryptedInputError,
    InputError,
    InputTooLargeError,
    UnsupportedInputError,
)
from pipeline.options import Options
from pipeline.programs import run_program
from pipeline.sources import find_source, open_regular, rasterize_pdf_page, read_image_frame, sha256_of
from pipeline.textenc import decode_text
from pipeline.vietnamese import clean_text, normalize

__all__ = [
    "ImagePage",
    "Source",
    "TextPage",
    "detect_kind",
    "find_source",
    "open_source",
    "rasterize_pdf_page",
    "read_image_frame",
    "sha256_of",
]

log = logging.getLogger(__name__)

# gazette applies its own, configurable pixel limit (Options.max_image_pixels) before any
# image is decoded; Pillow's fixed global limit would refuse genuine large maps first.
Image.MAX_IMAGE_PIXELS = None

_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"II*\x00", b"MM\x00*")
TEXT_SUFFIXES = {".txt", ".text", ".ocr", ""}
PDF_SUFFIXES = {".pdf"}
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}


@dataclass
class ImagePage:
    number: int
    image: Image.Image
    dpi: int | None


@dataclass
class TextPage:
    number: int
    text: str
    source: PageSource


@dataclass
class Source:
    path: Path
    kind: DocumentKind
    sha256: str
    page_count: int
    options: Options
    encoding: str | None = None
    _text: str | None = None

    def pages(self) -> Iterator[ImagePage | TextPage]:
        if self.kind == "text":
            yield from _text_pages(self._text or "")
        elif self.kind == "pdf":
            yield from _pdf_pages(self.path, self.page_count, self.options)
        else:
            yield from _image_pages(self.path, self.options)


def detect_kind(path: Path, head: bytes) -> DocumentKind:
    """By content first (a scan saved as .txt is still a scan), then by suffix."""
    if head.startswith(b"%PDF") or b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(_IMAGE_MAGIC):
        return "image"
    suffix = path.suffix.lower()
    if suffix in PDF_SUFFIXES:
        raise CorruptInputError("named .pdf but has no PDF header", path=path)
    if suffix in IMAGE_SUFFIXES:
        raise CorruptInputError(f"named {suffix} but is not a readable image", path=path)
    return "text"


def open_source(path: str | Path, options: Options | None = None) -> Source:
    path = Path(path)
    options = options or Options()
    try:
        with open_regular(path) as handle:
            size = os.fstat(handle.fileno()).st_size
            head = handle.read(2048)
    except FileNotFoundError as exc:
        raise InputError("no such file", path=path, advice="Check the path.") from exc
    except PermissionError as exc:
        raise InputError("permission denied", path=path, advice="Make the file readable (chmod +r).") from exc
    except IsADirectoryError as exc:
        raise UnsupportedInputError("is a folder, not a file", path=path) from exc
    except OSError as exc:
        if exc.errno == errno.EINVAL:  # open_regular: a FIFO, a device, a socket
            raise UnsupportedInputError(exc.strerror or "not a regular file", path=path) from exc
        raise InputError(f"cannot be read ({exc.strerror or exc})", path=path) from exc
    if size == 0:
        raise EmptyInputError("the file is empty (0 bytes)", path=path)
    kind = detect_kind(path, head)
    sha = sha256_of(path)
    if kind == "text":
        if size > options.max_text_bytes:
            raise InputTooLargeError(
                f"text file of {size:,} bytes is above the limit of {options.max_text_bytes:,}",
                path=path,
                advice="Split it into smaller files (form feeds separate pages), or raise Options.max_text_bytes "
                "(about 400 bytes of memory per byte of text).",
            )
        with open_regular(path) as handle:
            data = handle.read()
        text, encoding = decode_text(data, path=str(path), encoding=options.encoding)
        return Source(path, kind, sha, text.count("\f") + 1, options, encoding, normalize(clean_text(text, keep="\f")))
    if kind == "pdf":
        return Source(path, kind, sha, _pdf_page_count(path, options), options)
    return Source(path, kind, sha, _image_frame_count(path, options), options)


# --- text ---------------------------------------------------------------------------------


def _text_pages(text: str) -> Iterator[TextPage]:
    # Form feeds separate pages in OCR text dumps (tesseract writes one after every page).
    for number, chunk in enumerate(text.split("\f"), start=1):
        yield TextPage(number, chunk, "text-file")


# --- PDF ------------------------------------------------------------------------------------


def _pdf_reader(path: Path):  # -> pypdf.PdfReader
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(path, strict=False)
        if reader.is_encrypted and not reader.decrypt(""):
            raise EncryptedInputError("the PDF is password-protected", path=path)
        _ = len(reader.pages)
    except InputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError, AttributeError) as exc:
        raise CorruptInputError(f"not a readable PDF ({exc})", path=path) from exc
    except Exception as exc:  # pypdf raises many kinds of errors on damaged files
        if "crypt" in str(exc).lower() or "AES" in str(exc):
            raise EncryptedInputError(f"the PDF is encrypted in a way gazette cannot open ({exc})", path=path) from exc
        raise CorruptInputError(f"not a readable PDF ({type(exc).__name__}: {exc})", path=path) from exc
    return reader


def _pdf_page_count(path: Path, options: Options) -> int:
    count = len(_pdf_reader(path).pages)
    if count == 0:
        raise EmptyInputError("the PDF has no pages", path=path)
    if count > options.max_pages:
        raise InputTooLargeError(f"{count} pages, above the limit of {options.max_pages}", path=path)
    return count


def _pdf_pages(path: Path, count: int, options: Options) -> Iterator[ImagePage | TextPage]:
    reader = _pdf_reader(path)
    for number in range(1, count + 1):
        page = reader.pages[number - 1]
        try:
            layer = clean_text(page.extract_text() or "")  # a NUL or U+FFFF in it would break every XML export
        except Exception as exc:  # a broken content stream: fall back to the pixels
            log.warning("%s: page %d: text layer unreadable (%s); rasterising", path, number, exc)
            layer = ""
        if len(layer.strip()) >= options.min_text_layer_chars:
            yield TextPage(number, normalize(layer), "text-layer")
            continue
        image = rasterize_pdf_page(
            path, number, options.dpi, grayscale=True, max_pixels=options.max_image_pixels, page=page
        )
        yield ImagePage(number, image, options.dpi)


# --- images ---------------------------------------------------------------------------------


def _open_image(path: Path, options: Options) -> Image.Image:
    try:
        image = Image.open(path)
    except UnidentifiedImageError as exc:
        raise CorruptInputError("not a readable image", path=path) from exc
    except OSError as exc:
        raise CorruptInputError(f"not a readable image ({exc})", path=path) from exc
    width, height = image.size
    if width * height > options.max_image_pixels:
        image.close()
        raise InputTooLargeError(
            f"image of {width}×{height} = {width * height:,} pixels exceeds the limit of "
            f"{options.max_image_pixels:,} (possible decompression bomb)",
            path=path,
        )
    if width == 0 or height == 0:
        raise EmptyInputError("the image has no pixels", path=path)
    if image.format == "JPEG":
        try:
            _check_jpeg_data(path)
        except InputError:
            image.close()
            raise
    return image


def _check_jpeg_data(path: Path, timeout: float = 120.0) -> None:
    """CorruptInputError when the JPEG's data ends before its last row (a truncated file, even
    with an end-of-image marker appended; a tiny file declaring a huge image). libjpeg fills
    the missing rows with grey and only warns, which Pillow does not report, so the page would
    convert with half its text. djpeg decodes row by row into /dev/null, in bounded memory,
    before Pillow allocates the whole image, and prints libjpeg's warnings."""
    argv = ["djpeg", "-grayscale", "-outfile", os.devnull, str(path)]
    try:
        proc = run_program(argv, timeout=timeout)
    except subprocess.TimeoutExpired as exc:
        raise CorruptInputError(f"its JPEG data could not be checked in {timeout:g} s", path=path) from exc
    warnings = proc.stderr.decode("utf-8", "replace").strip().splitlines()
    ended_early = [w for w in warnings if "premature end" in w.lower()]
    if ended_early or proc.returncode == 1:  # 1: an error; 2: warnings only
        reason = (ended_early or warnings or [f"djpeg exit code {proc.returncode}"])[-1]
        raise CorruptInputError(f"the JPEG data is damaged or incomplete ({reason})", path=path)
    for warning in warnings:  # e.g. extraneous bytes before a marker: the image is still whole
        log.warning("%s: %s", path, warning)


def _image_frame_count(path: Path, options: Options) -> int:
    with _open_image(path, options) as image:
        return getattr(image, "n_frames", 1)


def _image_pages(path: Path, options: Options) -> Iterator[ImagePage]:
    with _open_image(path, options) as image:
        dpi_info = image.info.get("dpi")
        dpi = round(float(dpi_info[0])) if dpi_info and float(dpi_info[0]) > 1 else None
        for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
            if frame.size[0] * frame.size[1] > options.max_image_pixels:
                raise InputTooLargeError(f"frame {number} exceeds the pixel limit", path=path)
            try:
                frame.load()
                pixels = frame.copy()
            except (OSError, SyntaxError, ValueError) as exc:
                raise CorruptInputError(f"image data is damaged or truncated ({exc})", path=path) from exc
            yield ImagePage(number, pixels, dpi)

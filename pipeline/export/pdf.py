"""Searchable PDF export: each page image with an invisible layer of the current text.

- Pixels: the source is read again (`read_page_images`, the only I/O of the exports): PDF
  pages are rasterised at the DPI they were OCR'd at, so word boxes fall where they were
  read, kept in colour (stamps and signatures are often red) unless the page is grey, and
  stored as JPEG (quality 85: stored losslessly, a 300 DPI page made the export four times
  the size of the scanned source); image sources are embedded as they are (a JPEG byte for
  byte, others losslessly). A source that
  is gone or changed since conversion (sha256) raises SourceMissingError.
- Text: the current text (restored, then corrected) in text render mode 3, one word at its
  box, stretched to the box width, with a real space between words so copy and search give
  words apart; the font is DejaVu Sans (every Vietnamese letter), embedded as a subset with a
  ToUnicode map, so copied text is the NFC Vietnamese of the export. Pages without word
  boxes (PDF text-layer pages) get their lines stacked down the page: searchable, but a
  highlight shows only roughly where.
- Text inputs have no page image: `to_pdf` refuses them and `write_outputs` skips the pdf
  format for them with a warning, so a batch of mixed inputs still completes.
- PDF/A-2b: the file carries the PDF/A identification in XMP (matching the Info
  dictionary), an sRGB output intent (ICC profile from LittleCMS through Pillow), only
  embedded fonts, device grey/RGB images and a trailer ID. No veraPDF is available here,
  so conformance is built for and checked structurally in the tests, not certified.
- Dates: CreationDate/ModDate and the XMP dates are `layout.export_time(document)` (the
  latest correction's time, else a constant epoch), never the clock; with reportlab in its
  invariant mode, a fixed date in the ICC profile and a trailer ID hashed from the content, a
  re-export of an unchanged document gives the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import logging
import struct
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from statistics import median
from xml.sax.saxutils import escape

import numpy as np
from PIL import Image, ImageChops, ImageCms
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    ByteStringObject,
    DictionaryObject,
    NameObject,
    NumberObject,
    StreamObject,
    TextStringObject,
)
from reportlab import rl_config
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject

from pipeline.document import Document, Page
from pipeline.errors import ExportError, MissingDependencyError
from pipeline.export.layout import WordPart, export_time, page_blocks, xml_file_name
from pipeline.sources import find_source, rasterize_pdf_page
from pipeline.vietnamese import clean_text

PDF_PAGE_JPEG_QUALITY = 85

__all__ = ["FONT_PATH", "PageImage", "has_page_images", "read_page_images", "to_pdf"]

log = logging.getLogger(__name__)

FONT_PATH = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
_FONT = "GazetteDejaVuSans"
_INVISIBLE = 3  # text render mode: neither fill nor stroke
_DEFAULT_DPI = 300


@dataclass(frozen=True)
class PageImage:
    """A page's pixels: a Pillow image, or a JPEG file's bytes to embed unchanged."""

    pixels: Image.Image | bytes
    width: int
    height: int
    dpi: float


def has_page_images(document: Document) -> bool:
    return document.kind != "text"


def _dpi(document: Document, page: Page) -> int:
    setting = document.provenance.settings.get("dpi")
    return page.dpi or (setting if isinstance(setting, int) and setting > 0 else _DEFAULT_DPI)


def _flatten(image: Image.Image) -> Image.Image:
    """Grey or RGB without alpha: the device colour spaces PDF/A allows with an sRGB intent."""
    if image.mode in ("L", "RGB"):
        flat = image
    elif image.mode == "1":
        return image.convert("L")
    else:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", image.size, "white")
        flat.paste(rgba, mask=rgba.getchannel("A"))
    if flat.mode == "RGB":
        red, green, blue = flat.split()
        if ImageChops.difference(red, green).getbbox() is None and ImageChops.difference(green, blue).getbbox() is None:
            return red  # a grey page stored as RGB: a third of the size, the same pixels
    return flat


def read_page_images(document: Document) -> Iterator[PageImage]:
    """The document's page images, read again from its source, one page at a time."""
    path = find_source(document, verify=True)
    if document.kind == "pdf":
        for page in document.pages:
            dpi = _dpi(document, page)
            image = _flatten(rasterize_pdf_page(path, page.number, dpi))
            jpeg = io.BytesIO()
            image.save(jpeg, "JPEG", quality=PDF_PAGE_JPEG_QUALITY, optimize=True)
            yield PageImage(jpeg.getvalue(), image.width, image.height, dpi)
        return
    with Image.open(path) as image:
        single_jpeg = image.format == "JPEG" and getattr(image, "n_frames", 1) == 1 and image.mode in ("L", "RGB")
        for page in document.pages:
            image.seek(page.number - 1)
            dpi = _dpi(document, page)
            if single_jpeg:
                yield PageImage(path.read_bytes(), image.width, image.height, dpi)
            else:
                yield PageImage(_flatten(image.copy()), image.width, image.height, dpi)


# --- text layer ---------------------------------------------------------------------------


def _font() -> TTFont:
    if _FONT not in pdfmetrics.getRegisteredFontNames():
        if not FONT_PATH.is_file():
            raise MissingDependencyError(
                f"the font {FONT_PATH} is missing",
                advice="Install it: apt-get install fonts-dejavu-core (or run `make run`).",
            )
        pdfmetrics.registerFont(TTFont(_FONT, str(FONT_PATH)))
    return pdfmetrics.getFont(_FONT)


def _printable(text: str, font: TTFont) -> str:
    # A character the font lacks would reference .notdef, which PDF/A forbids even when invisible.
    return "".join(c if ord(c) in font.face.charToGlyph else "\ufffd" for c in clean_text(text))


def _stretch(text: str, width: float, size: float) -> float:
    """Horizontal scale (percent) that makes `text` exactly `width` points wide."""
    natural = pdfmetrics.stringWidth(text, _FONT, size)
    return 100.0 * width / natural if natural > 0 and width > 0 else 100.0


@dataclass(frozen=True)
class _Frame:
    """Image pixels → PDF points (origin bottom left)."""

    scale_x: float
    scale_y: float
    height: float

    def x(self, px: float) -> float:
        return px * self.scale_x

    def y(self, px: float) -> float:
        return self.height - px * self.scale_y


def _boxed_line(text: PDFTextObject, parts: list[WordPart], frame: _Frame, font: TTFont) -> None:
    boxes = [p.box for p in parts if p.box is not None]
    size = max(median(b.height for b in boxes) * frame.scale_y, 1.0)
    centres = [(b.x0 + b.x1) / 2 for b in boxes]
    # Words rest on a line that may slope (skewed scans): fit it through their bottoms.
    if len(boxes) > 1 and max(centres) > min(centres):
        slope, intercept = np.polyfit(centres, [b.y1 for b in boxes], 1)
    else:
        slope, intercept = 0.0, float(boxes[0].y1)
    text.setFont(_FONT, size)
    for n, (part, centre) in enumerate(zip(parts, centres, strict=True)):
        box = part.box
        assert box is not None
        word = _printable(part.text, font)
        text.setTextOrigin(frame.x(box.x0), frame.y(intercept + slope * centre))
        text.setHorizScale(_stretch(word, frame.x(box.width), size))
        text.textOut(word)
        if n + 1 < len(parts):
            following = parts[n + 1].box
            assert following is not None
            text.setHorizScale(_stretch(" ", frame.x(max(following.x0 - box.x1, 1)), size))
            text.textOut(" ")


def _text_layer(canvas: Canvas, page: Page, frame: _Frame, width: float, font: TTFont) -> None:
    lines = [line for block in page_blocks(page) for line in block.lines]
    unboxed = [line for line in lines if any(p.box is None for p in line.parts)]
    text = canvas.beginText()
    text.setTextRenderMode(_INVISIBLE)
    for line in lines:
        if all(p.box is not None for p in line.parts):
            _boxed_line(text, line.parts, frame, font)
    if unboxed:  # no positions known: stack the lines from the top, inside a 1/2 inch margin
        leading = min(14.0, (frame.height - 72) / len(unboxed))
        for n, line in enumerate(unboxed, 1):
            words = _printable(" ".join(p.text for p in line.parts), font)
            size = max(leading * 0.8, 1.0)
            text.setFont(_FONT, size)
            text.setTextOrigin(36, frame.height - 36 - n * leading)
            text.setHorizScale(min(100.0, _stretch(words, width - 72, size)))
            text.textOut(words)
    canvas.drawText(text)


# --- PDF/A ---------------------------------------------------------------------------------


def _pdf_date(moment: datetime) -> str:
    return moment.strftime("D:%Y%m%d%H%M%S+00'00'")


def _xmp(title: str, creator: str, producer: str, moment: datetime) -> bytes:
    """The XMP packet; its values escaped and cleaned (`clean_text`: a control character would
    make it ill-formed XML)."""
    stamp = moment.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    title, creator, producer = (escape(clean_text(value, compose=False)) for value in (title, creator, producer))
    return f"""<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about=""
    xmlns:dc="http://purl.org/dc/elements/1.1/"
    xmlns:xmp="http://ns.adobe.com/xap/1.0/"
    xmlns:pdf="http://ns.adobe.com/pdf/1.3/"
    xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">
   <dc:format>application/pdf</dc:format>
   <dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>
   <xmp:CreatorTool>{creator}</xmp:CreatorTool>
   <xmp:CreateDate>{stamp}</xmp:CreateDate>
   <xmp:ModifyDate>{stamp}</xmp:ModifyDate>
   <xmp:MetadataDate>{stamp}</xmp:MetadataDate>
   <pdf:Producer>{producer}</pdf:Producer>
   <pdfaid:part>2</pdfaid:part>
   <pdfaid:conformance>B</pdfaid:conformance>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>""".encode()


def _srgb_profile() -> bytes:
    """LittleCMS's sRGB profile, with its creation date (header bytes 24–35) fixed to 2000-01-01
    and its profile ID (the MD5 of ICC.1:2010 7.2.18) computed again, so it is the same bytes
    on every run."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile[24:36] = struct.pack(">6H", 2000, 1, 1, 0, 0, 0)
    unsigned = bytearray(profile)
    unsigned[44:48] = unsigned[64:68] = bytes(4)
    unsigned[84:100] = bytes(16)
    profile[84:100] = hashlib.md5(bytes(unsigned), usedforsecurity=False).digest()
    return bytes(profile)


def _as_pdfa(data: bytes, title: str, creator: str, language: str | None, moment: datetime) -> bytes:
    """Add what PDF/A-2b asks of the file as a whole: XMP identification, output intent, ID."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    producer = f"{creator} (reportlab, pypdf)"
    writer.metadata = {
        "/Title": title, "/Creator": creator, "/Producer": producer,
        "/CreationDate": _pdf_date(moment), "/ModDate": _pdf_date(moment),
    }  # fmt: skip
    writer.xmp_metadata = _xmp(title, creator, producer, moment)  # written unfiltered, as PDF/A requires
    metadata = writer.root_object["/Metadata"].get_object()
    metadata[NameObject("/Type")] = NameObject("/Metadata")
    metadata[NameObject("/Subtype")] = NameObject("/XML")
    profile = StreamObject()
    profile.set_data(_srgb_profile())
    profile[NameObject("/N")] = NumberObject(3)
    intent = DictionaryObject({
        NameObject("/Type"): NameObject("/OutputIntent"),
        NameObject("/S"): NameObject("/GTS_PDFA1"),
        NameObject("/OutputConditionIdentifier"): TextStringObject("sRGB IEC61966-2.1"),
        NameObject("/Info"): TextStringObject("sRGB IEC61966-2.1"),
        NameObject("/DestOutputProfile"): writer._add_object(profile.flate_encode()),
    })  # fmt: skip
    writer.root_object[NameObject("/OutputIntents")] = ArrayObject([writer._add_object(intent)])
    if language:
        writer.root_object[NameObject("/Lang")] = TextStringObject(language)
    writer.pdf_header = "%PDF-1.7"  # what PDF/A-2 builds on (ISO 32000-1)
    # The trailer ID from the content, not at random (pypdf's generate_file_identifiers): the
    # same document gives the same bytes.
    file_id = ByteStringObject(hashlib.md5(data, usedforsecurity=False).digest())
    writer._ID = ArrayObject([file_id, file_id])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# --- the export ----------------------------------------------------------------------------


def _title(document: Document) -> str:
    """The plan's title, else the file name (`xml_file_name`): the XMP repeats it, so it must be
    text XML can hold, and the Info dictionary must say the same (PDF/A)."""
    plan_title = document.plan.metadata.title if document.plan else None
    return clean_text(plan_title) if plan_title else xml_file_name(Path(document.source_path).name)


def to_pdf(document: Document, images: Iterable[PageImage] | None = None, *, now: datetime | None = None) -> bytes:
    """The document as a searchable PDF; `images` defaults to reading the source again."""
    if not has_page_images(document):
        raise ExportError(
            "a text input has no page images to make a searchable PDF from",
            path=document.source_path,
            advice="Use the txt, json, alto or hocr formats for text inputs.",
        )
    font = _font()
    creator = f"gazette {document.provenance.gazette_version}"
    buffer = io.BytesIO()
    canvas = Canvas(buffer, initialFontName=_FONT, pageCompression=1, invariant=1)  # no clock, no random id
    use_a85, rl_config.useA85 = rl_config.useA85, 0  # ASCII85 only inflates binary image streams
    try:
        pages = images if images is not None else read_page_images(document)
        for page, image in zip(document.pages, pages, strict=True):
            width, height = image.width * 72 / image.dpi, image.height * 72 / image.dpi
            canvas.setPageSize((width, height))
            pixels = io.BytesIO(image.pixels) if isinstance(image.pixels, bytes) else image.pixels
            canvas.drawImage(ImageReader(pixels), 0, 0, width, height)
            frame = _Frame(width / (page.width or image.width), height / (page.height or image.height), height)
            _text_layer(canvas, page, frame, width, font)
            canvas.showPage()
        canvas.save()
    finally:
        rl_config.useA85 = use_a85
    return _as_pdfa(buffer.getvalue(), _title(document), creator, document.language, now or export_time(document))

"""Searchable PDF: the page images with an invisible text layer that copies as the document's text."""

from __future__ import annotations

import hashlib
import io
import shutil
import subprocess
import unicodedata
from pathlib import Path

import pytest
from PIL import Image, ImageCms, ImageDraw
from pypdf import PdfReader
from pypdf.generic import DictionaryObject

from pipeline.document import Document, Page, Provenance
from pipeline.errors import ExportError, SourceMissingError
from pipeline.export.pdf import PageImage, to_pdf


def _reader(data: bytes) -> PdfReader:
    return PdfReader(io.BytesIO(data))


def _images(resources: DictionaryObject) -> list[DictionaryObject]:
    """Image XObjects of a page, looking inside form XObjects (reportlab wraps images in one)."""
    found = []
    for ref in resources.get("/XObject", {}).values():
        xobject = ref.get_object()
        if xobject["/Subtype"] == "/Image":
            found.append(xobject)
        elif "/Resources" in xobject:
            found += _images(xobject["/Resources"].get_object())
    return found


def _fonts(reader: PdfReader) -> list[DictionaryObject]:
    return [f.get_object() for page in reader.pages for f in page["/Resources"].get("/Font", {}).values()]


def _pdftotext(data: bytes, tmp_path: Path) -> str:
    if shutil.which("pdftotext") is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    path = tmp_path / "out.pdf"
    path.write_bytes(data)
    return subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, check=True
    ).stdout.decode()


def _image_document(path: Path, size: tuple[int, int]) -> Document:
    """A converted-looking document for an image file, with no text: for the pixel tests."""
    return Document(
        source_path=str(path), sha256=hashlib.sha256(path.read_bytes()).hexdigest(), kind="image",
        pages=[Page(number=1, source="ocr", width=size[0], height=size[1], dpi=150)],
        provenance=Provenance(gazette_version="0.1.0"),
    )  # fmt: skip


def test_scan_copies_as_the_documents_text(scan_document: Document, tmp_path: Path) -> None:
    data = to_pdf(scan_document)
    reader = _reader(data)
    assert len(reader.pages) == 1
    page = scan_document.pages[0]
    box = reader.pages[0].mediabox
    assert float(box.width) == pytest.approx(page.width * 72 / 300, abs=0.01)
    assert float(box.height) == pytest.approx(page.height * 72 / 300, abs=0.01)
    (image,) = _images(reader.pages[0]["/Resources"])
    assert (image["/Width"], image["/Height"]) == (page.width, page.height)
    extracted = reader.pages[0].extract_text()
    assert unicodedata.is_normalized("NFC", extracted)
    assert extracted.split() == scan_document.text.split()  # every word, diacritics and all, in order
    assert _pdftotext(data, tmp_path).split() == scan_document.text.split()
    # Only embedded fonts (DejaVu Sans with its Vietnamese glyphs); no base-14 font left over.
    fonts = _fonts(reader)
    assert fonts and all("DejaVuSans" in f["/BaseFont"] and "/FontFile2" in f["/FontDescriptor"] for f in fonts)


def test_pdf_pages_keep_their_size_and_text(small_pdf_document: Document, tmp_path: Path) -> None:
    source = PdfReader(small_pdf_document.source_path)
    exported_bytes = to_pdf(small_pdf_document)
    reader = _reader(exported_bytes)
    assert len(reader.pages) == 2
    # Rasterised pages are stored as JPEG: the export stays the size of a scan, not 4× it.
    assert len(exported_bytes) < 2 * Path(small_pdf_document.source_path).stat().st_size
    assert all(image["/Filter"] == ["/DCTDecode"] for p in reader.pages for image in _images(p["/Resources"]))
    for original, exported, page in zip(source.pages, reader.pages, small_pdf_document.pages, strict=True):
        assert float(exported.mediabox.width) == pytest.approx(float(original.mediabox.width), abs=0.5)
        assert float(exported.mediabox.height) == pytest.approx(float(original.mediabox.height), abs=0.5)
        assert exported.extract_text().split() == page.text.split()


def test_text_layer_is_the_restored_and_corrected_text(reviewed_document: Document, tmp_path: Path) -> None:
    blank = Image.new("L", (1000, 1400), 255)
    data = to_pdf(reviewed_document, [PageImage(blank, 1000, 1400, 300)])
    extracted = _reader(data).pages[0].extract_text()
    assert extracted.split() == "Kế Đơn với nội hoạch Sở".split()
    assert "Pon" not in extracted and "véindi" not in extracted and "hoach" not in extracted
    assert _pdftotext(data, tmp_path).split()[:5] == ["Kế", "Đơn", "với", "nội", "hoạch"]


def test_pdfa_2b_identification_and_output_intent(reviewed_document: Document) -> None:
    data = to_pdf(reviewed_document, [PageImage(Image.new("L", (1000, 1400), 255), 1000, 1400, 300)])
    assert data.startswith(b"%PDF-1.7\n%") and all(b > 127 for b in data[10:14])
    reader = _reader(data)
    assert reader.trailer["/ID"][0] and "/Encrypt" not in reader.trailer
    catalog = reader.trailer["/Root"]
    metadata = catalog["/Metadata"].get_object()
    assert metadata["/Subtype"] == "/XML" and "/Filter" not in metadata  # PDF/A: XMP left unfiltered
    xmp = metadata.get_data().decode("utf-8")
    assert "<pdfaid:part>2</pdfaid:part>" in xmp and "<pdfaid:conformance>B</pdfaid:conformance>" in xmp
    info = reader.metadata
    assert f">{info['/Title']}</rdf:li>" in xmp and f"<xmp:CreatorTool>{info['/Creator']}<" in xmp
    assert f"<pdf:Producer>{info['/Producer']}<" in xmp
    (intent,) = [i.get_object() for i in catalog["/OutputIntents"]]
    assert intent["/S"] == "/GTS_PDFA1"
    profile_stream = intent["/DestOutputProfile"].get_object()
    profile = ImageCms.ImageCmsProfile(io.BytesIO(profile_stream.get_data())).profile
    assert profile.xcolor_space == "RGB " and profile_stream["/N"] == 3
    assert catalog["/Lang"] == "vi"


def test_missing_or_changed_source_is_a_typed_error(tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    Image.new("L", (300, 200), 255).save(path)
    document = _image_document(path, (300, 200))
    path.unlink()
    with pytest.raises(SourceMissingError, match="not there") as gone:
        to_pdf(document)
    assert str(path) in gone.value.message and "re-run `gazette convert`" in gone.value.message
    Image.new("L", (300, 200), 0).save(path)
    with pytest.raises(SourceMissingError, match="changed since it was converted"):
        to_pdf(document)


def test_text_input_has_no_searchable_pdf(text_document: Document) -> None:
    with pytest.raises(ExportError, match="no page images"):
        to_pdf(text_document)


def test_jpeg_is_embedded_byte_for_byte(tmp_path: Path) -> None:
    path = tmp_path / "scan.jpg"
    Image.new("RGB", (320, 240), (250, 240, 230)).save(path, quality=80)
    reader = _reader(to_pdf(_image_document(path, (320, 240))))
    (image,) = _images(reader.pages[0]["/Resources"])
    assert image["/Filter"] == ["/DCTDecode"] and image.get_data() == path.read_bytes()  # no re-encoding


def test_colour_kept_and_grey_stored_as_grey(tmp_path: Path) -> None:
    stamped, grey = tmp_path / "stamped.png", tmp_path / "grey.png"
    image = Image.new("RGB", (300, 200), "white")
    ImageDraw.Draw(image).ellipse((100, 50, 200, 150), outline=(200, 0, 0), width=6)  # a red stamp
    image.save(stamped)
    Image.new("RGB", (300, 200), (128, 128, 128)).save(grey)
    spaces = []
    for path in (stamped, grey):
        (embedded,) = _images(_reader(to_pdf(_image_document(path, (300, 200)))).pages[0]["/Resources"])
        spaces.append(embedded["/ColorSpace"])
    assert spaces == ["/DeviceRGB", "/DeviceGray"]


def test_the_same_document_gives_the_same_bytes(tmp_path: Path) -> None:
    path = tmp_path / "page.png"
    Image.new("L", (300, 400), 255).save(path)
    document = _image_document(path, (300, 400))
    first = to_pdf(document)
    assert to_pdf(document) == first  # no clock, no random trailer ID, no ICC creation date
    assert _reader(first).metadata["/CreationDate"].startswith("D:19700101")  # no correction: the epoch

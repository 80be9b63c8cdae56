"""Every kind of input, good and bad, as archives really contain them."""

from __future__ import annotations

import io
import os
import resource
import struct
import subprocess
from pathlib import Path

import pytest
from conftest import png_header_only
from PIL import Image

from pipeline.api import convert
from pipeline.errors import (
    CorruptInputError,
    EmptyInputError,
    EncodingError,
    EncryptedInputError,
    InputError,
    InputTooLargeError,
)
from pipeline.ingest import ImagePage, TextPage, open_source
from pipeline.options import Options
from pipeline.synth import Degradation, Para, degrade, render_pages
from pipeline.textenc import encode_text

LINES = ["KẾ HOẠCH TẬP HUẤN", "Đơn vị chủ trì: Sở Nội vụ.", "Thời gian thực hiện: Quý II/2025."]


@pytest.fixture(scope="module")
def short_page() -> Image.Image:
    page = render_pages([Para(line) for line in LINES])[0].image
    return degrade(page, Degradation(skew_deg=0.5, blur=0.5, noise=5, seed=4))


@pytest.fixture(scope="module")
def scanned_pdf(tmp_path_factory, short_page) -> Path:
    path = tmp_path_factory.mktemp("pdf") / "scan.pdf"
    short_page.save(path, save_all=True, append_images=[short_page.rotate(0)], resolution=300)
    return path


def _texts(path: Path) -> list[str]:
    return [line.text for page in convert(path).pages for line in page.lines]


def test_scanned_pdf_is_rasterised_page_by_page(scanned_pdf: Path) -> None:
    source = open_source(scanned_pdf)
    assert source.kind == "pdf" and source.page_count == 2
    pages = list(source.pages())
    assert all(isinstance(p, ImagePage) and p.dpi == 300 for p in pages)
    document = convert(scanned_pdf)
    assert [p.number for p in document.pages] == [1, 2]
    assert "Sở Nội vụ." in document.pages[1].text
    assert document.provenance.engines["tesseract"]


def test_pdf_text_layer_is_used_as_text(tmp_path: Path, short_page: Image.Image) -> None:
    png = tmp_path / "page.png"
    short_page.save(png, dpi=(300, 300))
    subprocess.run(
        ["tesseract", str(png), str(tmp_path / "digital"), "-l", "vie", "pdf"], check=True, capture_output=True
    )
    source = open_source(tmp_path / "digital.pdf")
    (page,) = list(source.pages())
    assert isinstance(page, TextPage) and page.source == "text-layer"
    assert "Sở Nội vụ" in page.text


def test_png_and_multipage_tiff(tmp_path: Path, short_page: Image.Image) -> None:
    short_page.save(tmp_path / "a.png", dpi=(300, 300))
    assert _texts(tmp_path / "a.png") == LINES
    short_page.save(tmp_path / "a.tif", save_all=True, append_images=[short_page], dpi=(300, 300))
    document = convert(tmp_path / "a.tif")
    assert document.kind == "image" and len(document.pages) == 2
    assert document.pages[0].dpi == 300 and document.pages[0].width == short_page.width


@pytest.mark.parametrize("encoding", ["utf-8", "utf-16", "cp1258", "vni", "tcvn3"])
def test_text_files_in_archive_encodings(tmp_path: Path, encoding: str) -> None:
    text = "\n".join(LINES[1:]) + "\n"
    data = text.encode("utf-16") if encoding == "utf-16" else encode_text(text, encoding)
    path = tmp_path / f"plan-{encoding}.txt"
    path.write_bytes(data)
    document = convert(path)
    assert document.encoding == encoding and document.kind == "text"
    assert [line.text for line in document.pages[0].lines] == LINES[1:]


def test_new_tone_placement_is_normalised(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("Uỷ ban nhân dân tỉnh Khánh Hoà\n", encoding="utf-8")
    assert _texts(path) == ["Ủy ban nhân dân tỉnh Khánh Hòa"]


def _expect(path: Path, error: type[InputError], options: Options | None = None) -> InputError:
    with pytest.raises(error) as info:
        convert(path, options)
    assert str(path) in info.value.message
    return info.value


def test_zero_byte_file(tmp_path: Path) -> None:
    path = tmp_path / "empty.pdf"
    path.touch()
    _expect(path, EmptyInputError)


def test_truncated_pdf(tmp_path: Path, scanned_pdf: Path) -> None:
    path = tmp_path / "truncated.pdf"
    path.write_bytes(scanned_pdf.read_bytes()[:3000])
    _expect(path, CorruptInputError)


def test_pdf_with_broken_xref_and_trailer(tmp_path: Path, scanned_pdf: Path) -> None:
    data = scanned_pdf.read_bytes()
    cut = data.rfind(b"xref")
    path = tmp_path / "broken-xref.pdf"
    path.write_bytes(data[:cut] + b"xref\n0 9\ngarbage garbage\ntrailer\n<< /Root 99 0 R >>\n%%EOF\n")
    document_or_error = None
    try:
        document_or_error = convert(path)
    except CorruptInputError as exc:
        document_or_error = exc
    # pypdf may rebuild the xref from the objects; then the pages must be really read.
    if not isinstance(document_or_error, CorruptInputError):
        assert "Sở Nội vụ." in document_or_error.text


def test_encrypted_pdf(tmp_path: Path, scanned_pdf: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(scanned_pdf).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    path = tmp_path / "encrypted.pdf"
    with path.open("wb") as handle:
        writer.write(handle)
    error = _expect(path, EncryptedInputError)
    assert "qpdf --decrypt" in error.message


def test_truncated_png(tmp_path: Path, short_page: Image.Image) -> None:
    good = tmp_path / "good.png"
    short_page.save(good)
    path = tmp_path / "truncated.png"
    path.write_bytes(good.read_bytes()[:5000])
    _expect(path, CorruptInputError)


def test_decompression_bomb_is_refused_before_decoding(tmp_path: Path) -> None:
    path = png_header_only(tmp_path / "bomb.png", 20_000, 20_000)
    error = _expect(path, InputTooLargeError)
    assert "400,000,000 pixels" in error.message
    _expect(path, InputTooLargeError, Options(max_image_pixels=1000))


def test_image_without_text(tmp_path: Path) -> None:
    path = tmp_path / "blank.png"
    degrade(render_pages([])[0].image, Degradation(noise=3, specks=20)).save(path)
    _expect(path, EmptyInputError)


def test_binary_junk_named_txt(tmp_path: Path) -> None:
    path = tmp_path / "junk.txt"
    path.write_bytes(bytes(range(256)) * 20)
    _expect(path, CorruptInputError)


def test_undecidable_legacy_bytes(tmp_path: Path) -> None:
    path = tmp_path / "latin.txt"
    path.write_bytes("Le préfet a signé l'arrêté hier à Besançon.\n".encode("latin-1"))
    _expect(path, EncodingError)


def test_text_named_pdf_and_image(tmp_path: Path) -> None:
    for name in ("fake.pdf", "fake.png"):
        path = tmp_path / name
        path.write_text("not really\n")
        _expect(path, CorruptInputError)


def test_unreadable_and_missing_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _expect(tmp_path / "missing.pdf", InputError)
    locked = tmp_path / "locked.txt"
    locked.write_text("Sở Nội vụ\n")
    real_open = os.open

    def deny(path, *args, **kwargs):
        if Path(path) == locked:
            raise PermissionError(13, "Permission denied")
        return real_open(path, *args, **kwargs)

    # Simulated, because tests often run as root, for whom chmod 000 changes nothing.
    monkeypatch.setattr(os, "open", deny)
    error = _expect(locked, InputError)
    assert "permission denied" in error.message


def test_a_frame_of_a_multipage_tiff_is_read_again_by_seeking_to_it(tmp_path: Path) -> None:
    from pipeline.errors import CorruptInputError
    from pipeline.sources import read_image_frame

    frames = [Image.new("L", (40, 30), shade) for shade in (0, 100, 200)]
    frames[0].save(tmp_path / "a.tif", save_all=True, append_images=frames[1:])
    third = read_image_frame(tmp_path / "a.tif", 3)
    assert third.size == (40, 30) and third.getpixel((5, 5)) == 200
    with pytest.raises(CorruptInputError, match="no frame 4"):
        read_image_frame(tmp_path / "a.tif", 4)


def _jpeg(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def test_truncated_jpeg_with_an_end_marker_appended_is_corrupt(tmp_path: Path, short_page: Image.Image) -> None:
    data = _jpeg(short_page)
    whole = tmp_path / "whole.jpg"
    whole.write_bytes(data)
    assert list(open_source(whole).pages())  # the intact file reads
    half = tmp_path / "half.jpg"
    half.write_bytes(data[: len(data) // 2] + b"\xff\xd9")  # Pillow alone reads this as a grey-bottomed page
    error = _expect(half, CorruptInputError)
    assert "JPEG data is damaged or incomplete" in error.message and "premature end" in error.message


def test_a_tiny_jpeg_declaring_a_huge_image_is_corrupt_not_decoded(tmp_path: Path) -> None:
    data = bytearray(_jpeg(Image.new("L", (16, 16), 255)))
    frame = data.index(b"\xff\xc0")  # SOF0: length(2) precision(1) height(2) width(2)
    data[frame + 5 : frame + 9] = struct.pack(">HH", 14000, 14000)
    lying = tmp_path / "lying.jpg"
    lying.write_bytes(bytes(data))
    assert len(data) < 1000 and Image.open(lying).size == (14000, 14000)
    started = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    _expect(lying, CorruptInputError)
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - started < 50 * 1024  # KiB: never decoded in full


def _pdf_page(path: Path, width: float, height: float, text: str | None = None, box: list[float] | None = None) -> Path:
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import ArrayObject, FloatObject, NameObject
    from reportlab.pdfgen import canvas

    drawing = canvas.Canvas(str(path), pagesize=(width, height))
    if text:
        drawing.setFont("Helvetica", 12)
        drawing.drawString(72, height - 72, text)
    drawing.showPage()
    drawing.save()
    if box is not None:
        writer = PdfWriter()
        writer.add_page(PdfReader(path).pages[0])
        writer.pages[0][NameObject("/MediaBox")] = ArrayObject(FloatObject(v) for v in box)
        with path.open("wb") as handle:
            writer.write(handle)
    return path


def test_an_inverted_media_box_is_measured_by_its_absolute_size(tmp_path: Path) -> None:
    pdf = _pdf_page(tmp_path / "inverted.pdf", 612, 792, box=[0, 0, 7200, -7200])  # 100 × 100 in, upside down
    error = _expect(pdf, InputTooLargeError)
    assert "100×100 in" in error.message


def test_every_rasterisation_is_checked_also_of_text_layer_pages(tmp_path: Path) -> None:
    from pipeline.sources import rasterize_pdf_page

    pdf = _pdf_page(tmp_path / "poster.pdf", 7200, 7200, text="Ke hoach so 12/KH-UBND ve chuyen doi so nam 2025")
    document = convert(pdf, Options(restore="never"))  # the text layer converts without pixels
    assert document.pages[0].source == "text-layer"
    with pytest.raises(InputTooLargeError, match="exceeds"):
        rasterize_pdf_page(pdf, 1, 300)  # as review and the searchable PDF would ask for it
    assert rasterize_pdf_page(pdf, 1, 10).size == (1000, 1000)  # within the limit: the size its box says


def test_text_inputs_above_the_size_limit_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "dump.txt"
    path.write_text("Sở Nội vụ chủ trì.\n" * 1000, encoding="utf-8")
    error = _expect(path, InputTooLargeError, Options(max_text_bytes=10_000))
    assert "above the limit of 10,000" in error.message and "max_text_bytes" in error.message
    assert list(open_source(path, Options(max_text_bytes=100_000)).pages())


def test_a_page_that_is_one_jpeg_scan_is_read_from_the_scan_itself(tmp_path: Path, short_page: Image.Image) -> None:
    import numpy as np
    from reportlab.pdfgen import canvas

    from pipeline.sources import rasterize_pdf_page

    scan = short_page.resize((850, 1100))
    jpeg = tmp_path / "scan.jpg"
    scan.save(jpeg, quality=90)
    pdf = tmp_path / "scan.pdf"
    drawing = canvas.Canvas(str(pdf), pagesize=(612, 792))  # 8.5 × 11 in: the scan is at 100 DPI
    drawing.drawImage(str(jpeg), 0, 0, 612, 792)
    drawing.showPage()
    drawing.save()
    stored = np.asarray(Image.open(jpeg).convert("L"))
    # At the scan's own resolution, the very pixels of the scan (no resampling by a renderer) ...
    assert np.array_equal(np.asarray(rasterize_pdf_page(pdf, 1, 100, grayscale=True)), stored)
    # ... at another, the page is drawn as before.
    assert rasterize_pdf_page(pdf, 1, 200, grayscale=True).size == (1700, 2200)
    with pytest.raises(InputTooLargeError):
        rasterize_pdf_page(pdf, 1, 100, max_pixels=1000)  # the pixel guard comes first either way

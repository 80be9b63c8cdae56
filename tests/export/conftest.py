"""Documents to export: real conversions (tesseract on pages the project renders itself) and a
hand-made document with the cases OCR alone never produces (restored, split, corrected words).
The schema validators (valid_alto, valid_page) are in tests/conftest.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from pipeline import convert
from pipeline.document import Box, Correction, Document, Line, Page, Provenance, Token
from pipeline.options import Options
from pipeline.synth import PageStyle, RenderedPage, plan_paragraphs, render_pages


@pytest.fixture(scope="session")
def scan_document(tmp_path_factory: pytest.TempPathFactory, scanned_page: tuple[Image.Image, RenderedPage]) -> Document:
    """The sample plan's first page, scanned look (skewed, noisy), as a PNG OCR'd by tesseract."""
    path = tmp_path_factory.mktemp("scan") / "page-1.png"
    scanned_page[0].save(path, dpi=(300, 300))
    return convert(path, Options(restore="never"))


@pytest.fixture(scope="session")
def small_pdf_document(tmp_path_factory: pytest.TempPathFactory, plan_text: str) -> Document:
    """A two-page scanned PDF (A6 landscape, 200 DPI) of the plan's opening, OCR'd by tesseract."""
    style = PageStyle(size_pt=12, dpi=200, page_in=(5.83, 4.13), margin_in=0.4)
    pages = render_pages(plan_paragraphs(plan_text)[:12], style)[:2]
    path = tmp_path_factory.mktemp("pdf") / "plan.pdf"
    pages[0].image.save(path, save_all=True, append_images=[p.image for p in pages[1:]], resolution=200)
    return convert(path, Options(restore="never", dpi=200))


@pytest.fixture
def text_document(tmp_path: Path) -> Document:
    """A text input: lines without boxes, a blank line between two paragraphs."""
    path = tmp_path / "plan.txt"
    path.write_text("KẾ HOẠCH\nSố hóa tài liệu lưu trữ\n\nĐơn vị chủ trì: Sở Nội vụ\n", encoding="utf-8")
    return convert(path, Options(restore="never"))


def _box(x0: int, x1: int, y0: int = 100, y1: int = 140) -> Box:
    return Box(x0=x0, y0=y0, x1=x1, y1=y1)


@pytest.fixture
def reviewed_document() -> Document:
    """Line 1: an OCR word, a restored word, a merged OCR word restored as two ("véindi" →
    "với nội"), a corrected word. Line 2: a fully corrected line. 1000×1400 px at 300 DPI."""
    correction = Correction(text="hoạch", previous="hoach", reviewer="lan", time="2025-03-14T08:30:00Z")
    line_1 = [
        Token(text="Kế", source_text="Kế", box=_box(100, 160), ocr_confidence=0.93),
        Token(
            text="Đơn", source_text="Pon", box=_box(180, 260), ocr_confidence=0.41,
            restore_confidence=0.88, flags=["low-confidence", "restored"],
        ),
        Token(
            text="với nội", source_text="véindi", box=_box(280, 440), ocr_confidence=0.35,
            restore_confidence=0.71, flags=["low-confidence", "restored", "split"],
        ),
        Token(
            text="hoạch", source_text="hoach", box=_box(460, 580), ocr_confidence=0.52,
            flags=["low-confidence", "corrected"], corrections=[correction],
        ),
    ]  # fmt: skip
    line_2 = [
        Token(
            text="Sở", source_text="S&", box=_box(100, 150, 160, 200), ocr_confidence=0.3, restore_confidence=0.9,
            flags=["restored", "corrected"],
            corrections=[Correction(text="Sở", previous="Sở", reviewer="minh", time="2025-03-15T09:00:00+00:00")],
        ),
    ]  # fmt: skip
    page = Page(
        number=1, source="ocr", width=1000, height=1400, dpi=300, deskew_angle=0.4,
        lines=[Line(box=_box(100, 580), tokens=line_1), Line(box=_box(100, 150, 160, 200), tokens=line_2)],
    )  # fmt: skip
    provenance = Provenance(
        gazette_version="0.1.0", engines={"tesseract": "5.3.0"}, models={"restore": "restore-2025-03"},
        settings={"language": "vie", "dpi": 300},
    )  # fmt: skip
    return Document(
        source_path="archive/scans/page-1.png", sha256="0" * 64, kind="image", pages=[page],
        provenance=provenance, language="vi",
    )  # fmt: skip

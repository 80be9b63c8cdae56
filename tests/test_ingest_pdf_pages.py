"""A scanned PDF is parsed once per document, and each page comes out as its stored scan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pypdf
import pytest
from PIL import Image

from pipeline.ingest import ImagePage, open_source
from pipeline.options import Options
from pipeline.synth import Degradation, Para, degrade, render_pages


def _scanned_pdf(tmp_path: Path, pages: int) -> tuple[Path, list[np.ndarray]]:
    """A PDF of `pages` letter pages, each nothing but one JPEG scan stored at 100 DPI."""
    from reportlab.pdfgen import canvas

    pdf = tmp_path / "scan.pdf"
    drawing = canvas.Canvas(str(pdf), pagesize=(612, 792))
    stored = []
    for n in range(pages):
        page = render_pages([Para(f"Trang {n + 1}: Sở Nội vụ chủ trì thực hiện kế hoạch.")])[0].image
        scan = degrade(page, Degradation(skew_deg=0.4, noise=4, seed=n)).resize((850, 1100))
        jpeg = tmp_path / f"scan-{n}.jpg"
        scan.save(jpeg, quality=90)
        stored.append(np.asarray(Image.open(jpeg).convert("L")))
        drawing.drawImage(str(jpeg), 0, 0, 612, 792)
        drawing.showPage()
    drawing.save()
    return pdf, stored


def test_the_pdf_is_parsed_once_not_once_per_page(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pdf, stored = _scanned_pdf(tmp_path, 4)
    readers: list[object] = []

    class CountingReader(pypdf.PdfReader):
        def __init__(self, *args, **kwargs) -> None:
            readers.append(args[0] if args else kwargs.get("stream"))
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(pypdf, "PdfReader", CountingReader)
    pages = list(open_source(pdf, Options(dpi=100)).pages())
    assert all(isinstance(p, ImagePage) for p in pages) and len(pages) == 4
    # One reader to count the pages, one to read them; re-opening the file for every page
    # parsed the whole PDF again each time (quadratic in the pages of a long gazette).
    assert len(readers) == 2
    # Each page is the stored scan itself, at its native size, not a re-rendering.
    for page, scan in zip(pages, stored, strict=True):
        assert isinstance(page, ImagePage) and page.image.size == (850, 1100)
        assert np.array_equal(np.asarray(page.image), scan)

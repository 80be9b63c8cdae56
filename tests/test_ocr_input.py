"""How a page reaches tesseract: from a file at the prepared image's own size, never through stdin."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

import pipeline.ocr as ocr
from pipeline.ocr import run_tesseract
from pipeline.synth import PageStyle, Para, render_pages


def test_tesseract_reads_the_page_from_a_file_and_the_file_is_removed(monkeypatch: pytest.MonkeyPatch) -> None:
    page = render_pages([Para("Ủy ban nhân dân tỉnh ban hành kế hoạch thực hiện.")], PageStyle(dpi=150))[0]
    image = np.asarray(page.image.convert("L"))
    seen: list[tuple[str, bytes | None, tuple[int, int] | None]] = []
    real = ocr.run_program

    def spy(argv, *, stdin=None, timeout, env=None):  # what tesseract is handed, while it runs
        path = Path(argv[1])
        size = Image.open(path).size if path.is_file() else None
        seen.append((argv[1], stdin, size))
        return real(argv, stdin=stdin, timeout=timeout, env=env)

    monkeypatch.setattr(ocr, "run_program", spy)
    tsv, _ = run_tesseract(image, language="vie", dpi=150)
    [(name, stdin, size)] = seen
    # stdin cost tesseract 0.15-0.3 s a page (it copies it one character at a time)
    assert name != "stdin" and stdin is None
    assert size == (image.shape[1], image.shape[0])  # the very pixels, no resampling
    assert not Path(name).exists()  # the page file does not outlive the call
    assert "nhân" in tsv

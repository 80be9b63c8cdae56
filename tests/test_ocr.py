"""OCR with the real tesseract binary on pages rendered from the project's own text."""

from __future__ import annotations

import numpy as np
import pytest
from rapidfuzz.distance import Levenshtein

from pipeline.api import convert, ocr_image
from pipeline.errors import MissingDependencyError
from pipeline.ocr import OcrTimeoutError, _has_ink, parse_tsv, probe, run_tesseract
from pipeline.options import Options
from pipeline.synth import Columns, Degradation, Para, degrade, render_pages, scanned


def _cer(reference: str, hypothesis: str) -> float:
    return Levenshtein.distance(reference, hypothesis) / max(1, len(reference))


def test_probe_reports_version_and_missing_language() -> None:
    assert probe("vie")[0].isdigit()
    with pytest.raises(MissingDependencyError, match="tesseract-ocr-xyz"):
        probe("xyz")


def test_scanned_page_reads_with_boxes_and_confidences(scanned_page) -> None:
    image, truth = scanned_page
    page = ocr_image(image, Options(), dpi=300)
    assert page.deskew_angle is not None and abs(page.deskew_angle) <= 1.6
    reference = " ".join(truth.lines)
    hypothesis = " ".join(line.text for line in page.lines)
    assert _cer(reference, hypothesis) < 0.02
    tokens = [t for line in page.lines for t in line.tokens]
    assert all(t.box is not None and 0 <= t.box.x0 < t.box.x1 <= image.width for t in tokens)
    assert all(t.ocr_confidence is not None and 0 <= t.ocr_confidence <= 1 for t in tokens)
    assert np.mean([t.ocr_confidence for t in tokens]) > 0.8
    # Lines come out in reading order and their boxes sit on the rendered lines.
    first = page.lines[0]
    assert first.box is not None and abs(first.box.y0 - truth.boxes[0][1]) < 40


def test_near_empty_noisy_page_is_neither_dropped_nor_junk() -> None:
    pages = render_pages([Para("Nơi nhận:"), Para("- Như trên;"), Para("- Lưu: VT, TH.")])
    noisy = degrade(pages[0].image, Degradation(skew_deg=0.8, blur=0.8, noise=30, specks=5000, jpeg_quality=50))
    page = ocr_image(noisy, Options(), dpi=300)
    text = page.text
    assert "nhận" in text and "Như trên" in text
    assert len(text) < 120  # no kilobytes of hallucinated junk


def _has_ink_on_the_whole_page(image: np.ndarray) -> bool:
    """The blank-page check as it was: every mark of the half-size page labelled."""
    import cv2

    small = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    _, _, stats, _ = cv2.connectedComponentsWithStats(np.where(small < 128, 255, 0).astype(np.uint8), connectivity=8)
    heights = stats[1:, cv2.CC_STAT_HEIGHT]
    return int(np.sum((heights >= 6) & (heights <= 100))) >= 5


@pytest.mark.parametrize(
    ("marks", "expected"),
    [  # (top, height) of dark bars on a 300-DPI page, pixels
        ([], False),  # paper
        ([(1700, 40)] * 5, True),  # letters in the middle band
        ([(1700, 40)] * 4, False),  # too few
        ([(200, 40)] * 6, True),  # letters at the top only: the whole page is labelled
        ([(1300, 900)] + [(1700, 40)] * 4, False),  # a rule across the band is too tall for text
    ],
)
def test_the_blank_page_check_on_a_band_first_agrees_with_the_whole_page(
    marks: list[tuple[int, int]], expected: bool
) -> None:
    page = np.full((3508, 2480), 235, np.uint8)
    for k, (top, height) in enumerate(marks):
        page[top : top + height, 300 + 100 * k : 330 + 100 * k] = 20
    page[1000:1003, 500:503] = 20  # a speck: too small to count
    assert _has_ink(page) is _has_ink_on_the_whole_page(page) is expected


def test_blank_page_gives_no_lines_and_a_warning() -> None:
    blank = degrade(render_pages([])[0].image, Degradation(noise=4, seed=5))
    page = ocr_image(blank, Options(), dpi=300)
    assert page.lines == [] and "no text found on this page" in page.warnings


def test_timeout_is_a_typed_error() -> None:
    image = np.full((2000, 2000), 255, np.uint8)
    with pytest.raises(OcrTimeoutError):
        run_tesseract(image, language="vie", timeout=0.001)


def test_timeout_flags_the_page_instead_of_failing(scanned_page) -> None:
    page = ocr_image(scanned_page[0], Options(ocr_timeout=0.001))
    assert page.lines == [] and page.warnings[0].startswith("ocr-timeout")


def test_parse_tsv_groups_words_into_lines() -> None:
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n"
    rows = [
        "5\t1\t1\t1\t1\t1\t10\t10\t40\t20\t96.5\tSở",
        "5\t1\t1\t1\t1\t2\t60\t10\t40\t20\t91\tNội",
        "4\t1\t1\t1\t2\t0\t10\t40\t90\t20\t-1\t",
        "5\t1\t1\t1\t2\t1\t10\t40\t90\t20\t88\tvụ",
        "5\t1\t1\t1\t2\t2\t10\t40\t90\t20\t95\t ",
    ]
    lines = parse_tsv(header + "\n".join(rows) + "\n")
    assert [line.text for line in lines] == ["Sở Nội", "vụ"]
    assert lines[0].tokens[0].ocr_confidence == pytest.approx(0.965)
    assert lines[0].box is not None and (lines[0].box.x0, lines[0].box.x1) == (10, 100)


def test_a_file_whose_only_page_timed_out_is_a_timeout_not_an_empty_file(scanned_page, tmp_path) -> None:
    path = tmp_path / "one-page.png"
    scanned_page[0].save(path)
    with pytest.raises(OcrTimeoutError, match="page\\(s\\) 1 timed out") as caught:
        convert(path, Options(ocr_timeout=0.001, restore="never"))
    assert str(path) in caught.value.message


def test_letterhead_columns_come_out_column_by_column(plan_text: str) -> None:
    """Tesseract reads the two centred letterhead columns as one set of lines (issuer, then the
    motto, on each); gazette gives them row by row: issuer, motto, number, place and date."""
    head = plan_text.splitlines()
    issuer, motto, number, date = head[0:2], head[2:4], head[4], head[5]
    left = (*(Para(t, align="center", bold=True) for t in issuer), Para(number, align="center"))
    right = (*(Para(t, align="center", bold=True) for t in motto), Para(date, align="center"))
    layout = [
        Columns(left, right),
        Para(head[6], align="center", bold=True),
    ]
    image = degrade(render_pages(layout)[0].image, scanned(3))
    lines = [line.text for line in ocr_image(image, Options(restore="never"), dpi=300).lines]
    expected = [*issuer, *motto, number, date, head[6]]
    assert len(lines) == len(expected)
    assert [_cer(e, got) for e, got in zip(expected, lines, strict=True)] == pytest.approx(
        [0] * len(expected), abs=0.05
    )

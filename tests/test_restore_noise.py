"""Tests of the learned OCR noise model and of the OCR-line alignment of the data builder."""

from __future__ import annotations

import importlib.util
import random
import re
import shutil
import sys
from pathlib import Path

import pytest
from rapidfuzz import fuzz

from pipeline.restore.noise import NoiseModel, align_chars, strip_accents
from pipeline.vietnamese import has_diacritics, strip_diacritics

REPO = Path(__file__).resolve().parents[1]

# Hand-written pairs in the style of English-model OCR of Vietnamese (not taken from any corpus).
PAIRS = [
    (
        "S& Tai chinh chti tri, phéi hop v6i cac don vi lién quan",
        "Sở Tài chính chủ trì, phối hợp với các đơn vị liên quan",
    ),
    (
        "Ké hoach nay ctia Uy ban nhan dan huyén vé d6i ngoai",
        "Kế hoạch này của Ủy ban nhân dân huyện về đối ngoại",
    ),
    ("Bao cdo két qua thuc hién nim 2023 cua cac phong", "Báo cáo kết quả thực hiện năm 2023 của các phòng"),
    ("Pon vi phdi hop: S& Van hoa va Thé thao", "Đơn vị phối hợp: Sở Văn hóa và Thể thao"),
    (
        "Tang cuong quan 1y nha nudc déi voi hoat dong thong tin",
        "Tăng cường quản lý nhà nước đối với hoạt động thông tin",
    ),
    ("Thdi gian thuc hién: trong nam 2024", "Thời gian thực hiện: trong năm 2024"),
    ("Giao S& Ngoai vu theo doi, tong hop bao cao", "Giao Sở Ngoại vụ theo dõi, tổng hợp báo cáo"),
    ("cac co quan, donvi c6 lién quan trién khai", "các cơ quan, đơn vị có liên quan triển khai"),
]
CLEAN = "Ủy ban nhân dân tỉnh giao Sở Tài chính phối hợp với các đơn vị liên quan thực hiện"
CODE_LINE = "Theo Kế hoạch số 1759/KH-UBND ngày 22/4/2019 của Ủy ban nhân dân tỉnh về đối ngoại"


@pytest.fixture(scope="module")
def model() -> NoiseModel:
    return NoiseModel.fit(PAIRS * 15)  # repeated so the frequent words get a form table


def test_align_chars_attaches_insertions_to_the_changed_character() -> None:
    assert align_chars("của", "ctia") == ["c", "ti", "a"]
    assert align_chars("đối với", "d6i v6i") == ["d", "6", "i", " ", "v", "6", "i"]
    assert align_chars("đơn vị", "donvi") == ["d", "o", "n", "", "v", "i"]  # a merge


def test_fit_learns_confusions_and_word_forms(model: NoiseModel) -> None:
    outputs = {out for char, out, _, _ in model.top_confusions(200) if char == "ố"}
    assert {"6", "é"} <= outputs
    assert "ctia" in model.tokens["của"][1]
    merge, _ = model.merge_split_rates()
    assert merge > 0  # 'đơn vị' -> 'donvi'


def test_garble_is_deterministic_with_a_seeded_rng(model: NoiseModel) -> None:
    first = [model.garble(CLEAN, random.Random(7)) for _ in range(3)]
    assert first[0] == first[1] == first[2]
    assert len({model.garble(CLEAN, random.Random(seed)) for seed in range(20)}) > 1


def test_garble_removes_most_diacritics_but_keeps_the_letters(model: NoiseModel) -> None:
    rng = random.Random(1)
    for _ in range(20):
        noisy = model.garble(CLEAN, rng)
        assert noisy != CLEAN
        marked = sum(has_diacritics(w) for w in noisy.split())
        assert marked < sum(has_diacritics(w) for w in CLEAN.split()) / 2
        assert fuzz.ratio(strip_diacritics(noisy).lower(), strip_diacritics(CLEAN).lower()) > 80


def test_garble_keeps_digits_and_codes(model: NoiseModel) -> None:
    rng = random.Random(3)
    for _ in range(50):
        noisy = model.garble(CODE_LINE, rng, severity=2.0)
        assert "1759/KH-UBND" in noisy
        assert "22/4/2019" in noisy


def test_severity_zero_and_kept_words(model: NoiseModel) -> None:
    assert model.garble(CLEAN, random.Random(0), severity=0.0) == CLEAN
    mixed = model.garble(CLEAN, random.Random(0), keep_word_prob=0.5)
    kept = [w for w in mixed.split() if w in CLEAN.split() and has_diacritics(w)]
    assert kept, "some words should keep their diacritics"


def test_fitted_severity_spread(model: NoiseModel) -> None:
    assert model.severity == sorted(model.severity) and len(model.severity) == 21
    draws = [model.sample_severity(random.Random(seed)) for seed in range(50)]
    assert all(model.severity[0] <= d <= model.severity[-1] for d in draws)
    assert 0.5 < sorted(draws)[25] < 1.5  # the median line is an average line


def test_json_round_trip(model: NoiseModel, tmp_path: Path) -> None:
    path = tmp_path / "noise.json"
    model.save(path)
    loaded = NoiseModel.load(path)
    assert loaded.chars == model.chars
    assert loaded.tokens == model.tokens
    assert loaded.severity == model.severity
    assert loaded.garble(CLEAN, random.Random(5)) == model.garble(CLEAN, random.Random(5))
    assert not path.read_bytes().startswith(b"\x80")  # JSON text, not a pickle


def test_strip_accents_plain_and_mixed() -> None:
    assert strip_accents("Đơn vị chủ trì") == "Don vi chu tri"
    mixed = strip_accents(CLEAN, random.Random(2), keep_word_prob=0.5)
    assert mixed != CLEAN and mixed != strip_diacritics(CLEAN)
    assert strip_diacritics(mixed) == strip_diacritics(CLEAN)


# ----------------------------------------------------------------------------- OCR alignment


def _builder():
    """scripts/build_restore_data.py loaded as a module (scripts/ is not a package)."""
    spec = importlib.util.spec_from_file_location("build_restore_data", REPO / "scripts" / "build_restore_data.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


PAGE_TEXT = [
    "KẾ HOẠCH THỰC HIỆN NHIỆM VỤ",
    (
        "Các sở, ban, ngành và Ủy ban nhân dân các huyện căn cứ chức năng, nhiệm vụ được giao "
        "xây dựng kế hoạch cụ thể, báo cáo kết quả thực hiện về Sở Nội vụ trước ngày 15 hằng tháng."
    ),
    "Kinh phí thực hiện được bố trí từ nguồn ngân sách nhà nước theo phân cấp hiện hành.",
    "Trong quá trình triển khai, nếu có khó khăn, vướng mắc, các đơn vị phản ánh kịp thời.",
]


@pytest.mark.skipif(shutil.which("tesseract") is None, reason="tesseract not installed")
def test_align_lines_on_a_real_english_ocr_page() -> None:
    build = _builder()
    from pipeline.synth import Degradation, PageStyle, Para, degrade, render_pages

    paragraphs = [Para(PAGE_TEXT[0], align="center", bold=True), *PAGE_TEXT[1:]]
    style = PageStyle(font="dejavu-serif", size_pt=12, dpi=250, page_in=(8.27, 4.0), margin_in=0.6)
    page = render_pages(paragraphs, style)[0]
    how = Degradation(skew_deg=1.2, blur=0.5, noise=6.0, specks=30, seed=4)
    image = degrade(page.image, how)
    words = build.parse_tsv(build.run_tesseract(image, style.dpi))
    aligned = build.align_lines(words, page.boxes, how.skew_deg, image.size)

    assert len(page.lines) >= 6
    assert len(aligned) >= len(page.lines) - 1
    for index, noisy in aligned.items():
        scores = [build.similarity(noisy, line) for line in page.lines]
        assert scores[index] == max(scores) and scores[index] >= 70, (noisy, page.lines[index])
    # The English model drops most Vietnamese marks: that is the noise we want to learn.
    text = " ".join(aligned.values())
    assert not re.search("[ảạằắẳẵặầấẩẫậẻẽẹềểễệỉịỏọồổỗộờớởỡợủụừứửữựỷỹỵđ]", text)

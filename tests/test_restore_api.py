"""Restoration as users meet it: `gazette restore`, `restore_lines`, and `convert` on text files.

Runs the shipped model in models/restore on text the project writes itself, garbled the way
English-model OCR garbles it.
"""

from __future__ import annotations

import io
import json
import random
import sys
from pathlib import Path

import pytest
from rapidfuzz.distance import Levenshtein

from pipeline.api import convert
from pipeline.cli import main
from pipeline.options import Options
from pipeline.restore.api import get_restorer, looks_garbled, restore_lines, restore_text
from pipeline.restore.noise import NoiseModel, strip_accents

ROOT = Path(__file__).resolve().parents[1]
CLEAN = [
    "Đơn vị chủ trì: Sở Nội vụ; đơn vị phối hợp: Sở Tài chính và các sở, ban, ngành có liên quan.",
    "Thời gian thực hiện: trong năm 2025, theo Kế hoạch số 2316/KH-UBND của Ủy ban nhân dân tỉnh.",
    "Tổ chức tập huấn nghiệp vụ lưu trữ cho công chức cấp huyện và cấp xã trên địa bàn tỉnh.",
    "Báo cáo kết quả thực hiện về Sở Nội vụ trước ngày 15/12/2025 để tổng hợp, trình Ủy ban nhân dân tỉnh.",
]


def _garbled() -> list[str]:
    noise = NoiseModel.load(ROOT / "corpora" / "restore_noise.json")
    rng = random.Random(7)
    return [noise.garble(line, rng) for line in CLEAN]


def _word_accuracy(restored: list[str]) -> float:
    """1 - word error rate (a garbled merge restored as two words still lines up)."""
    errors = sum(Levenshtein.distance(r.split(), c.split()) for r, c in zip(restored, CLEAN, strict=True))
    return 1 - errors / sum(len(c.split()) for c in CLEAN)


def test_restores_garbled_and_stripped_lines_keeping_codes() -> None:
    for noisy in (_garbled(), [strip_accents(line) for line in CLEAN]):
        restored = restore_lines(noisy)
        assert [len(line.tokens) for line in restored] == [len(line.split()) for line in noisy]
        texts = [line.text for line in restored]
        assert _word_accuracy(texts) >= 0.8, texts
        assert "2316/KH-UBND" in texts[1] and "15/12/2025" in texts[3]
        assert all(0 <= t.confidence <= 1 for line in restored for t in line.tokens)


def test_clean_text_is_left_alone() -> None:
    restored = [line.text for line in restore_lines(CLEAN)]
    assert _word_accuracy(restored) >= 0.95


def test_cli_is_line_aligned_with_stdin_and_json(monkeypatch: pytest.MonkeyPatch, capsys, tmp_path: Path) -> None:
    garbled = _garbled()
    text = f"  {garbled[0]}\n\n{garbled[1]}\n"
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(text.encode("utf-8"))))
    assert main(["restore", "-"]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == text.count("\n")
    assert out.split("\n")[1] == "" and out.startswith("  ") and not out.startswith("   ")
    source = tmp_path / "in.txt"
    source.write_text(text, encoding="utf-8")
    assert main(["restore", str(source), "-o", str(tmp_path / "out.txt"), "--json"]) == 0
    rows = [json.loads(line) for line in (tmp_path / "out.txt").read_text(encoding="utf-8").splitlines()]
    assert [row["line"] for row in rows] == [1, 2, 3, 4]
    assert rows[0]["tokens"][0]["source"] == garbled[0].split()[0] and "confidence" in rows[0]["tokens"][0]


def test_convert_restores_english_model_ocr_text_files(tmp_path: Path) -> None:
    path = tmp_path / "legacy.txt"
    path.write_text("\n".join(_garbled()) + "\n", encoding="utf-8")
    document = convert(path)
    tokens = [t for page in document.pages for line in page.lines for t in line.tokens]
    restored = [t for t in tokens if "restored" in t.flags]
    assert len(restored) > len(tokens) / 2
    assert all(t.source_text != t.text and t.restore_confidence is not None for t in restored)
    assert document.provenance.models["restore"].startswith("restore-")
    assert "restore" in {t.stage for t in document.provenance.timings}
    untouched = convert(path, Options(restore="never"))
    assert not any("restored" in t.flags for p in untouched.pages for line in p.lines for t in line.tokens)


def test_english_and_correct_vietnamese_are_not_taken_for_garbled_text() -> None:
    restorer = get_restorer()
    english = "The provincial Department of Home Affairs shall lead the digitisation of the archives this year."
    assert not looks_garbled(english, restorer)
    assert not looks_garbled(" ".join(CLEAN), restorer)
    assert looks_garbled(" ".join(_garbled()), restorer)


def test_seed_documents_are_classified(seeds_dir: Path) -> None:
    restorer = get_restorer()
    verdicts = {p.name[:3]: looks_garbled(p.read_text(encoding="utf-8"), restorer) for p in seeds_dir.glob("*.txt")}
    assert verdicts == {"000": False, "001": True, "002": False, "003": False, "004": True}


def test_convert_and_restore_give_the_same_text_for_the_same_file(tmp_path: Path) -> None:
    # Written for this test: English-model OCR garbling with a garbled code (QP for QĐ, ND for NĐ).
    lines = [
        "Can ctr Quyet dinh s6 368/QP-TTg va Nghi dinh s6 30/2020/ND-CP cia Chinh phi;",
        "Pon vi chu tri: S& Thong tin va Truyén thong; thoi gian thuc hién: nam 2025.",
        "Cac s&, ban, nganh va UBND cac huyén tri¢n khai thuc hién ké hoach nay.",
    ]
    path = tmp_path / "ocr.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    document = convert(path, Options(restore="auto"))
    converted = [line.text for page in document.pages for line in page.lines]
    restored = [line.text for line in restore_lines(lines)]
    assert converted == restored
    assert "368/QĐ-TTg" in converted[0] and "30/2020/NĐ-CP" in converted[0]
    fixed = [t for page in document.pages for line in page.lines for t in line.tokens if "code-fixed" in t.flags]
    assert sorted(t.source_text.rstrip(";") for t in fixed) == ["30/2020/ND-CP", "368/QP-TTg"]


def test_numbers_survive_and_a_number_drawn_for_a_word_is_read() -> None:
    # Written for this test, marks stripped as English-model OCR loses them.
    counts = [
        "tinh co 16 tinh va 5 thanh pho",
        "gom 12 xa va 3 phuong",
        "mot o to 16 cho ngoi",
        "trong 10 nam qua",
        "co 6 cau hoi va 7 nhiem vu",
    ]
    for line, restored in zip(counts, restore_lines(counts), strict=True):
        assert [t for t in restored.text.split() if t.isdigit()] == [t for t in line.split() if t.isdigit()]
    assert restore_lines(["da 14 mot don vi"])[0].text == "đã là một đơn vị"
    assert restore_lines(["cac don vi 6 co so"])[0].text == "các đơn vị ở cơ sở"


def test_the_lines_of_a_text_are_read_across_line_ends() -> None:
    # Written for this test: a word broken off from its partner on the next line.
    lines = ["Trien khai xay dung he", "thong thong tin cua tinh", "", "Nang cao nhan thuc cua cong", "dong ve so"]
    running = [line.text for line in restore_text("\n".join(lines))]
    assert running[1] == "thống thông tin của tỉnh"
    assert running[3].endswith("cộng") and running[4].startswith("đồng")
    assert running[2] == ""  # a blank line stays, and ends the paragraph


def test_misread_opening_labels_are_repaired_from_the_sequence() -> None:
    # Written for this test: headings and items as English-model OCR reads them.
    items = "a) Nang cao nhan thuc\nb) Tuyen truyen\nc) Dao tao\nd) Phat trien\nd) Xay dung"
    restored = restore_text(f"I. MUC TIEU\n{items}\n\nII. NOI DUNG\nIll. TO CHUC THUC HIEN")
    openers = [line.text.split()[0] for line in restored if line.text]
    assert openers == ["I.", "a)", "b)", "c)", "d)", "đ)", "II.", "III."]
    assert restored[5].tokens[0].kind == "label-fix" and restored[5].tokens[0].source == "d)"


def test_labels_are_repaired_over_the_pages_of_a_document() -> None:
    from pipeline.document import Line, Page, Token
    from pipeline.restore.api import repair_page_labels

    def page(number: int, *lines: str) -> Page:
        rows = [Line(tokens=[Token(text=w, source_text=w) for w in line.split()]) for line in lines]
        return Page(number=number, source="ocr", lines=rows)

    pages = [page(1, "I. MỤC ĐÍCH", "Nội dung"), page(2, "Các nhiệm vụ"), page(3, "H. NỘI DUNG")]
    first = repair_page_labels(pages)[2].lines[0].tokens[0]
    assert (first.text, first.source_text, first.flags) == ("II.", "H.", ["restored", "label-repaired"])
    assert repair_page_labels(pages[2:])[0].lines[0].tokens[0].text == "H."  # no I. before it

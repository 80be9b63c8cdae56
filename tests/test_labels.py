"""Labels as OCR reads them (pipeline/labels.py) and their repair from the sequence in segmentation."""

from __future__ import annotations

from pipeline.labels import arabic_label, next_letter, opening_label_repairs, roman_value
from pipeline.segment import segment_text


def test_roman_numerals_and_their_ocr_lookalikes() -> None:
    assert [roman_value(t) for t in ("I", "II", "III", "IV", "VII")] == [1, 2, 3, 4, 7]
    assert [roman_value(t) for t in ("H", "HI", "I1", "Il", "1II", "VH")] == [2, 3, 2, 2, 3, 7]
    assert roman_value("Vv") is None and roman_value("Q") is None


def test_headings_whose_l_strokes_restore_set_in_capitals_are_still_numerals() -> None:
    """English-model OCR reads II. as ll.; restore sets an all-capitals heading's line in capitals."""
    text = PLAN.replace("H. NỘI DUNG", "LL. NỘI DUNG").replace("Vv. TỔ CHỨC", "LIL. TỔ CHỨC")
    plan = segment_text(text)
    assert plan is not None
    assert [s.label for s in plan.sections] == ["I", "II", "III"]
    assert [len(s.tasks) for s in plan.sections] == [0, 2, 0]


def test_item_labels_with_lookalike_digits() -> None:
    assert arabic_label("I. Nội dung") == ("1", 3)
    assert arabic_label("l.2. Tuyên truyền") == ("1.2", 5)
    assert arabic_label("1. Nội dung") is None  # plain digits are the ordinary case
    assert arabic_label("II. NỘI DUNG") is None  # a Roman numeral, not a misread 11


PLAN = """ỦY BAN NHÂN DÂN TỈNH NGHỆ AN
Số: 12/KH-UBND
Nghệ An, ngày 3 tháng 3 năm 2025
KẾ HOẠCH
Số hóa tài liệu lưu trữ năm 2025
I. MỤC ĐÍCH, YÊU CẦU
Bảo đảm an toàn tài liệu.
H. NỘI DUNG
I. Số hóa hồ sơ
- Đơn vị chủ trì: Sở Nội vụ.
2. Xây dựng cơ sở dữ liệu
- Đơn vị chủ trì: Sở Khoa học và Công nghệ.
Vv. TỔ CHỨC THỰC HIỆN
1. Sở Nội vụ: hướng dẫn, kiểm tra.
2. Sở Tài chính: bố trí kinh phí.
"""


def test_a_scan_s_broken_labels_are_repaired_from_the_sequence() -> None:
    """H. for II., I. for 1., Vv. for III. (confirmed by nothing after it, but a known kind)."""
    plan = segment_text(PLAN)
    assert plan is not None
    assert [(s.label, s.kind) for s in plan.sections] == [
        ("I", "purpose"),
        ("II", "content"),
        ("III", "implementation"),
    ]
    content = plan.sections[1]
    assert "label-repaired" in content.flags
    assert [(t.path, [m.canonical for m in t.leads]) for t in content.tasks] == [
        ("1", ["Sở Nội vụ"]),
        ("2", ["Sở Khoa học và Công nghệ"]),
    ]
    assert "label-repaired" in content.tasks[0].flags
    assert [a.label for a in plan.sections[2].assignments] == ["1", "2"]


def test_one_lookalike_table_derived_from_the_learned_channel() -> None:
    from pipeline.agency_text import fold
    from pipeline.lookalikes import letter_for, to_letters
    from pipeline.restore.align import folded

    table = letter_for()
    # What English OCR writes for letters, as the channel counted it (corpora/restore_noise.json).
    assert {table[g] for g in "6&@¢"} == {"o"} and table["1"] == "l" and table["4"] == "a" and table["€"] == "e"
    assert not set(table) & set(":;,.-()/ ") and all(not g.isalpha() for g in table)  # punctuation stays
    assert to_letters("d6i m&i") == "doi moi"
    # Every stage folds with it: the agency matcher, training-data alignment, the field labels.
    assert fold("S& Tai chinh") == fold("Sở Tài chính") and fold("| $6 Cong Thuong") == fold("Sở Công Thương")
    assert fold("năm 2025") == "nam 2025"  # a number is not a word
    assert folded("d6i") == "doi"


def test_letter_items_follow_their_sequence() -> None:
    assert next_letter(None, "a") == "a" and next_letter(None, "d") is None
    assert next_letter("d", "d") == "đ"  # đ) read as d) by OCR without Vietnamese letters
    assert next_letter("d", "e") == "e" and next_letter("a", "g") is None  # đ) may be missing


def test_opening_labels_are_repaired_from_their_sequence() -> None:
    # Written for this test: a plan's headings and items as English- or bold-heading OCR reads them.
    lines = [
        "I. MUC DICH, YEU CAU", "a) mot", "b) hai", "c) ba", "d) bon", "d) nam", "e) sau",
        "H. NOI DUNG", "1. Chuyen doi so", "", "Ill. TO CHUC THUC HIEN",
        "H. Nguyen Van An",  # an initial in a name, not a heading in capitals
        "IV. KINH PHI", "Vv. DIEU KHOAN THI HANH",
    ]  # fmt: skip
    repairs = opening_label_repairs([line.split() for line in lines])
    assert repairs == {5: "đ)", 7: "II.", 10: "III."}
    # a new list starts again at a); a numeral that is not the next one is left as written
    assert opening_label_repairs([["a)"], ["d)"], ["a)"], ["b)"]]) == {}
    assert opening_label_repairs([["I.", "A"], ["HI.", "B"]]) == {}


def test_a_numeral_that_lost_its_last_stroke_is_the_next_one() -> None:
    def heads(*numerals: str) -> list[list[str]]:
        return [[numeral, "TIEU", "DE"] for numeral in numerals]

    assert opening_label_repairs(heads("I.", "II.", "II.", "IV.")) == {2: "III."}
    assert opening_label_repairs(heads("I.", "II.", "II.")) == {2: "III."}  # the last heading
    assert opening_label_repairs(heads("I.", "I.", "III.")) == {1: "II."}
    # I. again is a new part's sequence unless III. follows; II. II. III. does not say which II. is wrong
    assert opening_label_repairs(heads("I.", "II.", "I.", "II.")) == {}
    assert opening_label_repairs(heads("I.", "I.", "II.")) == {}
    assert opening_label_repairs(heads("I.", "II.", "II.", "III.")) == {}
    assert opening_label_repairs(heads("IV.", "IV.")) == {}  # IV less a stroke is not V

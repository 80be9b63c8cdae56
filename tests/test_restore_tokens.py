"""Tests of how lines are cut for restoration (tokens.py) and of OCR-line alignment (align.py)."""

from __future__ import annotations

import pytest

from pipeline.restore.align import align_tokens, core_targets
from pipeline.restore.tokens import (
    apply_case,
    case_pattern,
    fix_code,
    join,
    render,
    restore_case,
    split_line,
    split_token,
)

# Hand-written lines in the style of English-model OCR of Vietnamese plans.
LINE = "  Giao S& Xay dung  chti tri, (phéi hop) véi cac don vi;  "


def cut(token: str, **kw: object) -> tuple[str, str, str, str]:
    piece = split_token(token, **kw)  # type: ignore[arg-type]
    return piece.prefix, piece.core, piece.suffix, piece.kind


def test_one_piece_per_token_and_join_keeps_whitespace() -> None:
    pieces = split_line(LINE)
    assert len(pieces) == len(LINE.split())
    assert join(LINE, [p.text for p in pieces]) == LINE
    new = join(LINE, [p.output(p.core.upper()) for p in pieces])
    assert new.startswith("  GIAO S& XAY DUNG  CHTI TRI, (PHÉI HOP) ")
    with pytest.raises(ValueError):
        join(LINE, ["x"])


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("trì:", ("", "trì", ":", "word")),
        ("(Điều", ("(", "Điều", "", "word")),
        ('"abc"', ('"', "abc", '"', "word")),
        ("nhau.", ("", "nhau", ".", "word")),
        ("S&", ("", "S&", "", "word")),
        ("S@,", ("", "S@", ",", "word")),
        ("d6i", ("", "d6i", "", "word")),
        ("1y", ("", "1y", "", "word")),
        ("ctia", ("", "ctia", "", "word")),
        ("st?", ("", "st?", "", "word")),
        ("|én", ("", "|én", "", "word")),
        ("tru’ong", ("", "tru’ong", "", "word")),
        ("—", ("", "—", "", "protected")),
        ("...", ("", "...", "", "protected")),
    ],
)
def test_prefix_core_suffix(token: str, expected: tuple[str, str, str, str]) -> None:
    assert cut(token) == expected


@pytest.mark.parametrize(
    "token",
    ["1759", "06/8/2012", "2011-2020", "120.000", "6,7%", "II/2025", "1759/KH-UBND", "21/CT-TTg", "U23", "m2"],
)
def test_numbers_and_codes_are_protected(token: str) -> None:
    assert split_token(token).kind == "protected"


def test_urls_emails_and_punctuation_are_protected() -> None:
    assert split_token("https://binhduong.gov.vn/tin-tuc").kind == "protected"
    assert split_token("vanthu@tinh.gov.vn;").kind == "protected"
    assert split_token("(www.example.vn)").core == "www.example.vn"


def test_garbled_codes_are_fixed() -> None:
    piece = split_token("368/QP-TTg")
    assert (piece.kind, piece.output()) == ("code-fix", "368/QĐ-TTg")
    assert split_token("(72/2015/ND-CP),").output() == "(72/2015/NĐ-CP),"
    assert split_token("ND-CP").output() == "NĐ-CP"
    assert [p.kind for p in split_line("CP TTg UBND TU")] == ["protected", "protected", "protected", "word"]
    broken = split_token("368/QP-")  # a code cut at the end of the line keeps its hyphen
    assert (broken.core, broken.suffix, broken.fixed) == ("368/QP-", "", "368/QĐ-")
    assert fix_code("15/2020/HD-BTC") is None  # HD (hướng dẫn) is a real abbreviation
    assert fix_code("10/2019/TT-BLDTBXH") == "10/2019/TT-BLĐTBXH"


def test_headings_list_markers_and_small_numbers() -> None:
    first = split_line("IV. TO CHUC THUC HIEN")
    assert (first[0].core, first[0].kind) == ("IV", "protected")
    assert split_line("a) Phéi hop")[0].kind == "protected"
    assert split_line("Chuong II")[1].kind == "protected"
    # a number before a capital (a name) or after a count's word stays a number
    assert split_line("tang 6 Anh")[1].kind == "protected"
    assert split_line("Diéu 6 nay")[1].kind == "protected"
    assert split_line("1. Muc tiéu")[0].kind == "protected"
    assert [p.kind for p in split_line("TM. UY BAN")] == ["protected", "word", "word"]
    assert split_line("KT. CHU TICH")[0].kind == "protected"


@pytest.mark.parametrize(
    ("token", "pattern"),
    [("MUC", "upper"), ("Pon", "title"), ("d6i", "lower"), ("S&", "title"), ("TTg", "mixed"), ("6", "lower")],
)
def test_case_pattern(token: str, pattern: str) -> None:
    assert case_pattern(token) == pattern


def test_casing_of_outputs() -> None:
    assert apply_case(case_pattern("MUC"), "mục") == "MỤC"
    assert apply_case(case_pattern("Pon"), "đơn") == "Đơn"
    assert apply_case("title", "với nội") == "Với nội"
    assert restore_case("TTg", "ttg") == "TTg"  # a copied core keeps its own casing
    assert restore_case("ThONG", "thông") == "THÔNG"
    assert restore_case("tHong", "thông") == "thông"


def test_align_one_to_one_with_debris_and_merge() -> None:
    pairs = align_tokens("S& Tai chinh . chti tri donvi", "Sở Tài chính chủ trì đơn vị")
    assert pairs == [
        ("S&", "Sở"),
        ("Tai", "Tài"),
        ("chinh", "chính"),
        (".", ""),
        ("chti", "chủ"),
        ("tri", "trì"),
        ("donvi", "đơn vị"),
    ]


def test_align_gives_up_on_splits_and_lost_words() -> None:
    assert align_tokens("phéi h op véi", "phối hợp với") is None  # a split word
    assert align_tokens("Sở Tài chính", "Sở Tài chính chủ trì") is None  # lost words


def test_core_targets_are_lower_case_cores() -> None:
    targets = core_targets("(Pon vi: S& Ngoai vu),", "(Đơn vị: Sở Ngoại vụ),")
    assert targets is not None
    assert [t for _, t in targets] == ["đơn", "vị", "sở", "ngoại", "vụ"]
    assert targets[1][0].suffix == ":"


@pytest.mark.parametrize(
    ("line", "outputs", "expected"),
    [
        # an all-caps heading stays all caps, a word OCR read in lower case included
        ("CONG HOA XA HOI CHU nghia", "cộng hòa xã hội chủ nghĩa", "CỘNG HÒA XÃ HỘI CHỦ NGHĨA"),
        # ở, ộ read as O: a lone all-caps syllable in running text is title case
        ("BO Noi vu, SO Tu phap chu tri", "bộ nội vụ sở tư pháp chủ trì", "Bộ Nội vụ, Sở Tư pháp chủ trì"),
        # an acronym (the output is the input itself) and a run of caps stay as written
        ("UBND tinh giao KE HOACH nay", "tỉnh giao kế hoạch này", "UBND tỉnh giao KẾ HOẠCH này"),
        # an acronym that gets its Đ back is still an acronym, not a title-case word
        ("Thuong truc HDND tinh", "thường trực hđnd tỉnh", "Thường trực HĐND tỉnh"),
        ("Trien khai chuyen doi so", "triển khai chuyển đổi số", "Triển khai chuyển đổi số"),
    ],
)
def test_casing_follows_the_line(line: str, outputs: str, expected: str) -> None:
    pieces = split_line(line)
    words = iter(outputs.split())
    chosen = [next(words) if p.kind == "word" else None for p in pieces]
    assert " ".join(render(pieces, chosen)) == expected


def test_a_short_number_between_words_may_be_a_garbled_syllable() -> None:
    pieces = split_line("da 14 mot don vi, nam 2025 co 16, tinh; Dieu 14 quy dinh 6 muc, thuc hien: 6 thang")
    kinds = [(p.core, p.kind) for p in pieces if p.core.isdigit()]
    # 14 and 6 between two words get candidates; a year, a number before punctuation, after
    # "Điều" (a count's context) or after punctuation stays a number.
    assert kinds == [("14", "word"), ("2025", "protected"), ("16", "protected"), ("14", "protected"),
                     ("6", "word"), ("6", "protected")]  # fmt: skip


def test_a_title_case_name_in_a_caps_line_stays_title_case() -> None:
    pieces = split_line("PHO CHU TICH Bui Thanh An")
    chosen = ["phó", "chủ", "tịch", "bùi", "thanh", "an"]
    assert " ".join(render(pieces, chosen)) == "PHÓ CHỦ TỊCH Bùi Thanh An"


def test_valid_codes_and_long_roman_numerals_are_kept() -> None:
    assert fix_code("02600/PA-UBND") is None  # PA (phương án) is a document type, not a garbled ĐA
    assert fix_code("368/QP-TTg") == "368/QĐ-TTg"
    assert split_token("XIII").kind == "protected" and split_token("VIII,").kind == "protected"
    assert split_token("VI").kind == "word"  # two letters may be a syllable (VÌ)


def test_footnote_marks_and_formulas_are_copied() -> None:
    # a footnote mark glued to a word goes with the punctuation after it; the word is restored
    piece = split_token("quan[1];")
    assert (piece.core, piece.suffix, piece.kind) == ("quan", "[1];", "word")
    assert split_token("hien(2)").suffix == "(2)"
    # capitals and digits joined by a hyphen: a formula or a code, not a garbled syllable
    assert [split_token(t).kind for t in ("N-NH4+,", "P-PO43-,", "COVID-19")] == ["protected"] * 3
    assert split_token("d6i").kind == "word" and split_token("S6").kind == "word"


def test_a_capital_i_read_for_an_l_inside_a_line_is_lower_case() -> None:
    pieces = split_line("ve quan Iy va Ia Grai")
    chosen = ["về", "quản", "lý", "và", "ia", "grai"]
    assert " ".join(render(pieces, chosen)) == "về quản lý và Ia Grai"  # a name read as written stays
    assert render(split_line("Iy do"), ["lý", "do"]) == ["Lý", "do"]  # a line's first word keeps its capital

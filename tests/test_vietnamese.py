from __future__ import annotations

import unicodedata

import pytest

from pipeline.vietnamese import classic_tones, has_diacritics, normalize, strip_diacritics


@pytest.mark.parametrize(
    ("new", "classic"),
    [
        ("hoà bình", "hòa bình"),
        ("Khánh Hoà", "Khánh Hòa"),
        ("thuỷ lợi", "thủy lợi"),
        ("Uỷ ban", "Ủy ban"),
        ("UỶ BAN", "ỦY BAN"),
        ("sức khoẻ", "sức khỏe"),
        ("hoá học", "hóa học"),
        ("tuỳ ý", "tùy ý"),
    ],
)
def test_new_placement_becomes_classic(new: str, classic: str) -> None:
    assert classic_tones(new) == classic


@pytest.mark.parametrize("word", ["quý", "quả", "hoàng", "thuyền", "toán", "khoảng", "hòa", "Quỳnh", "hoạch"])
def test_words_already_classic_or_closed_are_unchanged(word: str) -> None:
    assert classic_tones(word) == word


def test_normalize_composes_decomposed_input() -> None:
    decomposed = unicodedata.normalize("NFD", "Sở Thông tin và Truyền thông")
    assert normalize(decomposed) == "Sở Thông tin và Truyền thông"
    assert unicodedata.is_normalized("NFC", normalize(decomposed))


def test_strip_diacritics_folds_d_and_marks() -> None:
    assert strip_diacritics("Đơn vị chủ trì") == "Don vi chu tri"
    assert has_diacritics("Sở") and not has_diacritics("Ban")

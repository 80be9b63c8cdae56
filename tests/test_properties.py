"""Property-based tests (hypothesis): clean text, text decoding, token ids and the corrections
journal hold for any input, not only the ones we thought of. The number of examples is the
profile's (tests/conftest.py: modest by default, so `make test` stays quick); the XML exports'
properties are in tests/export/test_properties_xml.py."""

from __future__ import annotations

import string
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.document import parse_token_id, token_id
from pipeline.errors import InputError
from pipeline.review.journal import CorrectionRecord, Journal
from pipeline.textenc import decode_text, encode_text
from pipeline.vietnamese import clean_text, is_unclean

# Every code point, controls, non-characters and lone surrogates included.
ANY_CHARACTER = st.characters(codec=None, exclude_categories=())
ANY_TEXT = st.text(ANY_CHARACTER, max_size=40)
# The letters of Vietnamese and what surrounds them in a plan.
VIETNAMESE_LOWER = "aăâbcdđeêghiklmnoôơpqrstuưvxy" + "àáảãạằắẳẵặầấẩẫậèéẻẽẹềếểễệìíỉĩịòóỏõọồốổỗộờớởỡợùúủũụừứửữựỳýỷỹỵ"
PLAN_CHARACTERS = VIETNAMESE_LOWER + VIETNAMESE_LOWER.upper() + " ,.;:()/-0123456789\n"
VIETNAMESE = st.text(st.sampled_from(PLAN_CHARACTERS), max_size=60)


# --- clean text ------------------------------------------------------------------------------


@given(ANY_TEXT)
def test_clean_text_leaves_only_clean_nfc_text_and_is_idempotent(text: str) -> None:
    cleaned = clean_text(text)
    assert not any(is_unclean(c) for c in cleaned)
    assert unicodedata.is_normalized("NFC", cleaned)
    assert clean_text(cleaned) == cleaned
    cleaned.encode("utf-8")  # no lone surrogate left: every clean text is valid UTF-8


@given(ANY_TEXT)
def test_clean_text_keeps_the_lines_and_words_python_reads(text: str) -> None:
    """Controls read as line ends or spaces become them, so lines and words (and so token ids)
    stay where they were; other controls vanish from inside their word. (A last line of
    nothing but controls vanishes with them: no line after it gets another number.)"""

    def lines(words: list[list[str]]) -> list[list[str]]:
        while words and not words[-1]:
            words = words[:-1]
        return words

    before = [[clean_text(w) for w in line.split() if clean_text(w)] for line in text.splitlines()]
    assert lines([line.split() for line in clean_text(text).splitlines()]) == lines(before)


# --- text decoding ------------------------------------------------------------------------------


@given(st.binary(max_size=300), st.sampled_from([None, "utf-8", "utf-16", "cp1258", "vni", "tcvn3"]))
def test_any_bytes_decode_or_are_refused_with_a_typed_error(data: bytes, encoding: str | None) -> None:
    try:
        text, name = decode_text(data, encoding=encoding)
    except InputError:
        return
    assert unicodedata.is_normalized("NFC", text) and text.strip()
    assert name in ("utf-8", "utf-8-sig", "utf-16", "utf-32", "cp1258", "vni", "tcvn3")


@given(VIETNAMESE, st.sampled_from(["utf-8", "utf-16", "utf-32", "cp1258", "vni"]))
def test_vietnamese_text_round_trips_through_every_encoding(text: str, encoding: str) -> None:
    if not text.strip():
        return
    decoded, name = decode_text(encode_text(text, encoding), encoding=encoding)
    assert (decoded, name) == (unicodedata.normalize("NFC", text), encoding)


@given(st.text(st.sampled_from(VIETNAMESE_LOWER + " ,.;:()-0123456789\n"), max_size=60))
def test_lowercase_vietnamese_round_trips_through_tcvn3(text: str) -> None:
    """TCVN3 has no codes for capitals with marks (the uppercase fonts drew them from the
    lowercase codes), so decoding guesses capitals back: only lowercase text round-trips."""
    if not text.strip():
        return
    assert decode_text(encode_text(text, "tcvn3"), encoding="tcvn3") == (unicodedata.normalize("NFC", text), "tcvn3")


@given(st.lists(st.text(st.sampled_from(VIETNAMESE_LOWER), min_size=1, max_size=7), min_size=1, max_size=12))
def test_utf8_is_detected_without_being_told(words: list[str]) -> None:
    text = " ".join(words)
    assert decode_text(text.encode("utf-8")) == (unicodedata.normalize("NFC", text), "utf-8")


# --- token ids ----------------------------------------------------------------------------------

POSITIVE = st.integers(min_value=1, max_value=10**6)


@given(POSITIVE, POSITIVE, POSITIVE)
def test_token_ids_round_trip(page: int, line: int, word: int) -> None:
    assert parse_token_id(token_id(page, line, word)) == (page, line, word)


@given(st.text(st.sampled_from(string.printable + "đ٣"), max_size=20))
def test_anything_else_is_not_a_token_id(text: str) -> None:
    try:
        page, line, word = parse_token_id(text)
    except ValueError:
        return
    assert token_id(page, line, word) == text  # only the canonical spelling parses


# --- the corrections journal --------------------------------------------------------------------

RECORDS = st.builds(
    CorrectionRecord,
    edit_id=st.text(string.hexdigits, min_size=1, max_size=32),
    document_sha256=st.text("0123456789abcdef", min_size=64, max_size=64),
    document=ANY_TEXT.filter(bool),
    page=POSITIVE,
    token=st.builds(token_id, POSITIVE, POSITIVE, POSITIVE),
    source_text=ANY_TEXT,
    previous=ANY_TEXT,
    text=ANY_TEXT,
    reviewer=ANY_TEXT,
    time=st.datetimes().map(lambda moment: moment.isoformat()),
)


@given(st.lists(RECORDS, max_size=5), st.lists(st.binary(max_size=40), max_size=3))
def test_the_journal_gives_back_every_record_cleaned_whatever_lines_are_around_them(
    tmp_path_factory: pytest.TempPathFactory, records: list[CorrectionRecord], junk: list[bytes]
) -> None:
    out_dir = tmp_path_factory.mktemp("journal")
    journal = Journal(out_dir)
    for n, record in enumerate(records):
        journal.append(record)
        if n < len(junk):  # a damaged line between records: skipped on reading, never fatal
            with journal.path.open("ab") as handle:
                handle.write(junk[n].replace(b"\n", b" ") + b"\n")
    loaded = journal.load()
    assert loaded == records
    for record in loaded:
        for text in (record.text, record.previous, record.source_text, record.reviewer):
            assert text == clean_text(text)
        assert record.document.encode("utf-8")


@given(st.binary(max_size=200))
def test_a_journal_of_any_bytes_loads_without_raising(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path: Path = tmp_path_factory.mktemp("journal")
    journal = Journal(path)
    journal.path.parent.mkdir(parents=True)
    journal.path.write_bytes(data)
    assert isinstance(journal.load(), list)

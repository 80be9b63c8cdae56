"""Clean text (pipeline.vietnamese.clean_text): what it removes, and inputs that hold such
characters converting into XML every export can write (issue 14, A)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.api import convert
from pipeline.export import to_alto, to_hocr
from pipeline.ingest import open_source
from pipeline.options import Options
from pipeline.vietnamese import clean_text, is_unclean

TEXT_ONLY = Options(restore="never")


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("Sở\x00 Nội\x01 vụ\x7f", "Sở Nội vụ"),  # C0 controls and DEL removed
        ("a\x80b\x9fc", "abc"),  # C1 controls removed
        ("một\r\nhai\rba", "một\nhai\nba"),  # CR LF and CR end lines
        ("một\x0bhai\x0cba\x1cbốn\x85năm", "một\nhai\nba\nbốn\nnăm"),  # what splitlines reads as line ends
        ("Sở\x1fNội", "Sở Nội"),  # the unit separator: what str.split reads as a space
        ("tab\tkept\nand lines", "tab\tkept\nand lines"),
        ("a\ufffeb\uffffc\U0001fffed\U0010ffffe\ufdd0f", "abcdef"),  # non-characters
        ("lone\ud800 \udcff surrogates", "lone  surrogates"),
        ("Ho\x01\u0300a", "Hòa"),  # a mark cut from its letter by a control: composed again (NFC)
    ],
)
def test_clean_text_removes_what_no_text_means(dirty: str, clean: str) -> None:
    assert clean_text(dirty) == clean


def test_clean_text_can_keep_the_page_separator_and_names_what_it_removes() -> None:
    assert clean_text("trang 1\x0ctrang\x01 2", keep="\x0c") == "trang 1\x0ctrang 2"
    assert [c for c in "a\tb\nc\x01\x0c\ufffe\ud800" if is_unclean(c)] == ["\x01", "\x0c", "\ufffe", "\ud800"]


def _text_layer_pdf(lines: list[bytes]) -> bytes:
    """A one-page PDF whose text layer is `lines` (PDF string bytes: octal escapes such as \\000
    put a NUL into the text), in Helvetica: what a word processor's broken export can hold."""
    body = b"BT /F1 12 Tf 14 TL 72 720 Td " + b" ".join(b"(" + line + b") Tj T*" for line in lines) + b" ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(body) + body + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body_object in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body_object + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_a_pdf_text_layer_with_nul_converts_into_valid_alto(tmp_path: Path, valid_alto) -> None:
    path = tmp_path / "layer.pdf"
    path.write_bytes(
        _text_layer_pdf(
            [b"KE HOACH so hoa tai lieu\\000 luu tru nam 2025", b"Don vi chu tri: So Noi vu\\001\\002 tinh"]
        )
    )
    document = convert(path, TEXT_ONLY)
    assert document.pages[0].source == "text-layer"
    assert [line.text for line in document.pages[0].lines] == [
        "KE HOACH so hoa tai lieu luu tru nam 2025",
        "Don vi chu tri: So Noi vu tinh",
    ]
    root = valid_alto(to_alto(document))
    assert "tinh" in [s.get("CONTENT") for s in root.iter("{*}String")]


def test_a_text_file_with_non_characters_keeps_its_pages_lines_and_words(tmp_path: Path, valid_alto) -> None:
    path = tmp_path / "plan.txt"
    path.write_text("KẾ HOẠCH\uffff\r\nSố hóa\x01 tài liệu\x0cTrang\x0b hai\ufdd0\n", encoding="utf-8")
    assert open_source(path, TEXT_ONLY).page_count == 2
    document = convert(path, TEXT_ONLY)
    assert [[line.text for line in page.lines] for page in document.pages] == [
        ["KẾ HOẠCH", "Số hóa tài liệu"],
        ["Trang", "hai"],
    ]
    valid_alto(to_alto(document))
    to_hocr(document)  # well-formed XHTML: lxml refuses to write the characters otherwise


def test_a_control_character_in_the_file_name_is_percent_encoded_in_xml(tmp_path: Path, valid_alto) -> None:
    path = tmp_path / "kế\x01hoạch.txt"
    path.write_text("KẾ HOẠCH\nSố hóa tài liệu\n", encoding="utf-8")
    document = convert(path, TEXT_ONLY)
    assert document.source_path == str(path)  # the JSON keeps the exact name: the file is found again
    root = valid_alto(to_alto(document))
    assert root.findtext(".//{*}fileName") == str(tmp_path / "kế%01hoạch.txt")
    assert "kế%01hoạch.txt" in to_hocr(document)

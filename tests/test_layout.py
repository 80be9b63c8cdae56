"""Reading order of two columns read as one set of lines (pipeline/layout.py), on lines built
from word boxes: the letterhead of a plan, a table row, a stretched line."""

from __future__ import annotations

from pipeline.document import Box, Line, Token
from pipeline.layout import column_order

HEIGHT = 50  # a word's box height in pixels; a word space is about a third of it


def _line(y: int, *runs: tuple[int, str]) -> Line:
    """A line at height y, with each run of words starting at its x, words 20 px apart."""
    tokens = []
    for x, words in runs:
        for word in words.split():
            width = 30 * len(word)
            tokens.append(Token(text=word, source_text=word, box=Box(x0=x, y0=y, x1=x + width, y1=y + HEIGHT)))
            x += width + 20
    return Line(box=Box.union([t.box for t in tokens]), tokens=tokens)


def _texts(lines: list[Line]) -> list[str]:
    return [" ".join(t.text for t in line.tokens) for line in lines]


def test_letterhead_read_as_one_is_read_column_by_column() -> None:
    lines = [
        _line(100, (300, "ỦY BAN NHÂN DÂN"), (1200, "CỘNG HÒA XÃ HỘI")),
        _line(180, (330, "TỈNH HÒA BÌNH"), (1250, "Độc lập - Tự do")),
        _line(260, (1220, "Hạnh phúc")),  # right only, right below the right column
        _line(340, (280, "Căn cứ Luật Lưu trữ năm 2024; căn cứ Quyết định số 458/QĐ-TTg ngày")),
    ]
    assert _texts(column_order(lines)) == [
        "ỦY BAN NHÂN DÂN",
        "TỈNH HÒA BÌNH",
        "CỘNG HÒA XÃ HỘI",
        "Độc lập - Tự do",
        "Hạnh phúc",
        "Căn cứ Luật Lưu trữ năm 2024; căn cứ Quyết định số 458/QĐ-TTg ngày",
    ]
    cut = column_order(lines)[0]
    assert cut.box is not None and cut.box.x1 < 1200  # each piece gets its own box


def test_letterhead_with_number_and_date_is_read_row_by_row() -> None:
    """Issuer | motto, then number | place and date: the letterhead's two rows."""
    lines = [
        _line(100, (300, "ỦY BAN NHÂN DÂN"), (1200, "CỘNG HÒA XÃ HỘI")),
        _line(180, (330, "TỈNH HÒA BÌNH"), (1250, "Độc lập - Tự do")),
        _line(260, (320, "Số: 2316/KH-UBND"), (1220, "Hòa Bình, ngày 14 tháng 3")),
    ]
    assert _texts(column_order(lines)) == [
        "ỦY BAN NHÂN DÂN",
        "TỈNH HÒA BÌNH",
        "CỘNG HÒA XÃ HỘI",
        "Độc lập - Tự do",
        "Số: 2316/KH-UBND",
        "Hòa Bình, ngày 14 tháng 3",
    ]


def test_one_sided_line_after_a_blank_is_not_pulled_into_the_column() -> None:
    lines = [
        _line(100, (300, "ỦY BAN NHÂN DÂN"), (1200, "CỘNG HÒA XÃ HỘI")),
        _line(180, (330, "TỈNH HÒA BÌNH"), (1250, "Độc lập - Tự do")),
        _line(260, (1220, "Hòa Bình, ngày 14")),
        _line(420, (300, "KẾ HOẠCH")),  # left-aligned title after a blank: not the left column
    ]
    assert _texts(column_order(lines))[-2:] == ["Hòa Bình, ngày 14", "KẾ HOẠCH"]
    assert _texts(column_order(lines))[:2] == ["ỦY BAN NHÂN DÂN", "TỈNH HÒA BÌNH"]


def test_a_rule_under_the_issuer_does_not_stop_the_columns() -> None:
    lines = [
        _line(100, (300, "ỦY BAN NHÂN DÂN"), (1200, "CỘNG HÒA XÃ HỘI")),
        _line(180, (330, "TỈNH HÒA BÌNH"), (800, "——"), (1250, "NAM")),
    ]
    assert _texts(column_order(lines)) == ["ỦY BAN NHÂN DÂN", "TỈNH HÒA BÌNH ——", "CỘNG HÒA XÃ HỘI", "NAM"]


def test_table_rows_stretched_lines_and_specks_are_left_as_read() -> None:
    table = [
        _line(100, (300, "1"), (500, "Số hóa tài liệu"), (1400, "Sở Nội vụ")),
        _line(180, (300, "2"), (500, "Bảo quản hồ sơ"), (1400, "Sở Tài chính")),
    ]
    assert column_order(table) == table
    stretched = [
        _line(100, (300, "triển khai thực hiện"), (1200, "kế hoạch")),
        _line(180, (300, "của Ủy ban nhân dân tỉnh về việc số hóa tài liệu lưu trữ")),
    ]
    assert column_order(stretched) == stretched
    # Two wide gaps that do not line up are not a gutter.
    apart = [
        _line(100, (300, "các sở"), (900, "ban ngành")),
        _line(180, (300, "và các đơn vị trực thuộc tỉnh"), (1700, "khác")),
    ]
    assert column_order(apart) == apart

"""Timelines normalised to ISO 8601, on clean wording and on English-model OCR of it."""

from __future__ import annotations

import pytest

from pipeline.segment.timelines import find_deadline, parse_timeline


@pytest.mark.parametrize(
    ("text", "kind", "start", "end", "recurring"),
    [
        ("Tháng 6 năm 2019.", "month", "2019-06", "2019-06", False),
        ("Quý II/2019", "quarter", "2019-04", "2019-06", False),
        ("Năm 2019", "year", "2019", "2019", False),
        ("trước ngày 10/4/2019", "deadline", None, "2019-04-10", False),
        ("Thường xuyên", "recurring", None, None, True),
        ("Quý II/2025 và Quý III/2025.", "quarter", "2025-04", "2025-09", False),
        ("Tháng 6 - 8/2019", "month", "2019-06", "2019-08", False),
        ("giai đoạn 2021 - 2025", "year", "2021", "2025", False),
        ("ngày 20/5/2019", "date", "2019-05-20", "2019-05-20", False),
        # English-model OCR of the same wording
        ("thyc hién trong quy 11/2019.", "quarter", "2019-04", "2019-06", False),
        ("Quy 1/2025.", "quarter", "2025-01", "2025-03", False),
        ("Thang 7 ndm 2021.", "month", "2021-07", "2021-07", False),
        ("Thudng xuyén trong nam 2021.", "year", "2021", "2021", True),
        ("Trong nim 2021 (theo ké hoach ctia co quan chu tri).", "year", "2021", "2021", False),
        ("trudc ngay 30/11/2025.", "deadline", None, "2025-11-30", False),
        ("Theo ké hoach cta co quan chu tri", "unspecified", None, None, False),
        ("in 2018", "year", "2018", "2018", False),
    ],
)
def test_parse_timeline(text: str, kind: str, start: str | None, end: str | None, recurring: bool) -> None:
    timeline = parse_timeline(text)
    assert (timeline.kind, timeline.start, timeline.end, timeline.recurring) == (kind, start, end, recurring)
    assert timeline.text == text.rstrip(".;,")  # the original wording is kept beside it


def test_deadline_inside_a_passage() -> None:
    found = find_deadline("Văn bản phân công gửi Ủy ban nhân dân tỉnh trước ngày 10/4/2019.\nTiếp theo")
    assert found is not None and (found.kind, found.end) == ("deadline", "2019-04-10")
    assert find_deadline("Không có hạn nào ở đây; ngày 31/2/2019 không tồn tại.") is None

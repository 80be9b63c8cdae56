"""Names in restored text: places from the administrative-unit list, the signer's name."""

from __future__ import annotations

from pipeline.restore.api import restore_text
from pipeline.restore.names import NAME_CONFIDENCE, name_lines, place_runs, surname
from pipeline.restore.tokens import split_token

# Written for these tests, in the style of English-model OCR of a plan's last page.
LINES = [
    "Hoi Van hoc Nghe thuat Binh",
    "Duong, Bao Binh Duong va tinh Ha Noi",
    "Ban Quan ly Khu cong nghiep",
    "KT. CHU TICH",
    "PHO CHU TICH",
    "",
    "Dang Minh Hung",
]


def _pieces(lines: list[str]):
    return [[split_token(t) for t in line.split()] for line in lines]


def test_place_names_are_found_also_across_a_line_end() -> None:
    runs = place_runs(_pieces(LINES))
    assert [(positions, name) for positions, name in runs] == [
        ([(0, 5), (1, 0)], "Bình Dương"),
        ([(1, 2), (1, 3)], "Bình Dương"),
        ([(1, 6), (1, 7)], "Hà Nội"),
    ]
    assert place_runs(_pieces(["Ban Quan ly Khu cong nghiep", "binh duong", "Binh, Duong"])) == []


def test_signer_lines_and_family_names() -> None:
    assert name_lines(_pieces(LINES)) == {6: 0}
    assert name_lines(_pieces(["Da ky: Nguyen Van Thanh"])) == {0: 2}
    assert name_lines(_pieces(["Noi dung chinh", "Nguyen Van Thanh"])) == {}  # no signature before it
    assert name_lines(_pieces(["KT. CHU TICH", "PHO CHU TICH"])) == {}  # positions are not names
    assert surname("Nguyen") == "Nguyễn" and surname("Dang") == "Đặng" and surname("Minh") is None


def test_restored_text_names_places_and_leaves_given_names_to_a_reviewer() -> None:
    restored = restore_text("\n".join(LINES))
    assert restored[0].text.endswith("Bình") and restored[1].text.startswith("Dương, Báo Bình Dương")
    assert "Hà Nội" in restored[1].text
    signer = restored[6]
    assert signer.text == "Đặng Minh Hung"  # the family name restored, the given names as read
    assert [t.kind for t in signer.tokens] == ["word", "name", "name"]
    assert all(t.confidence == NAME_CONFIDENCE for t in signer.tokens[1:])


def test_convert_flags_the_signers_given_names(tmp_path) -> None:
    from pipeline.api import convert
    from pipeline.options import Options
    from pipeline.review.attention import LOW

    path = tmp_path / "tail.txt"
    path.write_text("\n".join(LINES) + "\n", encoding="utf-8")
    document = convert(path, Options(restore="always"))
    flagged = [t for p in document.pages for line in p.lines for t in line.tokens if "personal-name" in t.flags]
    assert [t.text for t in flagged] == ["Minh", "Hung"]
    assert all(t.restore_confidence is not None and t.restore_confidence < LOW.of(t) for t in flagged)  # queued

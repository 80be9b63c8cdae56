"""Which words the review queues: low confidence, unknown agencies, conflicts."""

from __future__ import annotations

from pipeline.api import resegment, text_to_page
from pipeline.document import (
    AgencyMention,
    Document,
    Plan,
    PlanMetadata,
    Provenance,
    Section,
    Span,
    Task,
)
from pipeline.review.attention import DOUBTFUL, LOW, Low, review_states
from pipeline.review.journal import apply_corrections, new_record

TEXT = "KẾ HOẠCH số hóa\f1. Đơn vị chủ trì: Sở Tư liệu Xyz\nThời gian: Quý II/2025"


def _document(mentions: list[AgencyMention]) -> Document:
    pages = [text_to_page(chunk, number) for number, chunk in enumerate(TEXT.split("\f"), 1)]
    task = Task(
        label="1", path="1", level=1, title="Đơn vị chủ trì", span=Span(start=16, end=len(TEXT)), leads=mentions
    )
    section = Section(heading="KẾ HOẠCH", kind="content", span=Span(start=0, end=len(TEXT)), tasks=[task])
    return Document(
        source_path="plan.txt",
        sha256="ab" * 32,
        kind="text",
        pages=pages,
        provenance=Provenance(gazette_version="test"),
        plan=Plan(language="vi", metadata=PlanMetadata(), sections=[section]),
    )


def _mention(name: str, status: str) -> AgencyMention:
    start = TEXT.index(name)
    return AgencyMention(text=name, span=Span(start=start, end=start + len(name)), status=status)


def test_levels_follow_the_lower_of_ocr_and_restore_confidence() -> None:
    document = _document([])
    tokens = [token for _, _, _, token in document.tokens()]
    tokens[0].ocr_confidence, tokens[0].restore_confidence = 0.97, 0.4
    between = round((LOW.ocr + DOUBTFUL) / 2, 4)  # doubtful: shown, not queued
    tokens[1].ocr_confidence = between
    tokens[2].ocr_confidence = DOUBTFUL
    tokens[3].flags = ["low-confidence"]
    states = list(review_states(document).values())
    assert [(s.level, s.risk) for s in states[:4]] == [
        ("low", 0.4),
        ("doubtful", between),
        ("ok", DOUBTFUL),
        ("low", None),
    ]
    assert [s.flagged for s in states[:4]] == [True, False, False, True]
    assert states[5].level == "ok" and states[5].risk is None  # typed text: nothing to doubt


def test_words_of_an_unknown_agency_are_queued_and_matched_ones_are_not() -> None:
    unknown = _mention("Sở Tư liệu Xyz", "unknown")
    matched = _mention("Quý II/2025", "matched")  # not an agency, but shows that status decides
    states = review_states(_document([unknown, matched]))
    queued = [tid for tid, state in states.items() if state.flagged]
    assert queued == ["p2-l1-w6", "p2-l1-w7", "p2-l1-w8", "p2-l1-w9"]  # on page 2, after the form feed
    assert states["p2-l1-w9"].agency == unknown


PLAN = (
    "KẾ HOẠCH\nSố hóa tài liệu năm 2025\nI. MỤC ĐÍCH, YÊU CẦU\nBảo đảm an toàn tài liệu.\n"
    "II. NỘI DUNG\n1. Số hóa hồ sơ lưu trữ\n- Đơn vị chủ trì: Sở Tư liệu Xyz\n- Thời gian: Quý II/2025"
)


def _segmented() -> Document:
    """A small real plan, segmented: its lead 'Sở Tư liệu Xyz' (line 7, words 6-9) is unknown."""
    return resegment(
        Document(
            source_path="plan.txt",
            sha256="ab" * 32,
            kind="text",
            pages=[text_to_page(PLAN)],
            provenance=Provenance(gazette_version="test"),
        )
    )


def test_agency_spans_still_find_their_words_after_a_correction_changed_the_text_length() -> None:
    document = _segmented()
    # A correction before the agency makes the text longer: the plan is rebuilt on the new text.
    corrected, _ = apply_corrections(document, [new_record(document, "plan.txt", "p1-l4-w1", "Bảo-đảm", "lan")])
    agency_line = next(i for i, line in enumerate(corrected.pages[0].lines, 1) if "chủ trì" in line.text)
    states = review_states(corrected)
    expected = [f"p1-l{agency_line}-w{w}" for w in (6, 7, 8, 9)]  # - Đơn vị chủ trì: | Sở Tư liệu Xyz
    assert [tid for tid, state in states.items() if state.agency] == expected
    assert all(states[tid].agency.status == "unknown" for tid in expected)


def test_a_reviewed_word_leaves_the_queue_and_a_conflict_brings_it_back_until_reviewed_again() -> None:
    document = _segmented()
    lan = new_record(document, "plan.txt", "p1-l7-w9", "Xây", "lan")
    minh = new_record(document, "plan.txt", "p1-l7-w9", "Xyz.", "minh")  # saw 'Xyz' too: a conflict
    reviewed, _ = apply_corrections(document, [lan])
    state = review_states(reviewed)["p1-l7-w9"]
    assert (state.flagged, state.pending) == (True, False)
    conflicted, _ = apply_corrections(document, [lan, minh])
    state = review_states(conflicted)["p1-l7-w9"]
    assert (state.conflict, state.pending) == (True, True)
    settled, _ = apply_corrections(conflicted, [new_record(conflicted, "plan.txt", "p1-l7-w9", "Xây", "lan")])
    assert review_states(settled)["p1-l7-w9"].pending is False


def test_each_way_in_has_its_threshold() -> None:
    document = _document([])
    tokens = [token for _, _, _, token in document.tokens()]
    tokens[0].ocr_confidence, tokens[0].restore_confidence = 0.9, 0.95  # read by OCR
    tokens[1].restore_confidence = 0.95  # a word of a text file: no OCR confidence
    states = list(review_states(document, Low(ocr=0.96, text=0.94)).values())
    assert [s.level for s in states[:2]] == ["low", "doubtful"]
    states = list(review_states(document, 0.96).values())  # one threshold for every token
    assert [s.level for s in states[:2]] == ["low", "low"]

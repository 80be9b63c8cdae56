"""The review session and widget without a browser: what is shown, saved and focused next."""

from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from pipeline.document import Document, Page, Provenance
from pipeline.errors import SourceMissingError
from pipeline.export.json import from_json
from pipeline.review.images import page_image
from pipeline.review.journal import Journal
from pipeline.review.session import ReviewSession
from pipeline.review.widget import ReviewWidget
from pipeline.sources import sha256_of


def _flagged(session: ReviewSession) -> list[str]:
    return [tid for tid, state in session.states.items() if state.flagged]


def test_documents_are_the_converted_jsons_and_open_with_the_journal_applied(out_dir: Path, scan: str) -> None:
    (out_dir / "errors.jsonl").write_text("")
    session = ReviewSession(out_dir, "lan")
    assert [d.relative for d in session.documents] == [scan, "text/plan.txt"]
    session.open(scan)
    flagged = _flagged(session)
    assert len(flagged) >= 2, "the poor scan should leave tesseract doubting some words"
    session.save(flagged[0], "Sửa", previous=_text(session, flagged[0]))
    reopened = ReviewSession(out_dir, "minh")
    reopened.open(scan)
    assert _text(reopened, flagged[0]) == "Sửa"
    assert reopened.counts()["reviewed"] == 1


def _text(session: ReviewSession, tid: str) -> str:
    assert session.document is not None
    return next(token.text for t, _, _, token in session.document.tokens() if t == tid)


def test_enter_goes_to_the_next_word_still_to_review_and_shift_enter_back(out_dir: Path, scan: str) -> None:
    session = ReviewSession(out_dir, "lan")
    session.open(scan)
    flagged = _flagged(session)
    first, second = flagged[:2]
    assert session.next_token(None, 1) == first
    session.save(first, _text(session, first), previous=_text(session, first))  # a confirmation
    assert session.next_token(first, 1) == second
    assert session.next_token(second, -1) == first  # reviewed words can be revisited
    assert session.next_token(flagged[-1], 1) == second  # wraps round, skipping what was reviewed
    assert session.counts() == {"pending": len(flagged) - 1, "flagged": len(flagged), "reviewed": 1}


def test_page_view_has_boxes_and_a_jpeg_for_a_scan_and_text_only_for_a_text_file(
    out_dir: Path, scan: str, plan: str
) -> None:
    session = ReviewSession(out_dir, "lan")
    session.open(scan)
    view = session.page_view(1)
    assert view.image.startswith(b"\xff\xd8") and view.image_note == ""
    assert (view.width, view.height) == (session.document.pages[0].width, session.document.pages[0].height)
    word = view.lines[0]["tokens"][0]
    assert word["box"] and word["ocr"] and word["history"] == []
    session.open(plan)
    view = session.page_view(1)
    assert view.image == b"" and view.image_note == "a text file: no page image"
    assert view.lines[0]["tokens"][0]["box"] is None


def test_a_missing_source_file_leaves_the_text_reviewable(out_dir: Path, scan: str) -> None:
    document = from_json((out_dir / f"{scan}.json").read_text())
    Path(document.source_path).rename(Path(document.source_path).with_suffix(".moved"))
    try:
        session = ReviewSession(out_dir, "lan")
        session.open(scan)
        view = session.page_view(1)
        assert view.image == b"" and "[E107]" in view.image_note
        assert view.lines and view.lines[0]["tokens"][0]["box"]
    finally:
        Path(document.source_path).with_suffix(".moved").rename(document.source_path)


def test_page_images_of_a_pdf_are_scaled_to_the_dpi_asked(tmp_path: Path) -> None:
    pdf = tmp_path / "scan.pdf"
    Image.new("L", (1700, 2200), 255).save(pdf, resolution=200)  # 8.5 × 11 in
    document = Document(
        source_path=str(pdf),
        sha256=sha256_of(pdf),
        kind="pdf",
        pages=[Page(number=1, source="ocr", width=2550, height=3300, dpi=300)],
        provenance=Provenance(gazette_version="test"),
    )
    image = page_image(document, 1, dpi=150)
    assert image.image.size == (1275, 1650) and image.scale == pytest.approx(0.5)
    with pytest.raises(SourceMissingError):
        page_image(document.model_copy(update={"source_path": str(tmp_path / "gone.pdf")}), 1)
    with pytest.raises(SourceMissingError, match="sha256"):  # boxes fit only the file that was converted
        page_image(document.model_copy(update={"sha256": "ab" * 32}), 1)


def test_widget_saves_through_the_journal_and_moves_focus(out_dir: Path, scan: str) -> None:
    widget = ReviewWidget(out_dir, reviewer="lan", document=scan)
    first, second = _flagged(widget.session)[:2]
    before = widget.focus_serial
    previous = _text(widget.session, first)
    widget._on_message(widget, {"type": "save", "token": first, "text": "Đúng", "previous": previous, "step": 1}, [])
    assert (widget.focus, widget.focus_serial) == (second, before + 1)
    assert widget.page == int(second.split("-")[0][1:])
    [record] = Journal(out_dir).load()
    assert (record.token, record.previous, record.text, record.reviewer) == (first, previous, "Đúng", "lan")
    assert widget.counts["document"]["reviewed"] == 1
    shown = {t["id"]: t for line in widget.lines for t in line["tokens"]}
    assert shown[first]["text"] == "Đúng" and shown[first]["history"][0]["reviewer"] == "lan"


def test_widget_reports_a_failed_save_and_keeps_the_word(out_dir: Path, scan: str) -> None:
    widget = ReviewWidget(out_dir, reviewer="lan", document=scan)
    first = _flagged(widget.session)[0]
    (out_dir / ".gazette").mkdir(exist_ok=True)
    (out_dir / ".gazette" / "corrections.jsonl").mkdir()  # the journal cannot be written
    widget._on_message(widget, {"type": "save", "token": first, "text": "x", "previous": "y", "step": 1}, [])
    assert widget.status.startswith("not saved: [E400]")
    assert widget.focus == first


def test_the_page_view_carries_the_decided_conflict_and_the_exports_confidence(out_dir: Path, scan: str) -> None:
    from pipeline.document import parse_token_id
    from pipeline.errors import ReviewError
    from pipeline.export.layout import word_confidence

    lan, minh = ReviewSession(out_dir, "lan"), ReviewSession(out_dir, "minh")
    with pytest.raises(ReviewError):
        lan.open("no/such.pdf")
    lan.open(scan)
    minh.open(scan)
    tid = _flagged(lan)[0]
    seen = _text(lan, tid)
    lan.save(tid, "Một", previous=seen)
    minh.save(tid, "Hai", previous=seen)  # minh had not seen lan's edit: a conflict

    def view() -> dict:
        page, line, word = parse_token_id(tid)
        return minh.page_view(page).lines[line - 1]["tokens"][word - 1]

    assert view()["conflict"] and view()["pending"]
    assert [entry["conflict"] for entry in view()["history"]] == [False, True]
    minh.save(tid, "Hai", previous="Hai")  # confirmed after seeing both: settled
    assert not view()["conflict"] and not view()["pending"]
    untouched = next(t for t in minh.states if t != tid)
    page, line, word = parse_token_id(untouched)
    shown = minh.page_view(page).lines[line - 1]["tokens"][word - 1]
    assert minh.document is not None
    token = next(token for t, _, _, token in minh.document.tokens() if t == untouched)
    assert shown["confidence"] == word_confidence(token)  # what ALTO WC / hOCR x_wconf say
    assert view()["confidence"] is None  # a reviewer wrote it: no machine confidence, as in ALTO
    with pytest.raises(ReviewError):
        minh.page_view(99)

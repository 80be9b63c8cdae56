"""Applying the journal: corrections, confirmations, conflicts, orphans, and a re-run of convert."""

from __future__ import annotations

from pathlib import Path

from pipeline.api import convert, text_to_page
from pipeline.document import Document, Provenance
from pipeline.export import write_outputs
from pipeline.options import Options
from pipeline.review.journal import Journal, apply_corrections, new_record, reapply_journal

TEXT = "Sờ Thông tin và Truyền thông\nchủ trì thực hiện"


def _document(text: str = TEXT, sha: str = "ab" * 32) -> Document:
    return Document(
        source_path="archive/plan.txt",
        sha256=sha,
        kind="text",
        pages=[text_to_page(text)],
        provenance=Provenance(gazette_version="test"),
    )


def _token(document: Document, tid: str):
    return next(token for t, _, _, token in document.tokens() if t == tid)


def test_a_correction_sets_the_text_keeps_history_and_flags_the_token() -> None:
    document = _document()
    record = new_record(document, "plan.txt", "p1-l1-w1", "Sở", "lan")
    corrected, orphans = apply_corrections(document, [record])
    token = _token(corrected, "p1-l1-w1")
    assert orphans == []
    assert (token.text, token.source_text) == ("Sở", "Sờ")
    assert [(c.previous, c.text, c.reviewer) for c in token.corrections] == [("Sờ", "Sở", "lan")]
    assert {"reviewed", "corrected"} <= set(token.flags)
    assert corrected.pages[0].lines[0].text == "Sở Thông tin và Truyền thông"
    assert _token(document, "p1-l1-w1").text == "Sờ"  # the input document is left as it was


def test_a_confirmation_marks_the_token_reviewed_not_corrected() -> None:
    document = _document()
    corrected, _ = apply_corrections(document, [new_record(document, "plan.txt", "p1-l1-w2", "Thông", "lan")])
    token = _token(corrected, "p1-l1-w2")
    assert token.text == "Thông"
    assert "reviewed" in token.flags and "corrected" not in token.flags
    assert len(token.corrections) == 1


def test_applying_the_journal_again_to_a_corrected_document_changes_nothing() -> None:
    document = _document()
    first = new_record(document, "plan.txt", "p1-l1-w1", "Sở", "lan")
    once, _ = apply_corrections(document, [first])
    second = new_record(once, "plan.txt", "p1-l1-w1", "Sở.", "minh")
    twice, _ = apply_corrections(once, [first, second])
    again, orphans = apply_corrections(twice, [first, second])
    assert orphans == []
    assert again == twice
    token = _token(again, "p1-l1-w1")
    assert [c.text for c in token.corrections] == ["Sở", "Sở."]
    assert "correction-conflict" not in token.flags  # minh corrected what lan had left


def test_two_reviewers_on_one_word_are_both_kept_and_flagged_as_a_conflict() -> None:
    document = _document()
    # Both saw the OCR text 'Sờ' and corrected it without seeing the other's edit.
    by_lan = new_record(document, "plan.txt", "p1-l1-w1", "Sở", "lan")
    by_minh = new_record(document, "plan.txt", "p1-l1-w1", "Số", "minh")
    corrected, orphans = apply_corrections(document, [by_lan, by_minh])
    token = _token(corrected, "p1-l1-w1")
    assert orphans == []
    assert token.text == "Số"  # journal order: the later edit is shown …
    assert [(c.reviewer, c.previous, c.text) for c in token.corrections] == [("lan", "Sờ", "Sở"), ("minh", "Sờ", "Số")]
    assert "correction-conflict" in token.flags  # … but not silently


def test_corrections_that_no_longer_fit_are_orphans_and_the_rest_apply() -> None:
    old = _document()
    gone = new_record(old, "plan.txt", "p1-l2-w3", "thực", "lan")
    changed = new_record(old, "plan.txt", "p1-l1-w1", "Sở", "lan")
    kept = new_record(old, "plan.txt", "p1-l1-w2", "Thông", "lan")
    rescanned = _document("Sở Thông tin và Truyền thông\nchủ trì")  # line 2 shorter, first word read right
    corrected, orphans = apply_corrections(rescanned, [gone, changed, kept])
    assert [(o.record.token, o.reason) for o in orphans] == [
        ("p1-l2-w3", "token p1-l2-w3 no longer exists"),
        ("p1-l1-w1", "token p1-l1-w1 now reads 'Sở', the correction was made on 'Sờ'"),
    ]
    assert "reviewed" in _token(corrected, "p1-l1-w2").flags


def test_corrections_survive_a_re_run_of_convert(tmp_path: Path) -> None:
    archive, out = tmp_path / "archive", tmp_path / "out"
    archive.mkdir()
    source = archive / "plan.txt"
    source.write_text(TEXT + "\n", encoding="utf-8")
    options = Options(restore="never")
    document = convert(source, options)
    write_outputs(document, out / "plan.txt", ("json",))
    Journal(out).append(new_record(document, "plan.txt", "p1-l1-w1", "Sở", "lan"))

    # The re-run: a fresh conversion knows nothing of the review until the journal is re-applied.
    again = convert(source, options)
    assert _token(again, "p1-l1-w1").text == "Sờ"
    reapplied, orphans = reapply_journal(again, out, "plan.txt")
    assert orphans == []
    assert _token(reapplied, "p1-l1-w1").text == "Sở"

    # The file is re-scanned with other words: the correction is reported, and stays in the journal.
    source.write_text("Kế hoạch số hóa\n", encoding="utf-8")
    reapplied, orphans = reapply_journal(convert(source, options), out, "plan.txt")
    assert [o.record.text for o in orphans] == ["Sở"]
    assert "Sờ" not in reapplied.text
    assert len(Journal(out).load()) == 1


def test_records_of_other_documents_are_not_applied(tmp_path: Path) -> None:
    document = _document()
    other = _document(sha="cd" * 32)
    Journal(tmp_path).append(new_record(other, "other.txt", "p1-l1-w1", "Sở", "lan"))
    reapplied, orphans = reapply_journal(document, tmp_path, "plan.txt")
    assert (reapplied, orphans) == (document, [])


def test_a_later_correction_made_on_the_current_text_resolves_a_conflict_and_clears_its_flag() -> None:
    from pipeline.review.journal import open_conflict

    document = _document()
    by_lan = new_record(document, "plan.txt", "p1-l1-w1", "Sở", "lan")
    by_minh = new_record(document, "plan.txt", "p1-l1-w1", "Số", "minh")  # saw 'Sờ' as well
    conflicted, _ = apply_corrections(document, [by_lan, by_minh])
    assert open_conflict(_token(conflicted, "p1-l1-w1"))
    settles = new_record(conflicted, "plan.txt", "p1-l1-w1", "Sở", "lan")  # made on 'Số': saw the conflict
    settled, _ = apply_corrections(document, [by_lan, by_minh, settles])
    token = _token(settled, "p1-l1-w1")
    assert not open_conflict(token)
    assert "correction-conflict" not in token.flags and token.text == "Sở"
    assert len(token.corrections) == 3  # the history keeps the disagreement


def test_token_ids_parse_back_and_a_missing_token_is_a_review_error() -> None:
    import pytest

    from pipeline.document import parse_token_id, token_id
    from pipeline.errors import ReviewError

    assert parse_token_id(token_id(2, 14, 3)) == (2, 14, 3)
    with pytest.raises(ValueError):
        parse_token_id("p2-l14")
    with pytest.raises(ReviewError):
        new_record(_document(), "plan.txt", "p9-l1-w1", "x", "lan")

"""Corrections and exports that must not break or lose work (issue 14): a control character in
a correction (A), and a searchable PDF whose source is gone (B)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.export.json import from_json
from pipeline.review.journal import Journal, new_record
from pipeline.review.session import ReviewSession


def _journal_a_dirty_correction(out_dir: Path, relative: str, token: str) -> None:
    """A journal line with control characters, as an older gazette (or a hand edit) wrote it:
    appended as raw JSON, past the cleaning CorrectionRecord now does."""
    document = from_json((out_dir / f"{relative}.json").read_text(encoding="utf-8"))
    record = new_record(document, relative, token, "Sửa", "lan").model_dump()
    record.update(text="S\x01ửa\x00", reviewer="lan\x07")
    path = Journal(out_dir).path
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as journal:
        journal.write(json.dumps(record, ensure_ascii=False) + "\n")


def test_a_saved_word_is_journaled_without_control_characters(out_dir: Path, plan: str) -> None:
    session = ReviewSession(out_dir, "lan")
    session.open(plan)
    record = session.save("p1-l1-w1", "\x01KẾ\x1b\uffff", previous="KẾ")
    assert record.text == "KẾ"
    assert [r.text for r in Journal(out_dir).load()] == ["KẾ"]


def test_export_of_a_journal_holding_control_characters_writes_valid_xml(
    out_dir: Path, plan: str, valid_alto, capsys: pytest.CaptureFixture
) -> None:
    _journal_a_dirty_correction(out_dir, plan, "p1-l1-w1")
    assert [r.text for r in Journal(out_dir).load()] == ["Sửa"]  # cleaned when read
    assert main(["export", str(out_dir), "--formats", "json,txt,alto,hocr"]) == 0
    assert "exported 2 document(s), 1 corrected word(s)" in capsys.readouterr().out
    root = valid_alto((out_dir / f"{plan}.alto.xml").read_text(encoding="utf-8"))
    assert next(root.iter("{*}String")).get("CONTENT") == "Sửa"


def test_convert_force_keeps_the_outputs_and_the_correction(
    out_dir: Path, plan: str, tmp_path: Path, valid_alto
) -> None:
    """A dirty correction once made every re-conversion fail, and the failure deleted the
    document's outputs; now the correction is applied, clean, and the outputs are written."""
    archive = Path(from_json((out_dir / f"{plan}.json").read_text(encoding="utf-8")).source_path).parents[1]
    formats = ["-f", "json,txt,alto", "--restore", "never", "--jobs", "0"]
    assert main(["convert", str(archive / "text"), "-o", str(tmp_path / "out"), *formats]) == 0
    out = tmp_path / "out"
    relative = Path(plan).name  # the archive is text/: the plan lies at the top of this output folder
    _journal_a_dirty_correction(out, relative, "p1-l1-w1")
    assert main(["convert", str(archive / "text"), "-o", str(out), "--force", *formats]) == 0
    root = valid_alto((out / f"{relative}.alto.xml").read_text(encoding="utf-8"))
    assert next(root.iter("{*}String")).get("CONTENT") == "Sửa"
    assert (out / f"{relative}.txt").read_text(encoding="utf-8").startswith("Sửa")


def test_export_pdf_skips_a_document_whose_source_is_gone_and_exports_the_rest(
    out_dir: Path, scan: str, capsys: pytest.CaptureFixture
) -> None:
    gone = json.loads((out_dir / f"{scan}.json").read_text(encoding="utf-8"))
    gone["source_path"] = str(Path(gone["source_path"]).with_name("gone.png"))
    gone.pop("source_uri", None)  # the exact name, which would find the real file
    (out_dir / "scans" / "a-gone.png.json").write_text(json.dumps(gone), encoding="utf-8")  # sorted first
    (out_dir / "scans" / "a-gone.png.txt").write_text("earlier output\n", encoding="utf-8")
    assert main(["export", str(out_dir), "--formats", "txt,pdf"]) == 1
    err = capsys.readouterr().err
    assert "gazette: skipped [E107]" in err and "gone.png" in err
    assert (out_dir / f"{scan}.pdf").read_bytes().startswith(b"%PDF-")  # the export went on
    # The skipped document's outputs are left as they were, not half re-exported.
    assert (out_dir / "scans" / "a-gone.png.txt").read_text(encoding="utf-8") == "earlier output\n"
    assert not (out_dir / "scans" / "a-gone.png.pdf").exists()

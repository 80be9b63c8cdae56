"""Corrections and upgrades reach the plan (issue 11, part 5): the plan is rebuilt from the
corrected text, one fingerprint says what shaped an output, `gazette resegment` and a
convert after an upgrade rebuild plans from the stored text without OCR."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline import fingerprint
from pipeline.api import convert
from pipeline.batch.run import BatchOptions, convert_many
from pipeline.cli import main
from pipeline.errors import ExitCode
from pipeline.export.json import from_json
from pipeline.options import Options
from pipeline.review.journal import Journal, apply_corrections, new_record
from pipeline.segment import iter_tasks

FORMATS = ("json", "txt", "jsonl")


@pytest.fixture
def archive(plan_text: str, tmp_path: Path) -> Path:
    """The sample plan as a text file whose first lead reads as another body (Sở Tài chính for
    Sở Nội vụ), as a misread line would; a reviewer puts it right."""
    folder = tmp_path / "archive"
    folder.mkdir()
    (folder / "plan.txt").write_text(plan_text.replace("chủ trì: Sở Nội vụ", "chủ trì: Sở Tài chính", 1), "utf-8")
    return folder


def _corrections(document) -> list:
    """Tài → Nội, chính. → vụ. on the lead's line: the text gets shorter, so every later span moves."""
    line = next(line for page in document.pages for line in page.lines if "chủ trì: Sở Tài" in line.text)
    ids = {token.text: tid for tid, _, ln, token in document.tokens() if ln is line}
    return [
        new_record(document, "plan.txt", ids["Tài"], "Nội", "lan"),
        new_record(document, "plan.txt", ids["chính."], "vụ.", "lan"),
    ]


def _first_lead(document):
    return next(task.leads[0] for _, task in iter_tasks(document.plan) if task.leads)


def test_a_corrected_agency_reaches_the_plan_and_every_span_follows_the_text(archive: Path) -> None:
    document = convert(archive / "plan.txt", Options(restore="never"))
    assert _first_lead(document).canonical == "Sở Tài chính"  # as misread
    corrected, orphans = apply_corrections(document, _corrections(document))
    assert orphans == []
    text = corrected.text
    lead = _first_lead(corrected)
    assert lead.canonical == "Sở Nội vụ"
    assert text[lead.span.start : lead.span.end] == lead.text
    for _, task in iter_tasks(corrected.plan):
        assert text[task.span.start : task.span.end].strip()
        for mention in (*task.leads, *task.partners):
            assert text[mention.span.start : mention.span.end] == mention.text
    assert corrected.provenance.fingerprints["plan"] == fingerprint.plan_fingerprint()


def test_convert_api_and_cli_give_the_same_document(archive: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    assert main(["convert", str(archive), "-o", str(out), "-f", "json", "--restore", "never"]) == ExitCode.ok
    from_cli = from_json((out / "plan.txt.json").read_text("utf-8"))
    from_api = convert(archive / "plan.txt", Options(restore="never"))
    for document in (from_cli, from_api):
        document.provenance.timings = []
    assert from_cli == from_api
    assert set(from_api.provenance.fingerprints) == {"text", "plan"}


def test_an_upgraded_segmenter_rebuilds_plans_from_the_stored_text_without_ocr(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, options = tmp_path / "out", Options(formats=FORMATS, restore="never")
    first = convert_many([archive], out, options, BatchOptions(progress="none"))
    assert first.converted == 1
    stored = out / "plan.txt.json"
    document = json.loads(stored.read_text("utf-8"))
    document["plan"]["sections"] = []  # what an older segmenter might have left
    stored.write_text(json.dumps(document, ensure_ascii=False), "utf-8")
    same = convert_many([archive], out, options, BatchOptions(progress="none"))
    assert (same.converted, same.skipped, same.replanned) == (0, 1, 0)

    monkeypatch.setattr(fingerprint, "plan_fingerprint", lambda: "upgraded")
    monkeypatch.setattr("pipeline.api.plan_fingerprint", lambda: "upgraded")
    upgraded = convert_many([archive], out, options, BatchOptions(progress="none"))
    assert (upgraded.converted, upgraded.skipped, upgraded.replanned) == (0, 0, 1)
    rebuilt = json.loads(stored.read_text("utf-8"))
    assert rebuilt["plan"]["sections"] and rebuilt["provenance"]["fingerprints"]["plan"] == "upgraded"
    assert rebuilt["pages"] == document["pages"]  # the text was not read again
    lines = (out / "documents.jsonl").read_text("utf-8").splitlines()
    assert json.loads(lines[0])["plan"]["sections"]
    again = convert_many([archive], out, options, BatchOptions(progress="none"))
    assert (again.converted, again.skipped, again.replanned) == (0, 1, 0)


def test_gazette_resegment_applies_corrections_and_marks_the_files_current(
    archive: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    out, options = tmp_path / "out", Options(formats=FORMATS, restore="never")
    convert_many([archive], out, options, BatchOptions(progress="none"))
    document = convert(archive / "plan.txt", Options(restore="never"))
    journal = Journal(out)
    for record in _corrections(document):
        journal.append(record)
    monkeypatch.setattr(fingerprint, "plan_fingerprint", lambda: "upgraded")
    monkeypatch.setattr("pipeline.api.plan_fingerprint", lambda: "upgraded")
    assert main(["resegment", str(out)]) == ExitCode.ok
    assert "rebuilt the plans of 1 document(s)" in capsys.readouterr().out
    stored = json.loads((out / "plan.txt.json").read_text("utf-8"))
    leads = [m["canonical"] for s in stored["plan"]["sections"] for t in s["tasks"] for m in t["leads"]]
    assert "Sở Nội vụ" in leads
    after = convert_many([archive], out, options, BatchOptions(progress="none"))
    assert (after.converted, after.skipped, after.replanned) == (0, 1, 0)


def test_resegment_names_a_missing_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["resegment", str(tmp_path / "nowhere")]) != ExitCode.ok
    assert "no such output folder" in capsys.readouterr().err

"""Corrections flowing back: `gazette export` and `gazette corrections export` on converted pages."""

from __future__ import annotations

import importlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PIL import Image
from rapidfuzz import fuzz

from pipeline.api import ocr_image
from pipeline.cli import main
from pipeline.document import Document
from pipeline.export import SUFFIXES
from pipeline.export.json import from_json
from pipeline.review.journal import Journal, new_record

ROOT = Path(__file__).resolve().parents[2]


def _load(out_dir: Path, relative: str) -> Document:
    return from_json((out_dir / f"{relative}.json").read_text(encoding="utf-8"))


def _correct(out_dir: Path, relative: str, token: str, text: str, reviewer: str = "lan") -> None:
    Journal(out_dir).append(new_record(_load(out_dir, relative), relative, token, text, reviewer))


def _boxed_line(document: Document, min_tokens: int = 4) -> int:
    """1-based number of the first line on page 1 with a box and at least `min_tokens` words."""
    return next(n for n, line in enumerate(document.pages[0].lines, 1) if line.box and len(line.tokens) >= min_tokens)


def test_export_writes_the_corrected_text_into_json_and_txt(
    out_dir: Path, scan: str, capsys: pytest.CaptureFixture
) -> None:
    line = _boxed_line(_load(out_dir, scan))
    _correct(out_dir, scan, f"p1-l{line}-w2", "Chỉnh-sửa")
    assert main(["export", str(out_dir), "--formats", "json,txt"]) == 0
    assert "exported 2 document(s), 1 corrected word(s)" in capsys.readouterr().out
    token = _load(out_dir, scan).pages[0].lines[line - 1].tokens[1]
    assert token.text == "Chỉnh-sửa" and token.source_text != "Chỉnh-sửa"
    assert [(c.reviewer, c.text) for c in token.corrections] == [("lan", "Chỉnh-sửa")]
    text_lines = (out_dir / f"{scan}.txt").read_text(encoding="utf-8").splitlines()
    assert text_lines[line - 1].split()[1] == "Chỉnh-sửa"
    # Exporting again re-applies the journal to the corrected JSON without doubling anything.
    assert main(["export", str(out_dir)]) == 0
    assert len(_load(out_dir, scan).pages[0].lines[line - 1].tokens[1].corrections) == 1


def test_export_marks_the_corrected_word_in_alto(out_dir: Path, scan: str) -> None:
    if "alto" not in SUFFIXES:
        pytest.skip("the ALTO exporter is not registered in pipeline.export.SUFFIXES yet")
    line = _boxed_line(_load(out_dir, scan))
    _correct(out_dir, scan, f"p1-l{line}-w1", "Chỉnh-sửa")
    assert main(["export", str(out_dir), "--formats", "alto"]) == 0
    strings = {
        element.get("ID"): element
        for element in ET.parse(out_dir / f"{scan}.alto.xml").iter()
        if element.tag.endswith("}String")
    }
    corrected = strings[f"p1-l{line}-w1"]
    assert (corrected.get("CONTENT"), corrected.get("CS")) == ("Chỉnh-sửa", "true")
    assert strings[f"p1-l{line}-w2"].get("CS") is None


def test_export_reports_corrections_that_no_longer_fit_and_keeps_them(
    out_dir: Path, plan: str, capsys: pytest.CaptureFixture
) -> None:
    _correct(out_dir, plan, "p1-l1-w1", "Kế")
    record = new_record(_load(out_dir, plan), plan, "p1-l1-w1", "Kế", "minh")
    stale = record.model_copy(update={"token": "p9-l1-w1", "edit_id": "1" * 32})
    removed = record.model_copy(update={"document": "gone.pdf", "document_sha256": "0" * 64, "edit_id": "2" * 32})
    Journal(out_dir).append(stale)
    Journal(out_dir).append(removed)
    assert main(["export", str(out_dir)]) == 0
    err = capsys.readouterr().err
    assert "2 correction(s) not applied (kept in the journal)" in err
    assert f"{plan} p9-l1-w1 by minh: token p9-l1-w1 no longer exists" in err
    assert "gone.pdf p1-l1-w1 by minh: no document gone.pdf" in err
    assert len(Journal(out_dir).load()) == 3


def test_an_unreadable_document_json_is_skipped_and_reported(
    out_dir: Path, plan: str, capsys: pytest.CaptureFixture
) -> None:
    (out_dir / "broken.pdf.json").write_text('{"schema_version": "1.2.0", "sha256": "x", "pages": [')
    _correct(out_dir, plan, "p1-l1-w1", "Kế")
    assert main(["export", str(out_dir)]) == 1
    assert "broken.pdf.json: not a readable gazette Document JSON" in capsys.readouterr().err
    assert _load(out_dir, plan).pages[0].lines[0].tokens[0].text == "Kế"


def test_corrections_export_writes_line_pairs_crops_and_ground_truth(
    out_dir: Path, scan: str, plan: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = _load(out_dir, scan)
    lines = document.pages[0].lines
    first, second = [n for n, line in enumerate(lines, 1) if line.box and len(line.tokens) >= 4][:2]
    _correct(out_dir, scan, f"p1-l{first}-w1", "Một")
    _correct(out_dir, scan, f"p1-l{first}-w3", "Ba", reviewer="minh")
    _correct(out_dir, scan, f"p1-l{second}-w2", "Hai")
    _correct(out_dir, plan, "p1-l1-w1", "Kế")
    target = tmp_path / "train" / "pairs.jsonl"
    assert main(["corrections", "export", str(out_dir), "-o", str(target)]) == 0

    rows = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert [(r["document"], r["line"]) for r in rows] == [(scan, first), (scan, second), (plan, 1)]
    first_row, second_row, plan_row = rows
    assert plan_row["image"] is None  # a text file has no page image
    assert plan_row["clean"].split()[0] == "Kế"
    source_line = lines[first - 1]
    assert first_row["noisy"] == source_line.source_text
    assert first_row["clean"].split()[0::2][:2] == ["Một", "Ba"]
    assert first_row["reviewers"] == ["lan", "minh"]

    for row, number in ((first_row, first), (second_row, second)):
        image_path = target.parent / row["image"]
        assert image_path.parent == tmp_path / "train" / "pairs-lines"
        assert (
            image_path.with_name(image_path.name.removesuffix(".png") + ".gt.txt").read_text(encoding="utf-8")
            == row["clean"] + "\n"
        )
        box = lines[number - 1].box
        assert box is not None
        crop = Image.open(image_path)
        assert box.width <= crop.width <= box.width + 2 * box.height
        assert box.height <= crop.height <= box.height * 1.2 + 6
        # The crop shows its own line: tesseract reads back (nearly) the OCR text of that line.
        reread = ocr_image(crop).text
        assert fuzz.ratio(reread, row["noisy"]) > 70, (reread, row["noisy"])

    # scripts/train_restore.py --extra-pairs reads the file as it is.
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))
    train_restore = importlib.import_module("train_restore")
    assert train_restore.load_extra_pairs(target) == [
        (row["noisy"], train_restore.normalize(row["clean"])) for row in rows
    ]


def test_corrections_export_removes_crops_of_lines_no_longer_corrected(
    out_dir: Path, scan: str, tmp_path: Path
) -> None:
    target = tmp_path / "pairs.jsonl"
    stale = tmp_path / "pairs-lines" / "gone-p1-l1"
    stale.parent.mkdir()
    stale.with_suffix(".png").write_bytes(b"old")
    stale.with_name(stale.name + ".gt.txt").write_text("old\n")
    (stale.parent / "notes.md").write_text("mine")
    _correct(out_dir, scan, f"p1-l{_boxed_line(_load(out_dir, scan))}-w1", "Một")
    assert main(["corrections", "export", str(out_dir), "-o", str(target)]) == 0
    names = sorted(p.name for p in stale.parent.iterdir())
    assert "gone-p1-l1.png" not in names and "gone-p1-l1.gt.txt" not in names
    assert "notes.md" in names and len(names) == 3


def test_export_rewrites_the_jsonl_parts_a_later_convert_rebuilds_documents_jsonl_from(
    out_dir: Path, scan: str
) -> None:
    from pipeline.batch.task import jsonl_part

    line = _boxed_line(_load(out_dir, scan))
    _correct(out_dir, scan, f"p1-l{line}-w2", "Chỉnh-sửa")
    assert main(["export", str(out_dir), "--formats", "jsonl"]) == 0
    part = out_dir / jsonl_part(Path(scan))
    assert "Chỉnh-sửa" in part.read_text(encoding="utf-8")  # what `gazette convert` reads back
    documents = (out_dir / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(documents) == 2 and any("Chỉnh-sửa" in row for row in documents)


def test_export_and_corrections_export_refuse_while_a_convert_holds_the_output_lock(
    out_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    from pipeline.batch.manifest import OutputLock
    from pipeline.errors import ExitCode, OutputLockedError
    from pipeline.review.corrections import export_line_pairs, export_outputs

    with OutputLock(out_dir / ".gazette" / "lock", out_dir):  # a `gazette convert` writing the folder
        with pytest.raises(OutputLockedError):
            export_outputs(out_dir, ("json",))
        with pytest.raises(OutputLockedError):
            export_line_pairs(out_dir, tmp_path / "pairs.jsonl")
        assert main(["export", str(out_dir)]) == ExitCode.output_locked
    assert "E402" in capsys.readouterr().err
    assert main(["export", str(out_dir)]) == 0  # released: free to go

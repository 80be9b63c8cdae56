"""The `gazette` command end to end, on the bundled sample archive (real tesseract)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest
from rapidfuzz.distance import Levenshtein

from pipeline.cli import main
from pipeline.document import json_schema
from pipeline.errors import ExitCode

ROOT = Path(__file__).resolve().parents[1]
ARCHIVE = ROOT / "samples" / "archive"


def test_convert_sample_archive(tmp_path: Path, plan_text: str, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "out"
    assert main(["convert", str(ARCHIVE), "-o", str(out), "-f", "json,txt,jsonl"]) == ExitCode.ok
    assert "converted 3 file(s), 5 page(s), failed 0" in capsys.readouterr().out
    pdf_json = json.loads((out / "scans" / "ke-hoach-2316.pdf.json").read_text(encoding="utf-8"))
    jsonschema.validate(pdf_json, json_schema())
    assert pdf_json["kind"] == "pdf" and len(pdf_json["pages"]) == 3
    assert {t["stage"] for t in pdf_json["provenance"]["timings"]} >= {"ingest", "preprocess", "ocr"}
    text = (out / "scans" / "ke-hoach-2316.pdf.txt").read_text(encoding="utf-8")
    reference = " ".join(plan_text.split())
    assert Levenshtein.distance(reference, " ".join(text.split())) / len(reference) < 0.02
    legacy = (out / "text" / "ke-hoach-2316-ocr-eng.txt.json").read_text(encoding="utf-8")
    assert json.loads(legacy)["kind"] == "text"
    assert len((out / "documents.jsonl").read_text().splitlines()) == 3


def test_convert_reports_failures_with_exit_code(tmp_path: Path) -> None:
    bad = tmp_path / "in" / "bad.pdf"
    bad.parent.mkdir()
    bad.write_bytes(b"%PDF-1.7 truncated")
    shutil.copy(ARCHIVE / "text" / "ke-hoach-2316-ocr-eng.txt", tmp_path / "in")
    assert main(["convert", str(tmp_path / "in"), "-o", str(tmp_path / "out")]) == ExitCode.some_files_failed
    (error,) = [json.loads(x) for x in (tmp_path / "out" / "errors.jsonl").read_text().splitlines()]
    assert error["error"] == "CorruptInputError" and "bad.pdf" in error["message"]


def test_ocr_command_prints_text_and_maps_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ocr", str(ARCHIVE / "images" / "ke-hoach-2316-trang-cuoi.png")]) == ExitCode.ok
    assert "PHÓ CHỦ TỊCH\nNguyễn Văn Thắng" in capsys.readouterr().out
    empty = tmp_path / "empty.png"
    empty.touch()
    assert main(["ocr", str(empty)]) == ExitCode.input_error
    assert "empty.png" in capsys.readouterr().err


def test_schema_and_bad_arguments(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["schema"]) == ExitCode.ok
    assert json.loads(capsys.readouterr().out)["x-schema-version"]
    assert main(["convert", "x", "-o", "y", "-f", "docx"]) == ExitCode.bad_args
    assert "unknown output format" in capsys.readouterr().err


def test_console_script_help_everywhere() -> None:
    for argv in ([], ["convert"], ["ocr"], ["schema"]):
        proc = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", *argv, "--help"], capture_output=True, text=True, check=True
        )
        assert "usage: gazette" in proc.stdout

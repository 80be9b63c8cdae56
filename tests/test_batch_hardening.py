"""Batch runs against hostile archives: names that are not UTF-8, a damaged manifest, special
files, output folders inside the input, files that look like gazette's temp files."""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest

from pipeline.batch import BatchOptions, convert_many
from pipeline.batch.manifest import SCHEMA_VERSION, Manifest
from pipeline.export.json import from_json
from pipeline.options import Options
from pipeline.sources import find_source

INLINE = BatchOptions(jobs=0, progress="none")
TEXT_ONLY = Options(restore="never", formats=("json", "txt", "jsonl"))
PLAN_LINE = "Kế hoạch số {n}/KH-UBND: Sở Nội vụ chủ trì, thời gian thực hiện quý II năm 2025.\n"


def _texts(root: Path, count: int) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for n in range(count):
        (root / f"t{n:03d}.txt").write_text(PLAN_LINE.format(n=n) * 3, encoding="utf-8")
    return root


def test_a_name_that_is_not_utf8_converts_and_resumes(tmp_path: Path) -> None:
    root = _texts(tmp_path / "in", 1)
    bad = Path(os.fsdecode(os.fsencode(root) + b"/ba\xff\xfe.txt"))  # cp1258 bytes from a Windows zip
    bad.write_text(PLAN_LINE.format(n=7), encoding="utf-8")
    out = tmp_path / "out"
    first = convert_many([root], out, TEXT_ONLY, INLINE)
    assert (first.converted, first.failed) == (2, 0)
    document = from_json(Path(os.fsdecode(os.fsencode(out) + b"/ba\xff\xfe.txt.json")).read_text(encoding="utf-8"))
    assert document.source_path.endswith("ba\ufffd\ufffd.txt")  # shown with replacement characters
    assert find_source(document, verify=True) == bad  # and found byte for byte through the URI
    again = convert_many([root], out, TEXT_ONLY, INLINE)
    assert (again.converted, again.skipped) == (0, 2)
    lines = (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2


def _overwrite_middle(path: Path, count: int) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + count] = os.urandom(count)
    path.write_bytes(bytes(data))


def test_damage_in_the_middle_of_the_manifest_is_recovered_from_the_outputs(tmp_path: Path) -> None:
    root = _texts(tmp_path / "in", 150)  # enough rows for a manifest of several pages
    out = tmp_path / "out"
    convert_many([root], out, TEXT_ONLY, INLINE)
    manifest = out / ".gazette" / "manifest.sqlite"
    db = sqlite3.connect(manifest)
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    assert manifest.stat().st_size > 16 * 1024
    _overwrite_middle(manifest, 8192)
    summary = convert_many([root], out, TEXT_ONLY, INLINE)
    assert (summary.converted, summary.skipped, summary.failed) == (0, 150, 0)
    assert list((out / ".gazette").glob("manifest.sqlite.damaged-*"))
    assert len(Manifest(manifest).rows()) == 150


def test_recovery_converts_inputs_whose_outputs_describe_other_content(tmp_path: Path) -> None:
    root = _texts(tmp_path / "in", 3)
    out = tmp_path / "out"
    convert_many([root], out, TEXT_ONLY, INLINE)
    (root / "t001.txt").write_text(PLAN_LINE.format(n=99), encoding="utf-8")  # changed since
    (out / ".gazette" / "manifest.sqlite").write_bytes(b"\0" * 4096)
    summary = convert_many([root], out, TEXT_ONLY, INLINE)
    assert (summary.converted, summary.skipped) == (1, 2)


@pytest.mark.parametrize(
    "layout",
    [
        "CREATE TABLE files (relative TEXT PRIMARY KEY, done INTEGER)",  # another program's table
        "PRAGMA user_version = 99",  # a newer gazette's manifest
    ],
)
def test_a_manifest_of_an_unknown_layout_is_set_aside(tmp_path: Path, layout: str) -> None:
    root = _texts(tmp_path / "in", 2)
    state = tmp_path / "out" / ".gazette"
    state.mkdir(parents=True)
    db = sqlite3.connect(state / "manifest.sqlite")
    db.execute(layout)
    db.commit()
    db.close()
    summary = convert_many([root], tmp_path / "out", TEXT_ONLY, INLINE)
    assert (summary.converted, summary.failed) == (2, 0)
    assert list(state.glob("manifest.sqlite.damaged-*"))
    db = sqlite3.connect(state / "manifest.sqlite")
    assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    db.close()


def test_error_records_of_bad_names_are_valid_utf8(tmp_path: Path) -> None:
    root = tmp_path / "in"
    root.mkdir()
    Path(os.fsdecode(os.fsencode(root) + b"/empty\xff.txt")).touch()
    out = tmp_path / "out"
    summary = convert_many([root], out, TEXT_ONLY, INLINE)
    assert summary.failed == 1
    (record,) = [json.loads(line) for line in (out / "errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert record["path"].endswith("empty\ufffd.txt") and record["error"] == "EmptyInputError"


def test_special_files_are_skipped_in_folders_and_refused_by_name(tmp_path: Path) -> None:
    root = _texts(tmp_path / "in", 1)
    os.mkfifo(root / "pipe.txt")  # would block the hash forever
    os.symlink("/dev/zero", root / "zero.txt")  # would read forever
    out = tmp_path / "out"
    summary = convert_many([root], out, TEXT_ONLY, INLINE)
    assert (summary.found, summary.converted, summary.failed) == (1, 1, 0)
    named = convert_many([root / "pipe.txt", root / "zero.txt"], tmp_path / "out2", TEXT_ONLY, INLINE)
    assert (named.failed, dict(named.failures_by_kind)) == (2, {"UnsupportedInputError": 2})
    messages = [json.loads(line)["message"] for line in (tmp_path / "out2" / "errors.jsonl").open()]
    assert all("not a regular file" in message for message in messages)


def test_a_file_past_the_time_limit_fails_alone(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    import pipeline.batch.task as task

    root = _texts(tmp_path / "in", 2)
    real_convert = task.convert

    def stuck_on_first(path: Path, options: Options):
        if Path(path).name == "t000.txt":
            time.sleep(30)  # a read that never returns, as far as the batch can tell
        return real_convert(path, options)

    monkeypatch.setattr(task, "convert", stuck_on_first)
    started = time.monotonic()
    options = TEXT_ONLY.model_copy(update={"file_timeout": 1.0})
    summary = convert_many([root], tmp_path / "out", options, INLINE)
    assert time.monotonic() - started < 20
    assert (summary.converted, dict(summary.failures_by_kind)) == (1, {"FileTimeoutError": 1})


def test_an_input_subfolder_holding_inputs_is_refused_as_output(tmp_path: Path) -> None:
    from pipeline.errors import OutputConflictError

    root = _texts(tmp_path / "in", 1)
    _texts(root / "2019", 2)
    with pytest.raises(OutputConflictError, match="holds input files"):
        convert_many([root], root / "2019", TEXT_ONLY, INLINE)
    assert not (root / "2019" / ".gazette").exists()
    # A new folder inside the input is fine, and stays fine once gazette has written to it.
    assert convert_many([root], root / "out", TEXT_ONLY, INLINE).converted == 3
    assert convert_many([root], root / "out", TEXT_ONLY, INLINE).skipped == 3


def test_a_failed_rerun_keeps_the_outputs_of_the_same_content(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.batch.task as task
    from pipeline.errors import OcrError

    root = _texts(tmp_path / "in", 1)
    out = tmp_path / "out"
    convert_many([root], out, TEXT_ONLY, INLINE)
    before = (out / "t000.txt.json").read_bytes()

    def failing(path: Path, options: Options):
        raise OcrError("tesseract failed", path=path)

    monkeypatch.setattr(task, "convert", failing)
    summary = convert_many([root], out, TEXT_ONLY, BatchOptions(jobs=0, progress="none", force=True))
    assert summary.failed == 1
    assert (out / "t000.txt.json").read_bytes() == before  # nothing converted is lost
    monkeypatch.undo()
    (root / "t000.txt").write_text(PLAN_LINE.format(n=5), encoding="utf-8")  # other content now
    monkeypatch.setattr(task, "convert", failing)
    convert_many([root], out, TEXT_ONLY, INLINE)
    assert not (out / "t000.txt.json").exists()  # outputs of other content are not this file's

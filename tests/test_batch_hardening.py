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

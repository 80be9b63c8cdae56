"""The corrections journal: durable appends, torn lines, killed writers, concurrent writers."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.errors import ExportError
from pipeline.review.journal import JOURNAL_PATH, CorrectionRecord, Journal

ROOT = Path(__file__).resolve().parents[2]

# A writer process: waits for OUT_DIR/go, appends COUNT records tagged TAG, and prints each
# record's edit id once append() has returned (so the id is acknowledged as durable).
WRITER = """
import sys, time, uuid
from pathlib import Path
from pipeline.review.journal import CorrectionRecord, Journal

out_dir, tag, count = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3])
journal = Journal(out_dir)
print("ready", flush=True)
while not (out_dir / "go").exists():
    time.sleep(0.01)
for n in range(count):
    record = CorrectionRecord(
        edit_id=uuid.uuid4().hex, document_sha256="ab" * 32, document="scans/a.pdf", page=1,
        token=f"p1-l1-w{n % 50 + 1}", source_text="Sở", previous="Sở", text=f"{tag} {n} Thông tin và Truyền thông",
        reviewer=tag, time="2025-01-01T00:00:00+00:00",
    )
    journal.append(record)
    print(record.edit_id, flush=True)
"""


def _record(n: int = 1, **changes: object) -> CorrectionRecord:
    fields = {
        "edit_id": f"{n:032x}",
        "document_sha256": "ab" * 32,
        "document": "scans/a.pdf",
        "page": 1,
        "token": f"p1-l1-w{n}",
        "source_text": "S&",
        "previous": "Sờ",
        "text": "Sở",
        "reviewer": "lan",
        "time": "2025-03-14T08:00:00.000001+00:00",
    }
    return CorrectionRecord(**{**fields, **changes})


def _start_writer(out_dir: Path, tag: str, count: int) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", WRITER, str(out_dir), tag, str(count)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stdout.readline().strip() == "ready"
    return process


def test_append_writes_one_utf8_line_per_record_and_loads_them_back(tmp_path: Path) -> None:
    journal = Journal(tmp_path)
    records = [_record(1), _record(2, text="Truyền thông", reviewer="Nguyễn Văn A")]
    for record in records:
        journal.append(record)
    assert journal.path == tmp_path / JOURNAL_PATH == tmp_path / ".gazette" / "corrections.jsonl"
    lines = journal.path.read_text(encoding="utf-8").splitlines()
    assert [json.loads(line)["text"] for line in lines] == ["Sở", "Truyền thông"]
    assert "Truyền thông" in lines[1]  # written as UTF-8, not \\u escapes
    assert journal.load() == records


def test_a_missing_journal_loads_as_empty(tmp_path: Path) -> None:
    assert Journal(tmp_path).load() == []


def test_torn_last_line_is_skipped_with_a_warning_and_the_next_append_stays_whole(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = Journal(tmp_path)
    journal.append(_record(1))
    journal.append(_record(2))
    whole = (_record(3).model_dump_json() + "\n").encode()
    with journal.path.open("ab") as handle:
        handle.write(whole[: len(whole) // 2])  # a write cut short: no newline
    with caplog.at_level(logging.WARNING, logger="pipeline.review.journal"):
        assert [r.edit_id for r in journal.load()] == [_record(1).edit_id, _record(2).edit_id]
    assert "line 3 is incomplete" in caplog.text
    journal.append(_record(4))
    assert [r.token for r in journal.load()] == ["p1-l1-w1", "p1-l1-w2", "p1-l1-w4"]


def test_a_damaged_line_in_the_middle_is_skipped_and_the_rest_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    journal = Journal(tmp_path)
    journal.append(_record(1))
    with journal.path.open("ab") as handle:
        handle.write(b'{"edit_id": "x", "tok\n')
    journal.append(_record(2))
    with caplog.at_level(logging.WARNING, logger="pipeline.review.journal"):
        assert [r.token for r in journal.load()] == ["p1-l1-w1", "p1-l1-w2"]
    assert "line 2 is damaged" in caplog.text


def test_an_unwritable_journal_raises_an_export_error(tmp_path: Path) -> None:
    (tmp_path / ".gazette").write_text("a file where the folder should be")
    with pytest.raises(ExportError, match="corrections journal"):
        Journal(tmp_path).append(_record(1))


def test_writer_killed_mid_append_leaves_every_acknowledged_record(tmp_path: Path) -> None:
    writer = _start_writer(tmp_path, "killed", 1_000_000)
    assert writer.stdout is not None
    (tmp_path / "go").touch()
    acknowledged = [writer.stdout.readline().strip() for _ in range(200)]
    os.kill(writer.pid, signal.SIGKILL)  # while it is appending
    acknowledged += writer.stdout.read().split()
    writer.wait()
    assert writer.returncode == -signal.SIGKILL
    # A kill can also land inside a write that the disk cuts short: leave a torn tail.
    with Journal(tmp_path).path.open("ab") as handle:
        handle.write(b'{"edit_id": "torn", "document_sha256": "ab')
    loaded = [r.edit_id for r in Journal(tmp_path).load()]
    assert set(acknowledged) <= set(loaded)
    assert len(loaded) == len(set(loaded)) >= 200


def test_two_processes_appending_at_once_lose_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    writers = [_start_writer(tmp_path, tag, 500) for tag in ("lan", "minh")]
    (tmp_path / "go").touch()
    outputs = [writer.communicate(timeout=300)[0].split() for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0]
    with caplog.at_level(logging.WARNING, logger="pipeline.review.journal"):
        records = Journal(tmp_path).load()
    assert caplog.text == ""  # no torn or interleaved line
    assert len(records) == 1000
    for tag, acknowledged in zip(("lan", "minh"), outputs, strict=True):
        mine = [r for r in records if r.reviewer == tag]
        assert [r.edit_id for r in mine] == acknowledged  # each writer's records, whole and in order
        assert [r.text for r in mine] == [f"{tag} {n} Thông tin và Truyền thông" for n in range(500)]

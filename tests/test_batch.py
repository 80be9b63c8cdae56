"""Batch runs in this process (--jobs 0): walking, the manifest, resuming, the run files, the lock."""

from __future__ import annotations

import errno
import io
import json
import os
import re
import sqlite3
import stat
from pathlib import Path

import pytest
from rich.console import Console

from pipeline.batch import BatchOptions, FileResult, WorkItem, convert_many, find_inputs, print_summary
from pipeline.batch.manifest import Manifest, OutputLock
from pipeline.batch.progress import RichReporter
from pipeline.batch.run import BatchSummary
from pipeline.cli import main
from pipeline.errors import DiskFullError, ExitCode, ExportError, OutputConflictError, OutputLockedError
from pipeline.export.json import from_json
from pipeline.files import atomic_write_chunks, output_error, staging
from pipeline.options import Options
from pipeline.review.journal import Journal, new_record

INLINE = BatchOptions(jobs=0, progress="none")
TEXT_ONLY = Options(restore="never", formats=("json", "txt", "jsonl"))


def _archive(root: Path) -> Path:
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "plan.txt").write_text("Đơn vị chủ trì: Sở Nội vụ.\n", encoding="utf-8")
    (root / "a" / "b" / "other.txt").write_text("Thời gian: Quý II/2025.\n", encoding="utf-16")
    (root / "a" / "b" / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj garbage")
    (root / "a" / "empty.png").touch()
    (root / "a" / "notes.docx").write_bytes(b"PK\x03\x04")  # not an input gazette reads
    (root / "a" / ".hidden.txt").write_text("x")
    os.symlink(root / "a", root / "a" / "b" / "loop")
    return root


def _texts(root: Path, count: int) -> Path:
    root.mkdir(parents=True)
    for n in range(count):
        (root / f"t{n}.txt").write_text(f"Đơn vị chủ trì: Sở Nội vụ, văn bản số {n}.\n", encoding="utf-8")
    return root


def _errors(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "errors.jsonl").read_text().splitlines()]


def _mtimes(out: Path) -> dict[str, int]:
    return {str(p.relative_to(out)): p.stat().st_mtime_ns for p in out.rglob("*.txt.*") if ".gazette" not in p.parts}


def test_walks_tree_sorted_skipping_loops_hidden_and_unknown(tmp_path: Path) -> None:
    root = _archive(tmp_path / "in")
    relatives = [str(item.relative) for item in find_inputs([root])]
    assert relatives == ["a/empty.png", "a/plan.txt", "a/b/broken.pdf", "a/b/other.txt"]


def test_output_folder_inside_the_archive_is_not_walked(tmp_path: Path) -> None:
    root = _texts(tmp_path / "in", 2)
    out = root / "converted"
    convert_many([root], out, TEXT_ONLY, INLINE)
    assert (out / "t0.txt.txt").exists()
    summary = convert_many([root], out, TEXT_ONLY, INLINE)
    assert (summary.found, summary.skipped, summary.converted) == (2, 2, 0)


def test_bad_files_never_stop_the_batch(tmp_path: Path) -> None:
    root = _archive(tmp_path / "in")
    out = tmp_path / "out"
    summary = convert_many([root], out, TEXT_ONLY, INLINE)
    assert (summary.converted, summary.failed, summary.exit_code) == (2, 2, ExitCode.some_files_failed)
    assert from_json((out / "a" / "plan.txt.json").read_text()).pages[0].text == "Đơn vị chủ trì: Sở Nội vụ."
    assert (out / "a" / "b" / "other.txt.txt").read_text(encoding="utf-8") == "Thời gian: Quý II/2025.\n"
    assert {(Path(e["path"]).name, e["error"]) for e in _errors(out)} == {
        ("broken.pdf", "CorruptInputError"),
        ("empty.png", "EmptyInputError"),
    }
    documents = (out / "documents.jsonl").read_text().splitlines()
    assert [Path(json.loads(line)["source_path"]).name for line in documents] == ["plan.txt", "other.txt"]
    assert not list(out.rglob("*.tmp"))


def test_rerun_skips_done_redoes_changed_and_keeps_run_files(tmp_path: Path) -> None:
    root = _archive(tmp_path / "in")
    out = tmp_path / "out"
    convert_many([root], out, TEXT_ONLY, INLINE)
    documents, errors, mtimes = (out / "documents.jsonl").read_text(), _errors(out), _mtimes(out)

    again = convert_many([root], out, TEXT_ONLY, INLINE)
    assert (again.converted, again.skipped, again.failed, again.failed_before) == (0, 2, 0, 2)
    assert again.exit_code == ExitCode.some_files_failed  # the archive still holds failed files
    assert _mtimes(out) == mtimes  # nothing rewritten
    assert (out / "documents.jsonl").read_text() == documents  # skipped files keep their lines
    assert _errors(out) == errors

    (root / "a" / "plan.txt").write_text("Đơn vị phối hợp: Sở Tài chính.\n", encoding="utf-8")
    changed = convert_many([root], out, TEXT_ONLY, INLINE)
    assert (changed.converted, changed.skipped) == (1, 1)
    assert "Sở Tài chính" in (out / "a" / "plan.txt.txt").read_text()
    lines = (out / "documents.jsonl").read_text().splitlines()
    assert [from_json(line).text for line in lines] == ["Đơn vị phối hợp: Sở Tài chính.", "Thời gian: Quý II/2025."]


def test_touched_but_unchanged_file_is_rehashed_once_and_skipped(tmp_path: Path) -> None:
    root = _texts(tmp_path / "in", 1)
    out = tmp_path / "out"
    convert_many([root], out, TEXT_ONLY, INLINE)
    os.utime(root / "t0.txt", ns=(1, 1))
    assert convert_many([root], out, TEXT_ONLY, INLINE).skipped == 1
    with sqlite3.connect(out / ".gazette" / "manifest.sqlite") as db:
        assert db.execute("SELECT mtime_ns FROM files").fetchall() == [(1,)]


def test_failures_are_retried_only_when_asked_or_changed_and_force_redoes_all(tmp_path: Path) -> None:
    root = _archive(tmp_path / "in")
    out = tmp_path / "out"
    convert_many([root], out, TEXT_ONLY, INLINE)
    retried = convert_many([root], out, TEXT_ONLY, INLINE.model_copy(update={"retry_failed": True}))
    assert (retried.converted, retried.skipped, retried.failed, retried.failed_before) == (0, 2, 2, 0)
    (root / "a" / "empty.png").write_text("now it holds text\n")  # changed: converted again unasked
    changed = convert_many([root], out, TEXT_ONLY, INLINE)
    assert (changed.failures_by_kind, changed.failed_before) == ({"CorruptInputError": 1}, 1)
    assert {(Path(e["path"]).name, e["error"]) for e in _errors(out)} == {
        ("broken.pdf", "CorruptInputError"),
        ("empty.png", "CorruptInputError"),
    }
    forced = convert_many([root], out, TEXT_ONLY, INLINE.model_copy(update={"force": True}))
    assert (forced.converted, forced.failed, forced.skipped) == (2, 2, 0)


def test_other_settings_missing_outputs_or_new_formats_are_converted_again(tmp_path: Path) -> None:
    root = _texts(tmp_path / "in", 3)
    out = tmp_path / "out"
    json_only = Options(restore="never", formats=("json",))
    assert convert_many([root], out, json_only, INLINE).converted == 3
    assert convert_many([root], out, json_only.model_copy(update={"dpi": 200}), INLINE).converted == 3
    (out / "t1.txt.json").unlink()
    assert convert_many([root], out, json_only.model_copy(update={"dpi": 200}), INLINE).converted == 1
    with_jsonl = convert_many([root], out, Options(restore="never", formats=("json", "jsonl")), INLINE)
    assert with_jsonl.converted == 3 and len((out / "documents.jsonl").read_text().splitlines()) == 3


def test_a_file_that_turns_bad_loses_its_old_outputs(tmp_path: Path) -> None:
    root = _texts(tmp_path / "in", 2)
    out = tmp_path / "out"
    convert_many([root], out, TEXT_ONLY, INLINE)
    (root / "t1.txt").write_bytes(bytes(range(256)) * 4)
    summary = convert_many([root], out, TEXT_ONLY, INLINE)
    assert summary.failures_by_kind == {"CorruptInputError": 1}
    assert not [p.name for p in out.rglob("t1.txt.*")]
    assert len((out / "documents.jsonl").read_text().splitlines()) == 1


def test_unexpected_exception_costs_one_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.batch.task as task

    real = task.convert

    def buggy(path: Path, options: Options):
        if Path(path).name == "t0.txt":
            raise ValueError("a bug")
        return real(path, options)

    monkeypatch.setattr(task, "convert", buggy)
    root = _texts(tmp_path / "in", 2)
    summary = convert_many([root], tmp_path / "out", TEXT_ONLY, INLINE)
    assert (summary.converted, summary.failures_by_kind) == (1, {"InternalError": 1})
    (error,) = _errors(tmp_path / "out")
    assert "unexpected ValueError at test_batch.py" in error["message"] and "t0.txt" in error["message"]


def test_inputs_with_the_same_outputs_are_refused(tmp_path: Path) -> None:
    first, second = _texts(tmp_path / "one", 1), _texts(tmp_path / "two", 1)
    summary = convert_many([first, second], tmp_path / "out", TEXT_ONLY, INLINE)
    assert (summary.converted, summary.failures_by_kind) == (1, {"OutputConflictError": 1})
    (error,) = _errors(tmp_path / "out")
    assert "would overwrite those of" in error["message"] and str(second / "t0.txt") in error["message"]
    assert str(first / "t0.txt") in error["message"] and error["exit_code"] == ExitCode.bad_args


def test_output_folder_that_is_an_input_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _texts(tmp_path / "in", 1)
    with pytest.raises(OutputConflictError, match=re.escape(f"the output folder is the input folder {root}")):
        convert_many([root], root, TEXT_ONLY, INLINE)
    assert main(["convert", str(root), "-o", str(root), "--jobs", "0"]) == ExitCode.bad_args
    assert f"-o {root / 'out'}" in capsys.readouterr().err
    assert not (root / ".gazette").exists()
    assert convert_many([root], root / "out", TEXT_ONLY, INLINE).converted == 1  # a folder inside it is fine


def test_stale_temp_files_of_a_killed_run_are_removed_and_nothing_else(tmp_path: Path) -> None:
    root = _texts(tmp_path / "in", 1)
    out = tmp_path / "out"
    (out / ".gazette" / "tmp").mkdir(parents=True)
    stale = out / ".gazette" / "tmp" / ".t0.txt.json.ab_c1234.tmp"
    stale.write_text('{"trunc')
    (out / "sub").mkdir()
    lookalike = out / "sub" / ".report.ab_c1234.tmp"  # a user's file named like a temp file
    lookalike.write_text("a user's file")
    keep = out / "sub" / "notes.tmp"
    keep.write_text("a user's file")
    convert_many([root], out, TEXT_ONLY, INLINE)
    assert not stale.exists() and keep.exists() and lookalike.exists()
    assert not list((out / ".gazette" / "tmp").iterdir())


def _open_files() -> list[str]:
    names = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            names.append(os.readlink(f"/proc/self/fd/{fd}"))
        except OSError:  # the listing's own descriptor, closed by now
            pass
    return names


def test_damaged_manifest_is_set_aside(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _texts(tmp_path / "in", 2)
    out = tmp_path / "out"
    convert_many([root], out, TEXT_ONLY, INLINE)
    (out / ".gazette" / "manifest.sqlite").write_bytes(b"not a database" * 100)
    open_at_rename: list[str] = []
    real_rename = Path.rename

    def rename(self: Path, target: str | Path) -> Path:
        open_at_rename.extend(name for name in _open_files() if "manifest.sqlite" in name)
        return real_rename(self, target)

    monkeypatch.setattr(Path, "rename", rename)
    summary = convert_many([root], out, TEXT_ONLY, INLINE)
    assert (summary.converted, summary.skipped) == (0, 2)  # rebuilt from the outputs, not converted again
    assert list((out / ".gazette").glob("manifest.sqlite.damaged-*"))
    assert open_at_rename == []  # the failed connection was closed before the file was moved


class _FailingDb:
    """A manifest connection whose every statement fails with `error`."""

    def __init__(self, error: sqlite3.Error) -> None:
        self.error = error

    def __enter__(self) -> _FailingDb:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def execute(self, *args: object) -> None:
        raise self.error

    def close(self) -> None:
        pass


def test_manifest_write_errors_are_typed(tmp_path: Path) -> None:
    manifest = Manifest(tmp_path / "manifest.sqlite")
    manifest.close()
    malformed = sqlite3.DatabaseError("database disk image is malformed")
    malformed.sqlite_errorcode = sqlite3.SQLITE_CORRUPT  # as sqlite3 sets it
    manifest._db = _FailingDb(malformed)  # type: ignore[assignment]
    with pytest.raises(ExportError, match="malformed") as info:
        manifest.remember("key", 1)
    assert not isinstance(info.value, DiskFullError) and "delete it" in info.value.message
    full = sqlite3.OperationalError("database or disk is full")
    full.sqlite_errorcode = sqlite3.SQLITE_FULL
    manifest._db = _FailingDb(full)  # type: ignore[assignment]
    with pytest.raises(DiskFullError, match=r"disk full writing .*manifest\.sqlite"):
        manifest.remember("key", 1)


def test_atomic_write_chunks_streams_stages_its_temp_and_maps_a_full_disk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "sub" / "documents.jsonl"
    temps: list[str] = []

    def chunks():
        yield b"one\n"
        temps.extend(p.name for p in target.parent.iterdir())
        yield b"two\n"

    atomic_write_chunks(target, chunks())
    assert target.read_bytes() == b"one\ntwo\n" and [p.name for p in target.parent.iterdir()] == [target.name]
    assert len(temps) == 1 and temps[0].startswith(".documents.jsonl.") and temps[0].endswith(".tmp")
    staged: list[str] = []

    def chunks_seen_from_staging():
        yield b"three\n"
        staged.extend(p.name for p in (tmp_path / "staging").iterdir())
        temps.extend(p.name for p in target.parent.iterdir())

    temps.clear()
    with staging(tmp_path / "staging") as folder:
        atomic_write_chunks(target, chunks_seen_from_staging())
    assert target.read_bytes() == b"three\n" and not list(folder.iterdir())
    assert len(staged) == 1 and temps == [target.name]  # the temp sat in the staging folder only
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~umask

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(DiskFullError, match=re.escape(f"disk full writing {target}")):
        atomic_write_chunks(target, [b"new"])
    assert target.read_bytes() == b"three\n" and len(list(target.parent.iterdir())) == 1
    denied = output_error(OSError(errno.EACCES, "Permission denied"), target)
    assert type(denied) is ExportError and "cannot write output (Permission denied)" in denied.message


def test_lock_errors_other_than_a_held_lock_are_typed_and_leak_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pipeline.batch.manifest as manifest

    out = tmp_path / "out"
    lock = OutputLock(out / ".gazette" / "lock", out)
    before = len(_open_files())

    def no_locks(fd: int, operation: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(manifest.fcntl, "flock", no_locks)
    with pytest.raises(ExportError, match="does not support file locks"):
        lock.__enter__()
    assert len(_open_files()) == before
    monkeypatch.undo()

    def full(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "write", full)
    with pytest.raises(DiskFullError):
        lock.__enter__()
    monkeypatch.undo()
    assert len(_open_files()) == before
    with OutputLock(out / ".gazette" / "lock", out):  # nothing holds it
        pass


def test_second_run_on_a_locked_output_folder_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _texts(tmp_path / "in", 1)
    out = tmp_path / "out"
    with OutputLock(out / ".gazette" / "lock", out):
        with pytest.raises(OutputLockedError) as info:
            convert_many([root], out, TEXT_ONLY, INLINE)
        assert f"another gazette convert or export is writing to {out} (pid {os.getpid()})" in info.value.message
        assert main(["convert", str(root), "-o", str(out), "--jobs", "0"]) == ExitCode.output_locked
        assert "Wait for that run to finish" in capsys.readouterr().err
    assert convert_many([root], out, TEXT_ONLY, INLINE).converted == 1  # released


def test_summary_and_cli_flags(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    root = _archive(tmp_path / "in")
    out = tmp_path / "out"
    argv = ["convert", str(root), "-o", str(out), "--jobs", "0", "--restore", "never"]
    assert main(argv) == ExitCode.some_files_failed
    captured = capsys.readouterr()
    assert "converted 2 file(s), 2 page(s), failed 2 (" in captured.out
    assert "failed: CorruptInputError" in captured.out and "errors.jsonl" in captured.err
    assert main([*argv, "--retry-failed"]) == ExitCode.some_files_failed
    assert "skipped 2 already done" in capsys.readouterr().out
    (root / "a" / "b" / "broken.pdf").unlink()
    (root / "a" / "empty.png").unlink()
    assert main([*argv, "--force"]) == ExitCode.ok


def test_progress_bar_and_summary_render(tmp_path: Path) -> None:
    stream = io.StringIO()
    reporter = RichReporter(Console(file=stream, force_terminal=True, width=140, color_system=None))
    item = WorkItem(tmp_path / "a.pdf", Path("a.pdf"))
    reporter.start(2, 5)
    reporter.update(FileResult(item, True, pages=3))
    reporter.update(FileResult(item, False, error={"error": "CorruptInputError", "message": "[E101] a.pdf: bad."}))
    reporter.close()
    shown = stream.getvalue()
    assert "2/2" in shown and "3 pages" in shown and "1 failed" in shown and "[E101] a.pdf: bad." in shown
    summary = convert_many([_texts(tmp_path / "in", 1)], tmp_path / "out", TEXT_ONLY, INLINE)
    out = io.StringIO()
    print_summary(summary, out)
    assert out.getvalue().startswith("converted 1 file(s), 1 page(s), failed 0, skipped 0 already done")
    out = io.StringIO()
    print_summary(BatchSummary(tmp_path / "out", failed=1, stopped="disk full"), file=out)
    assert "stopped early: disk full" in out.getvalue() and "errors.jsonl" in out.getvalue()


def test_reconversion_keeps_reviewers_corrections_and_reports_orphans(tmp_path: Path) -> None:
    root = _texts(tmp_path / "in", 2)
    out = tmp_path / "out"
    convert_many([root], out, TEXT_ONLY, INLINE)
    journal = Journal(out)
    for name, token, text in (("t0.txt", "p1-l1-w6", "Ngoại"), ("t1.txt", "p1-l1-w9", "số")):
        document = from_json((out / f"{name}.json").read_text(encoding="utf-8"))
        journal.append(new_record(document, name, token, text, reviewer="lan"))
    (root / "t1.txt").write_text("Đơn vị chủ trì: Sở Nội vụ.\n", encoding="utf-8")  # its word 9 is gone

    again = convert_many([root], out, TEXT_ONLY, BatchOptions(jobs=0, progress="none", force=True))
    assert again.converted == 2
    kept = from_json((out / "t0.txt.json").read_text(encoding="utf-8"))
    token = kept.pages[0].lines[0].tokens[5]
    assert (token.text, token.source_text) == ("Ngoại", "Nội")
    assert "corrected" in token.flags and token.corrections[0].reviewer == "lan"
    assert "Sở Ngoại vụ" in (out / "t0.txt.txt").read_text(encoding="utf-8")
    orphaned = from_json((out / "t1.txt.json").read_text(encoding="utf-8"))
    assert any("not applied" in w and "p1-l1-w9" in w for w in orphaned.warnings)
    assert len(journal.load()) == 2  # the orphan stays in the journal


def test_the_journal_is_parsed_once_per_batch_not_per_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _texts(tmp_path / "in", 3)
    out = tmp_path / "out"
    convert_many([root], out, TEXT_ONLY, INLINE)
    journal = Journal(out)
    document = from_json((out / "t0.txt.json").read_text(encoding="utf-8"))
    journal.append(new_record(document, "t0.txt", "p1-l1-w6", "Ngoại", reviewer="lan"))
    loads: list[Path] = []
    real_load = Journal.load

    def load(self: Journal):
        loads.append(self.path)
        return real_load(self)

    monkeypatch.setattr(Journal, "load", load)
    force = BatchOptions(jobs=0, progress="none", force=True)
    assert convert_many([root], out, TEXT_ONLY, force).converted == 3
    assert len(loads) == 1
    assert "Sở Ngoại vụ" in (out / "t0.txt.txt").read_text(encoding="utf-8")
    document = from_json((out / "t1.txt.json").read_text(encoding="utf-8"))
    real_load(journal)  # (unpatched) an append changes the journal: it is read again
    journal.append(new_record(document, "t1.txt", "p1-l1-w6", "Ngoại", reviewer="lan"))
    assert convert_many([root], out, TEXT_ONLY, force).converted == 3
    assert len(loads) == 2
    assert "Sở Ngoại vụ" in (out / "t1.txt.txt").read_text(encoding="utf-8")


def test_a_full_disk_while_appending_to_the_journal_is_a_disk_full_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _texts(tmp_path / "in", 1)
    out = tmp_path / "out"
    convert_many([root], out, TEXT_ONLY, INLINE)
    document = from_json((out / "t0.txt.json").read_text(encoding="utf-8"))

    def full(fd: int) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(DiskFullError, match=r"corrections\.jsonl"):
        Journal(out).append(new_record(document, "t0.txt", "p1-l1-w6", "Ngoại", reviewer="lan"))

"""A batch under bad input and faults: a corpus of broken files the test writes itself, worker
processes that die, a full disk, a hanging tesseract, `kill -9` of the whole run and a second
run on the same output folder. Real worker processes and the real tesseract binary."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import png_header_only
from PIL import Image

from pipeline.batch import BatchOptions, FileResult, WorkItem, convert_many, convert_one
from pipeline.errors import ExitCode
from pipeline.export.json import from_json
from pipeline.options import Options
from pipeline.synth import Degradation, Para, degrade, render_pages
from pipeline.textenc import encode_text

ROOT = Path(__file__).resolve().parents[1]
LINES = ["KẾ HOẠCH TẬP HUẤN", "Đơn vị chủ trì: Sở Nội vụ.", "Thời gian thực hiện: Quý II/2025."]
LEGACY_TEXT = "Đơn vị chủ trì: Sở Nội vụ.\nThời gian thực hiện: Quý II/2025.\n"
# Written for this test: an English news paragraph, no plan.
NEWS = (
    "Heavy rain flooded several streets in the city centre on Tuesday evening, and traffic was "
    "slow for hours. Residents said the water rose quickly after a short storm. Officials expect "
    "drier weather later this week and have asked drivers to avoid low roads until then.\n"
)
POOL = BatchOptions(jobs=2, progress="none")
FAST = Options(restore="never", formats=("json", "txt", "jsonl"))


@pytest.fixture(scope="module")
def short_page() -> Image.Image:
    page = render_pages([Para(line) for line in LINES])[0].image
    return degrade(page, Degradation(skew_deg=0.5, blur=0.5, noise=5, seed=4))


def _encrypted_copy(source: Path, target: Path) -> None:
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for page in PdfReader(source).pages:
        writer.add_page(page)
    writer.encrypt(user_password="secret", owner_password="owner", algorithm="AES-128")
    with target.open("wb") as handle:
        writer.write(handle)


@pytest.fixture(scope="module")
def bad_archive(tmp_path_factory: pytest.TempPathFactory, short_page: Image.Image) -> tuple[Path, dict[str, str]]:
    """The archive and, per file, what must come of it: an error class, 'ok', or a flag."""
    root = tmp_path_factory.mktemp("bad") / "archive"
    good, bad, enc = root / "good", root / "bad", root / "encodings"
    for folder in (good, bad, enc):
        folder.mkdir(parents=True)
    expected: dict[str, str] = {}

    def put(relative: str, outcome: str, data: bytes | None = None) -> Path:
        path = root / relative
        if data is not None:
            path.write_bytes(data)
        expected[relative] = outcome
        return path

    put("good/plan.txt", "plan", (ROOT / "samples" / "source" / "ke-hoach-mau.txt").read_bytes())
    short_page.save(put("good/scan.png", "ok"), dpi=(300, 300))
    pdf = put("good/scan.pdf", "ok")
    short_page.save(pdf, resolution=300)
    put("good/news-en.txt", "not-a-plan", NEWS.encode())
    put("encodings/utf16.txt", "utf-16", LEGACY_TEXT.encode("utf-16"))
    for name in ("cp1258", "vni", "tcvn3"):
        put(f"encodings/{name}.txt", name, encode_text(LEGACY_TEXT, name))
    put("bad/empty.pdf", "EmptyInputError", b"")
    put("bad/truncated.pdf", "CorruptInputError", pdf.read_bytes()[:3000])
    data = pdf.read_bytes()
    cut = data.rfind(b"xref")
    broken = data[:cut] + b"xref\n0 9\ngarbage garbage\ntrailer\n<< /Root 99 0 R >>\n%%EOF\n"
    put("bad/broken-xref.pdf", "CorruptInputError|ok", broken)  # pypdf may rebuild the xref
    _encrypted_copy(pdf, put("bad/encrypted.pdf", "EncryptedInputError"))
    png = (good / "scan.png").read_bytes()
    put("bad/truncated.png", "CorruptInputError", png[: len(png) // 3])
    png_header_only(put("bad/bomb.png", "InputTooLargeError"), 20_000, 20_000)
    degrade(render_pages([])[0].image, Degradation(noise=3, specks=20)).save(put("bad/blank.png", "EmptyInputError"))
    put("bad/junk.txt", "CorruptInputError", bytes(range(256)) * 20)
    os.symlink("self-loop.txt", put("bad/self-loop.txt", "InputError"))  # a symlink to itself
    os.symlink(root, root / "bad" / "loop")  # a folder loop: walked once, never an error
    return root, expected


def test_bad_input_corpus_each_file_gets_its_error_or_flag(tmp_path: Path, bad_archive) -> None:
    root, expected = bad_archive
    out = tmp_path / "out"
    summary = convert_many([root], out, FAST, POOL)
    errors = {str(Path(e["path"]).relative_to(root)): e for e in map(json.loads, (out / "errors.jsonl").open())}
    for relative, outcome in expected.items():
        error = errors.get(relative)
        if error is None:
            assert "ok" in outcome or not outcome.endswith("Error"), f"{relative} should fail: {outcome}"
            document = from_json((out / f"{relative}.json").read_text(encoding="utf-8"))
            if outcome == "plan":
                assert document.plan is not None and "not-a-plan" not in document.flags
            elif outcome == "not-a-plan":
                assert document.plan is None and document.flags == ["not-a-plan"] and document.language == "en"
            elif outcome != "ok" and "|" not in outcome:
                assert document.encoding == outcome and "Sở Nội vụ." in document.text
        else:
            assert error["error"] in outcome.split("|"), f"{relative}: {error}"
            assert relative.split("/")[-1] in error["message"] and error["message"].endswith(".")
            assert not (out / f"{relative}.json").exists()
    assert summary.converted + summary.failed == len(expected) == summary.found
    assert summary.exit_code == ExitCode.some_files_failed
    documents = [json.loads(line) for line in (out / "documents.jsonl").read_text().splitlines()]
    assert len(documents) == summary.converted
    assert not list(out.rglob("*.tmp"))


def test_unreadable_file_is_a_typed_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = _letters(tmp_path / "in", "ab")
    locked = root / "a.txt"
    locked.chmod(0)
    batch = POOL
    if os.geteuid() == 0:
        # chmod 000 does not stop root: deny the file the way the kernel would anyone else,
        # in this process (a worker process would not see the patch).
        real_open = os.open

        def deny(path, *args, **kwargs):
            if Path(path) == locked:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", deny)
        batch = BatchOptions(jobs=0, progress="none")
    summary = convert_many([root], tmp_path / "out", FAST, batch)
    assert (summary.converted, summary.failures_by_kind) == (1, {"InputError": 1})
    (error,) = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").open()]
    assert "a.txt: permission denied. Make the file readable" in error["message"]


# --- worker processes that die --------------------------------------------------------------
# Tasks run in worker processes, which import them from this module by name.


def dies_once_on_b(item: WorkItem, out_dir: Path, options: Options) -> FileResult:
    marker = out_dir.parent / f"died-on-{item.relative.name}"
    if item.relative.name == "b.txt" and not marker.exists():
        marker.touch()
        os._exit(9)  # as the OOM killer would: no exception, no clean-up
    return convert_one(item, out_dir, options)


def _wait_for(condition: Callable[[], bool], seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.01)


def always_dies_on_b(item: WorkItem, out_dir: Path, options: Options) -> FileResult:
    # Markers make the other worker's file be in flight when b's worker dies: it is lost
    # with the pool too, and retried.
    markers = out_dir.parent
    if item.relative.name == "b.txt":
        _wait_for(lambda: any(p.name != "started-b.txt" for p in markers.glob("started-*")))
        (markers / "b-died").touch()
        os._exit(9)
    (markers / f"started-{item.relative.name}").touch()
    _wait_for((markers / "b-died").exists)
    return convert_one(item, out_dir, options)


def unpicklable_result_on_b(item: WorkItem, out_dir: Path, options: Options) -> FileResult:
    result = convert_one(item, out_dir, options)
    if item.relative.name == "b.txt":
        result.flags.append(lambda: None)  # type: ignore[arg-type]  # the worker cannot send it back
    return result


def counts_model_loads(item: WorkItem, out_dir: Path, options: Options) -> FileResult:
    from pipeline.restore.api import get_restorer

    result = convert_one(item, out_dir, options)
    result.flags.append(f"model-loads={get_restorer.cache_info().misses}")
    return result


def _letters(root: Path, names: str = "abcde") -> Path:
    root.mkdir()
    for name in names:
        (root / f"{name}.txt").write_text(f"Đơn vị chủ trì: Sở Nội vụ, văn bản {name}.\n", encoding="utf-8")
    return root


def test_worker_death_retries_the_file_and_the_batch_goes_on(tmp_path: Path) -> None:
    root = _letters(tmp_path / "in")
    notes: list[str] = []
    results: list[FileResult] = []

    class Notes:
        def start(self, total: int, skipped: int) -> None: ...
        def update(self, result: FileResult) -> None: ...
        def note(self, message: str) -> None:
            notes.append(message)

        def close(self) -> None: ...

    summary = convert_many(
        [root], tmp_path / "out", FAST, POOL, task=dies_once_on_b, reporter=Notes(), on_result=results.append
    )
    assert (summary.converted, summary.failed) == (5, 0)
    assert any("b.txt" in note and "retrying" in note for note in notes)
    assert (tmp_path / "out" / "b.txt.json").exists()

    summary = convert_many([root], tmp_path / "again", FAST, POOL, task=always_dies_on_b)
    assert (summary.converted, summary.failures_by_kind) == (4, {"WorkerLostError": 1})
    (error,) = [json.loads(line) for line in (tmp_path / "again" / "errors.jsonl").open()]
    assert error["path"] == str(root / "b.txt") and "died 2 times" in error["message"]


def test_a_task_that_raises_in_the_worker_costs_one_file(tmp_path: Path) -> None:
    root = _letters(tmp_path / "in")
    summary = convert_many([root], tmp_path / "out", FAST, POOL, task=unpicklable_result_on_b)
    assert (summary.converted, summary.failures_by_kind) == (4, {"InternalError": 1})
    (error,) = [json.loads(line) for line in (tmp_path / "out" / "errors.jsonl").open()]
    assert error["path"] == str(root / "b.txt") and "the task failed in the worker process" in error["message"]


def test_model_is_loaded_once_per_worker(tmp_path: Path) -> None:
    root = _letters(tmp_path / "in", "abc")
    results: list[FileResult] = []
    options = Options(restore="always", formats=("json",))
    convert_many([root], tmp_path / "out", options, BatchOptions(jobs=1, progress="none"),
                 task=counts_model_loads, on_result=results.append)  # fmt: skip
    assert len({r.worker for r in results}) == 1
    assert [r.flags[-1] for r in results] == ["model-loads=1"] * 3
    # ru_maxrss of the one worker, which holds torch and the model: large, and never shrinking.
    peaks = [r.peak_rss_mb for r in results]
    assert peaks[0] > 100 and peaks == sorted(peaks)


# --- a full disk, a hanging tesseract ---------------------------------------------------------


def test_disk_full_stops_cleanly_and_the_rerun_finishes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import errno

    root = _letters(tmp_path / "in", "abc")
    out = tmp_path / "out"
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        if ".b.txt.json." in os.readlink(f"/proc/self/fd/{fd}"):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    summary = convert_many([root], out, FAST, BatchOptions(jobs=0, progress="none"))
    assert summary.exit_code == ExitCode.export_error and "disk full writing" in str(summary.stopped)
    assert (summary.converted, summary.failures_by_kind) == (1, {"DiskFullError": 1})  # c never started
    (error,) = [json.loads(line) for line in (out / "errors.jsonl").open()]
    assert error["error"] == "DiskFullError" and str(out / "b.txt.json") in error["message"]
    assert "Free space" in error["message"] and error["path"] == str(root / "b.txt")
    outputs = sorted(str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and p.parent.name != ".gazette")
    assert outputs == [".gazette/jsonl/a.txt.jsonl", "a.txt.json", "a.txt.txt", "documents.jsonl", "errors.jsonl"]
    monkeypatch.setattr(os, "fsync", real_fsync)  # space freed
    again = convert_many([root], out, FAST, BatchOptions(jobs=0, progress="none"))
    assert (again.converted, again.skipped, again.failed) == (2, 1, 0)
    assert from_json((out / "b.txt.json").read_text()).text == "Đơn vị chủ trì: Sở Nội vụ, văn bản b."


def test_hanging_tesseract_flags_the_page_and_the_file_completes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, short_page: Image.Image
) -> None:
    real = shutil.which("tesseract")
    assert real, "tesseract is installed by `make test`"
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    marker = tmp_path / "hung-once"
    fake = bin_dir / "tesseract"
    # exec: the process tesseract's caller kills on timeout is the sleeping one itself.
    fake.write_text(
        f'#!/bin/sh\ncase "$*" in *--version*|*--list-langs*) exec {real} "$@";; esac\n'
        f'if [ ! -e {marker} ]; then touch {marker}; exec sleep 60; fi\nexec {real} "$@"\n'
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    root = tmp_path / "in"
    root.mkdir()
    short_page.save(root / "two-pages.tif", save_all=True, append_images=[short_page], dpi=(300, 300))
    options = Options(restore="never", ocr_timeout=3)
    summary = convert_many([root], tmp_path / "out", options, BatchOptions(jobs=0, progress="none"))
    assert (summary.converted, summary.failed) == (1, 0)
    document = from_json((tmp_path / "out" / "two-pages.tif.json").read_text())
    first, second = document.pages
    assert first.lines == [] and first.warnings[0].startswith("ocr-timeout")
    assert "Sở Nội vụ." in second.text


# --- kill -9 of the whole run, and a second run at the same time ------------------------------


def _done_rows(out: Path) -> set[str]:
    path = out / ".gazette" / "manifest.sqlite"
    if not path.exists():
        return set()
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5) as db:
            return {row[0] for row in db.execute("SELECT relative FROM files WHERE status = 'done'")}
    except sqlite3.OperationalError:  # the schema is not there yet
        return set()


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.parametrize("signal_number", [signal.SIGKILL, signal.SIGINT], ids=["kill -9", "Ctrl-C"])
def test_killed_run_then_rerun_finishes_without_redoing(
    tmp_path: Path, short_page: Image.Image, signal_number: signal.Signals
) -> None:
    root = tmp_path / "in"
    root.mkdir()

    def scan(path: Path) -> None:
        short_page.save(path, save_all=True, append_images=[short_page], dpi=(300, 300))

    def gate(path: Path) -> None:
        clean = render_pages([Para(line) for line in LINES])[0].image  # compresses well, unlike a noisy scan
        clean.save(path, save_all=True, append_images=[clean] * 199, dpi=(300, 300), compression="tiff_adobe_deflate")

    # Two "scans" are gates: many compressed frames, so they are smaller on disk than the four
    # uncompressed real scans (longest first goes by kind, then size) yet take minutes to read.
    # The four real scans are converted first, then both workers sit on the gates and the
    # texts never start, so the kill always lands mid-run.
    gates = [root / "scan4.tif", root / "scan5.tif"]
    for n in range(6):
        if root / f"scan{n}.tif" in gates:
            gate(root / f"scan{n}.tif")
        else:
            scan(root / f"scan{n}.tif")
        (root / f"text{n}.txt").write_text(f"Đơn vị chủ trì: Sở Nội vụ, văn bản {n}.\n", encoding="utf-8")
    assert all(slow.stat().st_size < (root / "scan0.tif").stat().st_size for slow in gates)
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "pipeline.cli", "convert", str(root), "-o", str(out), "--jobs", "2",
            "--restore", "never", "-f", "json,txt,jsonl"]  # fmt: skip
    # Ctrl-C reaches a terminal's foreground job, whose SIGINT is at its default. A test run started
    # in the background by a script (CI) hands its children SIGINT ignored, and Python then
    # installs no KeyboardInterrupt handler: restore the default, as a terminal would.
    first = subprocess.Popen(argv, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             preexec_fn=_sigint_default)  # fmt: skip
    try:
        deadline = time.monotonic() + 240
        while not (out / ".gazette" / "lock").exists() or not (out / ".gazette" / "lock").read_text():
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.05)
        second = subprocess.run(argv, capture_output=True, text=True, timeout=120)
        assert second.returncode == ExitCode.output_locked, second.stderr
        assert f"another gazette convert or export is writing to {out} (pid {first.pid})" in second.stderr
        while len(_done_rows(out)) < 4:
            assert first.poll() is None and time.monotonic() < deadline, first.communicate()
            time.sleep(0.05)
        os.killpg(first.pid, signal_number)  # the parent, its workers and their tesseracts
        first.communicate(timeout=60)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
            first.communicate()
    assert first.returncode == (ExitCode.interrupted if signal_number == signal.SIGINT else -signal.SIGKILL)
    done = _done_rows(out)
    assert done == {"scan0.tif", "scan1.tif", "scan2.tif", "scan3.tif"}
    for output in out.rglob("*.json"):
        json.loads(output.read_text(encoding="utf-8"))  # none truncated: written by atomic rename
    finished = {name: (out / f"{name}.json").stat().st_mtime_ns for name in done}
    for slow in gates:
        scan(slow)

    rerun = subprocess.run(argv, capture_output=True, text=True, timeout=240)
    assert rerun.returncode == ExitCode.ok, rerun.stderr
    assert f"skipped {len(done)} already done" in rerun.stdout
    assert f"converted {12 - len(done)} file(s)" in rerun.stdout
    assert {name: (out / f"{name}.json").stat().st_mtime_ns for name in done} == finished
    assert len(_done_rows(out)) == 12 and not list(out.rglob("*.tmp"))
    lines = (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    assert sorted(Path(json.loads(line)["source_path"]).name for line in lines) == sorted(
        p.name for p in root.iterdir()
    )


def _group_alive(pgid: int) -> bool:
    """A process of the group still runs (zombies, such as the parent this test has not reaped
    yet, do not count)."""
    return any(_in_group(p, pgid) for p in Path("/proc").iterdir() if p.name.isdigit())


@pytest.mark.parametrize("signal_number", [signal.SIGTERM, signal.SIGKILL], ids=["SIGTERM", "kill -9"])
def test_workers_do_not_outlive_their_parent(tmp_path: Path, signal_number: signal.Signals) -> None:
    root = tmp_path / "in"
    root.mkdir()
    clean = render_pages([Para(line) for line in LINES])[0].image
    for n in range(2):  # two long multi-page scans: both workers are busy when the signal comes
        clean.save(root / f"long{n}.tif", save_all=True, append_images=[clean] * 99, dpi=(300, 300))
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "pipeline.cli", "convert", str(root), "-o", str(out), "--jobs", "2",
            "--restore", "never", "-f", "json"]  # fmt: skip
    parent = subprocess.Popen(argv, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while len([p for p in Path("/proc").iterdir() if p.name.isdigit() and _in_group(p, parent.pid)]) < 4:
            assert parent.poll() is None and time.monotonic() < deadline, parent.communicate()
            time.sleep(0.1)  # the parent, the forkserver and two workers
        time.sleep(1.0)
        os.kill(parent.pid, signal_number)  # the parent alone, as a service manager or the OOM killer would
        deadline = time.monotonic() + 30
        while _group_alive(parent.pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        left = [(p.name, (p / "cmdline").read_bytes()[:80]) for p in Path("/proc").iterdir()
                if p.name.isdigit() and _in_group(p, parent.pid)]  # fmt: skip
        assert not left, f"processes outlived the parent: {left}"
        _, stderr = parent.communicate(timeout=10)
    finally:
        if _group_alive(parent.pid):
            os.killpg(parent.pid, signal.SIGKILL)
        if parent.poll() is None:
            parent.communicate()
    if signal_number == signal.SIGTERM:
        assert parent.returncode == ExitCode.terminated, stderr
        assert "terminated (SIGTERM)" in stderr
        assert (out / "errors.jsonl").exists()  # the run files are written, as after Ctrl-C
    else:
        assert parent.returncode == -signal.SIGKILL


def _in_group(proc: Path, pgid: int) -> bool:
    try:
        fields = (proc / "stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return False
    return int(fields[2]) == pgid and fields[0] != "Z"  # fields after the name: state, ppid, pgrp

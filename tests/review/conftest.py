"""Converted output folders to review: a scanned page OCR'd by the real tesseract, and a text file.

Conversion runs once per session into a template folder, the way `gazette convert` lays it
out (OUT_DIR/<path under the archive>.json …); each test gets its own copy, since tests write
journals and outputs into it. `review_server` runs the real `gazette review` in a subprocess.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pipeline.api import convert
from pipeline.export import write_outputs
from pipeline.options import Options
from pipeline.synth import Degradation, RenderedPage, degrade

# A poor scan: blurred, noisy, speckled, heavily compressed, so tesseract doubts some words.
POOR_SCAN = Degradation(skew_deg=0.8, blur=2.2, noise=30, specks=800, jpeg_quality=20, seed=3)

SCAN = "scans/page-1.png"  # under the archive; the output stem under OUT_DIR is the same path
PLAN = "text/plan.txt"


@pytest.fixture(scope="session")
def converted_template(
    tmp_path_factory: pytest.TempPathFactory, clean_pages: list[RenderedPage], plan_text: str
) -> Path:
    root = tmp_path_factory.mktemp("review")
    archive, out = root / "archive", root / "out"
    (archive / "scans").mkdir(parents=True)
    (archive / "text").mkdir()
    degrade(clean_pages[0].image, POOR_SCAN).save(archive / SCAN, dpi=(300, 300))
    (archive / PLAN).write_text(plan_text, encoding="utf-8")
    options = Options(restore="never")
    for relative in (SCAN, PLAN):
        write_outputs(convert(archive / relative, options), out / relative, ("json", "txt"))
    return out


@pytest.fixture
def out_dir(converted_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the converted folder (source paths are absolute: the archive stays put)."""
    return Path(shutil.copytree(converted_template, tmp_path / "out"))


@pytest.fixture
def scan() -> str:
    """The poor scan's output stem under OUT_DIR (its Document JSON is OUT_DIR/<scan>.json)."""
    return SCAN


@pytest.fixture
def plan() -> str:
    """The plan text file's output stem under OUT_DIR."""
    return PLAN


ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def review_server(out_dir: Path, log: Path, seconds: float = 60) -> Iterator[tuple[int, str]]:
    """`gazette review OUT_DIR --no-browser --port N` running; yields (port, the URL it printed,
    token included). Voilà and its kernels run in one process group, stopped together."""
    port = free_port()
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "review", str(out_dir), "--no-browser", "--port", str(port)],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + seconds
        while True:
            if process.poll() is not None:
                pytest.fail(f"gazette review exited with {process.returncode}:\n{log.read_text()[-3000:]}")
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            if time.monotonic() > deadline:
                pytest.fail(f"gazette review did not listen on port {port}:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        printed = re.search(r"review app: (http://\S+)", log.read_text())
        assert printed is not None, log.read_text()
        yield port, printed[1]
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

"""The review app for real: `gazette review` serves it with Voilà, Chromium drives it (Playwright).

Correct a highlighted word, press Enter, see the focus move to the next word to review,
reload and see the correction, find it in the journal and in a fresh ALTO export.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.export import SUFFIXES
from pipeline.review.journal import Journal
from pipeline.review.session import ReviewSession

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium)", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _wait_for_port(port: int, process: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"gazette review exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    pytest.fail(f"gazette review did not listen on port {port}:\n{log.read_text()[-3000:]}")


@pytest.fixture
def review_app(out_dir: Path, tmp_path: Path) -> Iterator[str]:
    """`gazette review OUT_DIR --no-browser --port N` running; yields its URL."""
    port = _free_port()
    log = tmp_path / "review.log"
    with log.open("w") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "review", str(out_dir), "--no-browser", "--port", str(port)],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Voilà and its kernels in one process group, stopped together
        )
    try:
        _wait_for_port(port, process, log)
        assert f"review app: http://127.0.0.1:{port}/" in log.read_text()
        yield f"http://127.0.0.1:{port}/"
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def test_correct_a_word_in_the_browser(review_app: str, out_dir: Path, scan: str) -> None:
    session = ReviewSession(out_dir, "reviewer")
    session.open(scan)
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.goto(review_app)
            page.wait_for_selector(".gz-review .gz-page rect.gz-pending", timeout=90_000)
            assert page.input_value(".gz-document") == scan

            # Click the first highlighted word on the page image.
            box = page.locator("rect.gz-box.gz-pending").first
            clicked = box.get_attribute("data-token")
            assert clicked is not None
            expected_next = session.next_token(clicked, 1)
            assert expected_next not in (None, clicked), "the sample should have two words to review"
            box.click()
            editor = page.locator("input.gz-input")
            page.wait_for_function("document.activeElement?.classList.contains('gz-input')")
            assert editor.get_attribute("data-token") == clicked

            editor.press("Control+A")
            editor.type("Sửa-lỗi")
            editor.press("Enter")
            page.wait_for_function(
                "t => document.activeElement?.dataset.token === t", arg=expected_next, timeout=30_000
            )
            assert "gz-selected" in page.locator(f'.gz-word[data-token="{expected_next}"]').get_attribute("class")

            [record] = Journal(out_dir).load()
            assert (record.document, record.token, record.text) == (scan, clicked, "Sửa-lỗi")

            page.reload()
            word = page.locator(f'.gz-word[data-token="{clicked}"]')
            word.wait_for(timeout=90_000)
            assert word.inner_text() == "Sửa-lỗi"
            assert "gz-reviewed" in word.get_attribute("class")
        finally:
            browser.close()

    if "alto" not in SUFFIXES:
        pytest.skip("the ALTO exporter is not registered in pipeline.export.SUFFIXES yet")
    assert main(["export", str(out_dir), "--formats", "alto"]) == 0
    strings = {e.get("ID"): e for e in ET.parse(out_dir / f"{scan}.alto.xml").iter() if e.tag.endswith("}String")}
    assert (strings[clicked].get("CONTENT"), strings[clicked].get("CS")) == ("Sửa-lỗi", "true")

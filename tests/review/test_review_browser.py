"""The review app for real: `gazette review` serves it with Voilà, Chromium drives it (Playwright).

Correct a highlighted word, press Enter, see the focus move to the next word to review,
reload and see the correction, find it in the journal and in a fresh ALTO export.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import pytest

from pipeline.cli import main
from pipeline.review.journal import Journal
from pipeline.review.session import ReviewSession

from .conftest import review_server

CHROMIUM = Path("/usr/bin/chromium")

sync_api = pytest.importorskip("playwright.sync_api", reason="the playwright Python package is not installed")
if not CHROMIUM.exists():
    pytest.skip(f"{CHROMIUM} is absent (apt-get install chromium)", allow_module_level=True)


@pytest.fixture
def review_app(out_dir: Path, tmp_path: Path) -> Iterator[str]:
    """`gazette review OUT_DIR --no-browser --port N` running; yields its URL (token included)."""
    with review_server(out_dir, tmp_path / "review.log") as (port, url):
        assert url.startswith(f"http://127.0.0.1:{port}/?token=")
        yield url


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

    assert main(["export", str(out_dir), "--formats", "alto"]) == 0
    strings = {e.get("ID"): e for e in ET.parse(out_dir / f"{scan}.alto.xml").iter() if e.tag.endswith("}String")}
    assert (strings[clicked].get("CONTENT"), strings[clicked].get("CS")) == ("Sửa-lỗi", "true")

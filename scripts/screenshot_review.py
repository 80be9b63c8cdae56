"""Screenshot of the review app on the sample archive, for the README (docs/review.png).

    .venv/bin/python scripts/screenshot_review.py [-o docs/review.png]

Converts samples/archive into a temporary output folder, serves it with `gazette review`,
opens the first scanned document in Debian's Chromium (Playwright, never `playwright
install`), jumps to the first word to review and saves the screenshot.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.batch import convert_many  # noqa: E402
from pipeline.review.corrections import find_documents, load_document  # noqa: E402

CHROMIUM = "/usr/bin/chromium"


def first_scanned(out_dir: Path) -> str:
    """The first converted PDF (else image) in the folder: a document with a page image."""
    documents = [(load_document(d).kind, d.relative) for d in find_documents(out_dir)]
    for kind in ("pdf", "image"):
        for found, relative in documents:
            if found == kind:
                return relative
    raise SystemExit(f"no scanned document in {out_dir}")


def serve(out_dir: Path, port: int, log: Path) -> subprocess.Popen:
    with log.open("w") as output:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pipeline.cli",
                "review",
                str(out_dir),
                "--no-browser",
                "--port",
                str(port),
                "--reviewer",
                "archivist",
            ],
            cwd=ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        with socket.socket() as probe:
            if probe.connect_ex(("127.0.0.1", port)) == 0:
                return process
        time.sleep(0.2)
    raise SystemExit(f"gazette review did not start:\n{log.read_text()[-2000:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=ROOT / "docs" / "review.png")
    parser.add_argument("--port", type=int, default=8871)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="gazette-review-") as tmp:
        out_dir = Path(tmp) / "out"
        convert_many([ROOT / "samples" / "archive"], out_dir)
        document = first_scanned(out_dir)
        process = serve(out_dir, args.port, Path(tmp) / "review.log")
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                page.goto(f"http://127.0.0.1:{args.port}/")
                page.wait_for_selector(".gz-review .gz-word", timeout=90_000)
                page.select_option(".gz-document", document)
                page.wait_for_selector(".gz-page image", timeout=60_000)
                # Confirm the first word to review (Enter), then step back to it (Shift+Enter):
                # the picture shows a reviewed word with its history.
                page.click(".gz-next-word")
                focused = (
                    "document.activeElement?.classList.contains('gz-input') && document.activeElement.dataset.token"
                )
                page.wait_for_function(focused)
                first = page.evaluate(focused)
                page.keyboard.press("Enter")
                page.wait_for_function(f"({focused}) && ({focused}) !== {first!r}")
                page.keyboard.press("Shift+Enter")
                page.wait_for_function(f"({focused}) === {first!r}")
                page.wait_for_timeout(500)  # let the image and the scroll settle
                args.output.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(args.output))
                browser.close()
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)
    print(f"{document} → {args.output}")


if __name__ == "__main__":
    main()

"""Build the bundled sample archive (samples/archive/) from the project's own plan text.

samples/source/ke-hoach-mau.txt (written for gazette, not taken from any real document) is
rendered into a scanned-looking PDF, one PNG page, and the English-model OCR text of the same
pages, which is what the archives' legacy text looks like.

    .venv/bin/python scripts/make_samples.py
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.synth import Degradation, PageStyle, degrade, plan_paragraphs, render_pages, scanned  # noqa: E402

SOURCE = ROOT / "samples" / "source" / "ke-hoach-mau.txt"
ARCHIVE = ROOT / "samples" / "archive"


def main() -> None:
    text = SOURCE.read_text(encoding="utf-8")
    pages = render_pages(plan_paragraphs(text), PageStyle(font="liberation-serif", size_pt=13, dpi=300))
    scans = [degrade(page.image, scanned(seed)) for seed, page in enumerate(pages, start=1)]
    (ARCHIVE / "scans").mkdir(parents=True, exist_ok=True)
    (ARCHIVE / "images").mkdir(parents=True, exist_ok=True)
    (ARCHIVE / "text").mkdir(parents=True, exist_ok=True)
    scans[0].save(ARCHIVE / "scans" / "ke-hoach-2316.pdf", save_all=True, append_images=scans[1:], resolution=300)
    # A lighter-looking photo of the last page, as a PNG at 200 DPI (the size archives often use).
    last = render_pages(plan_paragraphs(text), PageStyle(font="dejavu-serif", size_pt=12, dpi=200))[-1]
    degrade(last.image, Degradation(skew_deg=-0.8, blur=0.5, specks=30, seed=7)).save(
        ARCHIVE / "images" / "ke-hoach-2316-trang-cuoi.png", dpi=(200, 200), optimize=True
    )
    # The legacy text: the same scans read with the English model, as old archives were.
    chunks = []
    with tempfile.TemporaryDirectory() as tmp:
        for number, image in enumerate(scans, start=1):
            png = Path(tmp) / f"{number}.png"
            image.save(png, dpi=(300, 300))
            out = subprocess.run(["tesseract", str(png), "stdout", "-l", "eng"], capture_output=True, check=True)
            chunks.append(out.stdout.decode("utf-8"))
    (ARCHIVE / "text" / "ke-hoach-2316-ocr-eng.txt").write_text("".join(chunks), encoding="utf-8")
    print(f"{len(pages)} pages → {ARCHIVE}")


if __name__ == "__main__":
    main()

"""Render the development plans into scanned-looking PDFs, and build the three ways into
segmentation that scripts/bench_segment.py measures (issue 11):

  (a) the clean text                       — read from the plan files themselves;
  (b) English-model OCR of the scans        — DATA/archive/<id>.eng.txt, restored by `gazette convert`;
  (c) the scans                             — DATA/archive/<id>.pdf, read by `gazette convert`.

Pages look like printed provincial plans (pipeline.synth.plan_layout: two-column letterhead,
bold Roman-numeral headings, justified body), in a font and size chosen per document, then
skewed, blurred, speckled and JPEG-compressed (pipeline.synth.scanned). Only the plan body is
rendered: appendices after the signature are not annotated (tests/data/segment/GUIDE.md).

Everything is cached and resumable: a PDF or OCR text that exists is not rebuilt, and
`gazette convert` keeps its own manifest. Run it in the background:

    nohup .venv/bin/python scripts/render_plans.py > data/plan-scans.log 2>&1 &
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.synth import FONTS, PageStyle, degrade, plan_layout, render_pages, scanned  # noqa: E402

DATA = ROOT / "data" / "plan-scans"
COLLECTIONS = (ROOT.parent / "shared" / "plans", ROOT / "tests" / "data" / "plans")
_APPENDIX = re.compile(r"^(?:PHỤ LỤC|Phụ lục)\b")
_TITLE = re.compile(r"^KẾ HOẠCH\s*$")


def plan_body(text: str) -> str:
    """The text up to the first appendix that follows the (last) Nơi nhận block of the plan."""
    lines = text.splitlines()
    seen_recipients = False
    for index, line in enumerate(lines):
        if line.startswith("Nơi nhận"):
            seen_recipients = True
        elif _TITLE.match(line):
            seen_recipients = False  # a decision's Nơi nhận, then the attached plan
        elif seen_recipients and _APPENDIX.match(line):
            return "\n".join(lines[:index]) + "\n"
    return text


def style_for(doc_id: str) -> PageStyle:
    digest = hashlib.sha256(doc_id.encode()).digest()
    font = sorted(FONTS)[digest[0] % len(FONTS)]
    return PageStyle(font=font, size_pt=(12.5, 13.0, 13.5, 14.0)[digest[1] % 4], dpi=300)


def render(doc_id: str, text: str, archive: Path) -> None:
    if (archive / f"{doc_id}.pdf").exists() and (archive / f"{doc_id}.eng.txt").exists():
        return
    pages = render_pages(plan_layout(plan_body(text)), style_for(doc_id))
    seed = int(hashlib.sha256(doc_id.encode()).hexdigest()[:6], 16)
    ocr_and_save(doc_id, [degrade(page.image, scanned(seed + n)) for n, page in enumerate(pages)], archive)
    print(f"{doc_id}: {len(pages)} pages", flush=True)


def ocr_and_save(doc_id: str, scans: list[Image.Image], archive: Path) -> None:
    """archive/<doc_id>.pdf of the scans and <doc_id>.eng.txt, their `tesseract -l eng` text
    (written atomically)."""
    pdf = archive / f"{doc_id}.pdf"
    eng = archive / f"{doc_id}.eng.txt"
    chunks = []
    with tempfile.TemporaryDirectory() as tmp:
        for number, image in enumerate(scans, start=1):
            png = Path(tmp) / f"{number}.png"
            image.save(png, dpi=(300, 300))
            env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
            out = subprocess.run(
                ["tesseract", str(png), "stdout", "-l", "eng"], capture_output=True, check=True, env=env
            )
            chunks.append(out.stdout.decode("utf-8"))
    tmp_pdf = pdf.with_suffix(".tmp")
    scans[0].save(tmp_pdf, "PDF", save_all=True, append_images=scans[1:], resolution=300)
    tmp_pdf.replace(pdf)
    tmp_eng = eng.with_suffix(".tmp")
    tmp_eng.write_text("".join(chunks), encoding="utf-8")
    tmp_eng.replace(eng)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--render-only", action="store_true")
    args = parser.parse_args()
    archive = args.data / "archive"
    archive.mkdir(parents=True, exist_ok=True)
    for folder in COLLECTIONS:
        for path in sorted(folder.glob("*.txt")):
            render(path.stem, path.read_text(encoding="utf-8"), archive)
    if args.render_only:
        return
    gazette = ROOT / ".venv" / "bin" / "gazette"
    subprocess.run([str(gazette), "convert", str(archive), "-o", str(args.data / "out"), "--jobs", "1",
                    "-f", "json"], check=False)  # fmt: skip


if __name__ == "__main__":
    main()

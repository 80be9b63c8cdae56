"""Render corpus text the n-gram LM never counted into scanned pages: more training documents for
the word-right and token-right models (scripts/word_right_rows.py) than the tune plans alone.

The lines come from the LM's held-back dev lines (`dev.txt.gz` of scripts/build_restore_ngram.py:
every --dev-every-th corpus line, never counted), so the LM features of these pages are those of
unseen text, as on a real plan. Consecutive lines make documents of about WORDS_PER_DOCUMENT
words, typeset as justified body paragraphs in a font and size chosen per document and degraded
as render_plans.py degrades the plans; with --copies N, each text N times, in the fonts, sizes and
degradations of N document ids (another font reads wrong other words). Per document
DATA/archive/<id>.pdf and <id>.eng.txt (`tesseract -l eng`, as archives did), and the true text
DATA/truth/<id>.txt; then `gazette convert` reads the archive into DATA/out as render_plans.py
does (its manifest converts everything again once gazette's models change). Cached and resumable:

    nohup .venv/bin/python scripts/render_corpus_pages.py > data/corpus-scans.log 2>&1 &
"""

from __future__ import annotations

import argparse
import gzip
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from render_plans import ocr_and_save, style_for  # noqa: E402

from pipeline.synth import Para, degrade, render_pages, scanned  # noqa: E402
from pipeline.vietnamese import normalize  # noqa: E402

DATA = ROOT / "data" / "corpus-scans"
DEV_LINES = ROOT / "data" / "restore" / "ngram-plans" / "dev.txt.gz"
WORDS_PER_DOCUMENT = 800  # about two pages
MIN_WORDS, MAX_WORDS = 8, 300  # titles and run-on table dumps are left out


def documents(dev_lines: Path, limit: int | None, copies: int = 1) -> list[tuple[str, list[str]]]:
    """(id, lines) of consecutive usable dev lines, about WORDS_PER_DOCUMENT words each; each
    text `copies` times (ids corpus-007, corpus-007-1, ...)."""
    with gzip.open(dev_lines, "rt", encoding="utf-8") as handle:
        lines = [normalize(line.strip()) for line in handle]
    lines = [line for line in lines if MIN_WORDS <= len(line.split()) <= MAX_WORDS]
    found: list[tuple[str, list[str]]] = []
    current: list[str] = []
    for line in lines:
        current.append(line)
        if sum(len(x.split()) for x in current) >= WORDS_PER_DOCUMENT:
            found.append((f"corpus-{len(found):03d}", current))
            current = []
    found = found[:limit]
    return found + [(f"{doc_id}-{copy}", lines) for copy in range(1, copies) for doc_id, lines in found]


def render(doc_id: str, lines: list[str], data: Path) -> None:
    truth = data / "truth" / f"{doc_id}.txt"
    if truth.exists():
        return
    pages = render_pages([Para(line, align="justify", indent_pt=18.0) for line in lines], style_for(doc_id))
    # the degradation seed of the id's last three characters, as the shipped fit's pages were made
    # (renderings of one text share it with some others' renderings; their fonts and sizes differ)
    seed = int.from_bytes(doc_id.encode()[-3:], "big")
    ocr_and_save(doc_id, [degrade(page.image, scanned(seed + n)) for n, page in enumerate(pages)], data / "archive")
    truth.parent.mkdir(parents=True, exist_ok=True)
    tmp = truth.with_suffix(".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(truth)  # last: a document with its truth is complete
    print(f"{doc_id}: {len(pages)} pages", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--dev-lines", type=Path, default=DEV_LINES, help="held-back LM lines (dev.txt.gz)")
    parser.add_argument("--limit", type=int, default=None, help="at most this many texts")
    parser.add_argument("--copies", type=int, default=1, help="renderings of each text, each in its own style")
    args = parser.parse_args()
    if not args.dev_lines.is_file():
        raise SystemExit(f"{args.dev_lines}: no held-back LM lines; build them with scripts/build_restore_ngram.py")
    (args.data / "archive").mkdir(parents=True, exist_ok=True)
    for doc_id, lines in documents(args.dev_lines, args.limit, args.copies):
        render(doc_id, lines, args.data)
    gazette = ROOT / ".venv" / "bin" / "gazette"
    subprocess.run([str(gazette), "convert", str(args.data / "archive"), "-o", str(args.data / "out"), "--jobs", "1",
                    "-f", "json"], check=False)  # fmt: skip


if __name__ == "__main__":
    main()

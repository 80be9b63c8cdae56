"""Build (noisy, clean) line pairs for the restorer by real English-model Tesseract OCR.

Corpus paragraphs are rendered into degraded pages (pipeline.synth), read with
`tesseract -l eng` (the model the old archives were OCR'd with), and each OCR line is
aligned back to the ground-truth line it came from. Output: JSONL shards, resumable.

    .venv/bin/python scripts/build_restore_data.py --pages 3000

Re-running the same command resumes: finished shards are skipped and each shard's pages
come from its own seed (--seed, shard number), so keep --seed and --shard-pages unchanged.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import logging
import math
import os
import random
import re
import statistics
import subprocess
import sys
import time
import zlib
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from rapidfuzz import fuzz

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.synth import FONTS, Degradation, PageStyle, Para, degrade, render_pages  # noqa: E402
from pipeline.vietnamese import normalize, strip_diacritics  # noqa: E402

log = logging.getLogger("build_restore_data")

# Page-level domain mix: the targets are provincial plans, so legal + admin dominate.
DOMAIN_WEIGHTS = {"legal": 0.60, "admin": 0.10, "news": 0.25, "wiki": 0.05}
# Fraction of corpus blocks kept in the in-memory pool (admin is tiny, keep it all).
DOMAIN_KEEP = {"legal": 0.12, "admin": 1.0, "news": 0.15, "wiki": 0.05}
BLOCK_LINES = 6  # consecutive corpus lines kept together, so pages read like documents
MIN_CHARS, MAX_CHARS = 15, 700
MIN_SIMILARITY = 70.0  # folded-text ratio below which an OCR line is not trusted as a pair
TESSERACT_TIMEOUT_S = 180
# Characters every FONTS entry can draw: ASCII, Vietnamese letters, common typography.
_EXTRA_CHARS = set("–—“”‘’…°•·×±≤≥€§²³½¼")
_VIET = set("àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ")
_MARKER = re.compile(r"^(\w{1,4}[.)]|-)\s")  # "1. ", "a) ", "II. ", "- " list markers
_FORMULAIC = re.compile(r"^(Điều \d+(\.\d+)*\.[A-ZĐ]|\(Điều \d+ .*hiệu lực)")
_ALLOWED = {chr(c) for c in range(32, 127)} | _EXTRA_CHARS | _VIET | {c.upper() for c in _VIET}


@dataclass(frozen=True)
class OcrWord:
    text: str
    left: int
    top: int
    width: int
    height: int
    key: tuple[int, int, int]  # (block, paragraph, line) as numbered by Tesseract


@dataclass(frozen=True)
class PageJob:
    domain: str
    paragraphs: list[Para]
    style: PageStyle
    how: Degradation


# --------------------------------------------------------------------------- corpus pool


def eligible(line: str) -> bool:
    """Long enough to be real text, short enough to render, drawable by all fonts."""
    if not (MIN_CHARS <= len(line) <= MAX_CHARS and set(line) <= _ALLOWED):
        return False
    # Pháp điển article ids and citation notes repeat by the thousand: keep one in five.
    return not _FORMULAIC.match(line) or zlib.crc32(line.encode()) % 5 == 0


def load_pool(corpora: Path, seed: int) -> dict[str, list[list[str]]]:
    """Deterministic sample of blocks of consecutive training lines, per domain (no heldout/)."""
    pool: dict[str, list[list[str]]] = {d: [] for d in DOMAIN_WEIGHTS}
    for path in sorted(corpora.glob("*.txt.gz")):  # the glob does not descend into heldout/
        domain = path.name.split("-")[0]
        if domain not in pool:
            continue
        threshold = DOMAIN_KEEP[domain] * 10_000
        block: list[str] = []
        block_id = -1
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for number, line in enumerate(handle):
                if number // BLOCK_LINES != block_id:
                    if block:
                        pool[domain].append(block)
                    block_id, block = number // BLOCK_LINES, []
                    keep = zlib.crc32(f"{seed}:{path.name}:{block_id}".encode()) % 10_000 < threshold
                line = line.strip()
                if keep and eligible(line):
                    block.append(normalize(line))
        if block:
            pool[domain].append(block)
    return {d: blocks for d, blocks in pool.items() if blocks}


# --------------------------------------------------------------------------- page jobs


def heading(text: str, rnd: random.Random) -> Para:
    """A heading made of the first words of a corpus line: mostly ALL CAPS, some bold."""
    words = re.sub(r"[.,;:]+$", "", " ".join(text.split()[: rnd.randint(2, 8)]))
    if rnd.random() < 0.25:  # "1. Mục đích, yêu cầu" style: bold, sentence case
        return Para(words, bold=True)
    if rnd.random() < 0.4:
        if not _MARKER.match(words):
            words = f"{rnd.choice(['I', 'II', 'III', 'IV', 'V', 'A', 'B'])}. {words}"
        return Para(words.upper(), align="left", bold=True)
    return Para(words.upper(), align="center", bold=rnd.random() < 0.8)


def sample_paragraphs(blocks: list[list[str]], rnd: random.Random, chars: int) -> list[Para]:
    """Paragraphs from random blocks until about `chars` characters, with some headings."""
    paragraphs: list[Para] = []
    total = 0
    while total < chars:
        for line in rnd.choice(blocks):
            if rnd.random() < 0.10:
                paragraphs.append(heading(line, rnd))
            else:
                paragraphs.append(Para(line, indent_pt=rnd.choice([0.0, 0.0, 0.0, 18.0])))
            total += len(paragraphs[-1].text)
    return paragraphs


def sample_job(rnd: random.Random, pool: dict[str, list[list[str]]]) -> PageJob:
    """Random domain, font, size, DPI, layout and degradation for one page."""
    domains = list(pool)
    domain = rnd.choices(domains, weights=[DOMAIN_WEIGHTS[d] for d in domains])[0]
    style = PageStyle(
        font=rnd.choice(sorted(FONTS)),
        size_pt=rnd.choice([11.0, 12.0, 12.0, 13.0, 13.0, 14.0]),
        dpi=rnd.choice([200, 240, 250, 300, 300]),
        margin_in=rnd.uniform(0.7, 1.1),
        line_spacing=rnd.uniform(1.2, 1.6),
        paragraph_gap=rnd.uniform(0.0, 0.5),
    )
    binarize = rnd.random() < 0.25
    how = Degradation(
        skew_deg=rnd.uniform(-1.5, 1.5) if rnd.random() < 0.8 else 0.0,
        blur=rnd.uniform(0.0, 1.1),
        noise=0.0 if binarize else rnd.uniform(0.0, 14.0),
        specks=rnd.randint(0, 200),
        jpeg_quality=rnd.randint(35, 90) if rnd.random() < 0.6 else None,
        binarize=binarize,
        seed=rnd.randrange(2**31),
    )
    # Roughly one page of text: lines per page x characters per line, plus slack.
    lines = (style.page_in[1] - 2 * style.margin_in) * 72 / (style.size_pt * style.line_spacing)
    per_line = (style.page_in[0] - 2 * style.margin_in) * 72 / (style.size_pt * 0.5)
    return PageJob(
        domain,
        sample_paragraphs(pool[domain], rnd, int(lines * per_line * 1.1)),
        style,
        how,
    )


# --------------------------------------------------------------------------- OCR + alignment


def run_tesseract(image: Image.Image, dpi: int) -> str:
    """TSV output of `tesseract -l eng` on a greyscale image, single-threaded."""
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    result = subprocess.run(
        ["tesseract", "stdin", "stdout", "-l", "eng", "--dpi", str(dpi), "tsv"],
        input=buffer.getvalue(),
        capture_output=True,
        env=env,
        timeout=TESSERACT_TIMEOUT_S,
        check=True,
    )
    return result.stdout.decode("utf-8", errors="replace")


def parse_tsv(tsv: str) -> list[OcrWord]:
    """Non-empty words (level 5) of Tesseract TSV output."""
    words: list[OcrWord] = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5" or not cols[11].strip():
            continue
        block, par, line, _, left, top, width, height = (int(v) for v in cols[2:10])
        words.append(OcrWord(cols[11].strip(), left, top, width, height, (block, par, line)))
    return words


def group_lines(words: list[OcrWord]) -> list[list[OcrWord]]:
    """Words grouped into Tesseract's own lines, in reading order."""
    lines: dict[tuple[int, int, int], list[OcrWord]] = {}
    for word in words:
        lines.setdefault(word.key, []).append(word)
    return list(lines.values())


def unrotate(x: float, y: float, skew_deg: float, size: tuple[int, int]) -> tuple[float, float]:
    """Undo synth.degrade's rotation (counter-clockwise about the centre) for one point."""
    theta = math.radians(skew_deg)
    cx, cy = size[0] / 2, size[1] / 2
    dx, dy = x - cx, y - cy
    return cx + dx * math.cos(theta) - dy * math.sin(theta), cy + dx * math.sin(theta) + dy * math.cos(theta)


def _line_span(line: list[OcrWord], skew_deg: float, size: tuple[int, int]) -> tuple[float, float, list[float]]:
    """Vertical span of an OCR line in unrotated page coordinates, plus each word's x."""
    centres = [unrotate(w.left + w.width / 2, w.top + w.height / 2, skew_deg, size) for w in line]
    # Median centre and height: a speck read as a word must not stretch the line.
    mid = statistics.median(y for _, y in centres)
    half = statistics.median(w.height for w in line) / 2
    return mid - half, mid + half, [x for x, _ in centres]


def align_lines(
    words: list[OcrWord],
    boxes: list[tuple[int, int, int, int]],
    skew_deg: float,
    size: tuple[int, int],
) -> dict[int, str]:
    """OCR text per ground-truth line index, matched by vertical overlap with the line boxes.

    OCR lines landing on the same ground-truth line (a line Tesseract split in two) are
    joined left to right; lines overlapping no box (specks, noise) are dropped.
    """
    placed: dict[int, list[tuple[float, str]]] = {}
    for line in group_lines(words):
        top, bottom, xs = _line_span(line, skew_deg, size)
        overlaps = [min(bottom, b[3]) - max(top, b[1]) for b in boxes]
        best = max(range(len(boxes)), key=overlaps.__getitem__, default=-1)
        if best < 0 or overlaps[best] < 0.3 * (bottom - top):
            continue
        placed.setdefault(best, []).extend(zip(xs, (w.text for w in line), strict=True))
    return {i: " ".join(text for _, text in sorted(items)) for i, items in placed.items()}


def similarity(noisy: str, clean: str) -> float:
    """0..100 character similarity of the diacritic-stripped, lower-cased texts."""
    return fuzz.ratio(strip_diacritics(noisy).lower(), strip_diacritics(clean).lower())


# --------------------------------------------------------------------------- shards


def page_records(job: PageJob, page_id: str) -> tuple[list[dict], int]:
    """Render, degrade, OCR one page and return its verified line pairs."""
    page = render_pages(job.paragraphs, job.style)[0]  # overflow pages are discarded
    image = degrade(page.image, job.how)
    words = parse_tsv(run_tesseract(image, job.style.dpi))
    records = []
    for index, noisy in sorted(align_lines(words, page.boxes, job.how.skew_deg, image.size).items()):
        clean = normalize(page.lines[index])
        noisy = normalize(noisy)
        score = similarity(noisy, clean)
        if score < MIN_SIMILARITY:
            continue
        records.append(
            {
                "noisy": noisy,
                "clean": clean,
                "font": job.style.font,
                "dpi": job.style.dpi,
                "source": job.domain,
                "size_pt": job.style.size_pt,
                "binarized": job.how.binarize,
                "sim": round(score, 1),
                "page": page_id,
            }
        )
    return records, len(page.lines)


def write_atomic(path: Path, records: list[dict]) -> None:
    """Write JSONL via temp file + fsync + rename, so a shard is either whole or absent."""
    tmp = path.with_suffix(".jsonl.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        handle.writelines(json.dumps(record, ensure_ascii=False) + "\n" for record in records)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def build_shard(shard: int, args: argparse.Namespace, pool: dict[str, list[list[str]]]) -> tuple[int, int, int]:
    """OCR the pages of one shard (seeded by --seed and the shard number); return counts."""
    rnd = random.Random(f"{args.seed}:{shard}")
    records: list[dict] = []
    truth_lines = pages = 0
    first = shard * args.shard_pages
    for number in range(first, min(first + args.shard_pages, args.pages)):
        job = sample_job(rnd, pool)
        try:
            page, n_truth = page_records(job, f"{shard:05d}-{number:06d}")
        except (subprocess.SubprocessError, OSError) as error:
            log.warning("page %d failed: %s", number, error)
            continue
        records.extend(page)
        truth_lines += n_truth
        pages += 1
    write_atomic(args.out / f"shard-{shard:05d}.jsonl", records)
    return pages, truth_lines, len(records)


def setup_logging(log_file: Path) -> None:
    """Progress to stderr and appended to a log file that survives restarts."""
    handlers = [
        logging.StreamHandler(),
        logging.FileHandler(log_file, encoding="utf-8"),
    ]
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", handlers=handlers)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=REPO.parent / "shared" / "corpora")
    parser.add_argument("--out", type=Path, default=REPO / "data" / "restore" / "ocr")
    parser.add_argument("--pages", type=int, default=3000, help="target total pages")
    parser.add_argument("--shard-pages", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log", type=Path, default=None, help="default: <out>/progress.log")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    setup_logging(args.log or args.out / "progress.log")
    for stale in args.out.glob("*.jsonl.tmp"):  # left by a killed run; that shard is redone
        stale.unlink()
    shards = [
        s for s in range(math.ceil(args.pages / args.shard_pages)) if not (args.out / f"shard-{s:05d}.jsonl").exists()
    ]
    log.info(
        "%d shards to build (%d pages each) into %s",
        len(shards),
        args.shard_pages,
        args.out,
    )
    if not shards:
        return
    pool = load_pool(args.corpora, args.seed)
    log.info("pool: %s", {d: sum(map(len, b)) for d, b in pool.items()})
    start, done_pages, done_lines, done_truth = time.monotonic(), 0, 0, 0
    for shard in shards:
        pages, truth, kept = build_shard(shard, args, pool)
        done_pages, done_truth, done_lines = (
            done_pages + pages,
            done_truth + truth,
            done_lines + kept,
        )
        rate = done_pages / (time.monotonic() - start)
        log.info(
            "shard %05d: %d pages, %d/%d lines kept | run total %d pages, %d lines (%.1f/page, %.0f%%), %.2f pages/s",
            shard,
            pages,
            kept,
            truth,
            done_pages,
            done_lines,
            done_lines / max(done_pages, 1),
            100 * done_lines / max(done_truth, 1),
            rate,
        )
    log.info("done")


if __name__ == "__main__":
    main()

"""Batch benchmark: throughput of `gazette convert` with --jobs 1, --jobs 2 and --dask local
(2 workers) on one generated archive, against bare `tesseract -l vie` on the same pages;
peak memory per worker; and what resuming a finished archive costs.

The archive (cached in data/bench/batch/) is the project's own plan text rendered into
scanned-looking 3-page PDFs and single-page PNGs (fonts and scanner noise varied), plus text
files (UTF-8, the legacy encodings, English-model OCR text). A second archive of 1,000 small
text files measures the resume check alone.

    .venv/bin/python scripts/bench_batch.py            # ≥ 40 pages; writes benchmarks/batch.md
    .venv/bin/python scripts/bench_batch.py --quick    # a correctness run: 7 pages, 200 small files
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.batch import BatchOptions, FileResult, convert_many  # noqa: E402
from pipeline.ocr import probe  # noqa: E402
from pipeline.options import Options  # noqa: E402
from pipeline.synth import FONTS, PageStyle, degrade, plan_paragraphs, render_pages, scanned  # noqa: E402
from pipeline.textenc import encode_text  # noqa: E402

SOURCE = ROOT / "samples" / "source" / "ke-hoach-mau.txt"
ENGLISH_OCR = ROOT / "samples" / "archive" / "text" / "ke-hoach-2316-ocr-eng.txt"
CACHE = ROOT / "data" / "bench" / "batch"
TARGETS = {"jobs2_speedup": 1.8, "dask_vs_pool": 0.9, "rss_mb": 1536.0, "resume_seconds": 5.0}


@dataclass(frozen=True)
class Size:
    pdfs: int
    pngs: int
    texts: int
    small_files: int


FULL = Size(pdfs=8, pngs=12, texts=8, small_files=1000)
QUICK = Size(pdfs=1, pngs=2, texts=2, small_files=200)


def build_archive(folder: Path, size: Size) -> list[Path]:
    """The mixed archive and the PNG of every page that needs OCR (for bare tesseract); kept
    between runs (a COMPLETE stamp is written last, so a killed build starts over)."""
    pages_dir = folder / "ocr-pages"
    if not (folder / "COMPLETE").exists():
        shutil.rmtree(folder, ignore_errors=True)
        (folder / "archive" / "scans").mkdir(parents=True)
        (folder / "archive" / "images").mkdir()
        (folder / "archive" / "text").mkdir()
        pages_dir.mkdir()
        text = SOURCE.read_text(encoding="utf-8")
        fonts = list(FONTS)
        for n in range(size.pdfs):
            style = PageStyle(font=fonts[n % len(fonts)], size_pt=12 + n % 3, dpi=300)
            rendered = render_pages(plan_paragraphs(text), style)
            scans = [degrade(page.image, scanned(100 * n + i)) for i, page in enumerate(rendered)]
            pdf = folder / "archive" / "scans" / f"plan-{n:02d}.pdf"
            scans[0].save(pdf, save_all=True, append_images=scans[1:], resolution=300)
            for i, image in enumerate(scans, start=1):
                image.save(pages_dir / f"plan-{n:02d}-p{i}.png", dpi=(300, 300))
        for n in range(size.pngs):
            style = PageStyle(font=fonts[(n + 2) % len(fonts)], size_pt=13, dpi=300)
            pages = render_pages(plan_paragraphs(text), style)
            image = degrade(pages[n % len(pages)].image, scanned(1000 + n))
            image.save(folder / "archive" / "images" / f"page-{n:02d}.png", dpi=(300, 300))
            image.save(pages_dir / f"page-{n:02d}.png", dpi=(300, 300))
        encodings = ["utf-8", "english-ocr", "cp1258", "vni", "tcvn3"]
        for n in range(size.texts):
            kind = encodings[n % len(encodings)]
            data = ENGLISH_OCR.read_bytes() if kind == "english-ocr" else encode_text(text, kind)
            (folder / "archive" / "text" / f"plan-{n:02d}-{kind}.txt").write_bytes(data)
        (folder / "COMPLETE").touch()
    return sorted(pages_dir.glob("*.png"))


def build_small_files(folder: Path, count: int) -> Path:
    archive = folder / f"small-{count}"
    if not (archive / "COMPLETE").exists():
        shutil.rmtree(archive, ignore_errors=True)
        for n in range(count):
            path = archive / f"{n // 100:02d}" / f"van-ban-{n:04d}.txt"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(f"Đơn vị chủ trì: Sở Nội vụ. Văn bản số {n}/KH-UBND.\n", encoding="utf-8")
        (archive / "COMPLETE").touch()
    return archive


def bare_tesseract(pages: list[Path]) -> float:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    started = time.perf_counter()
    for png in pages:
        subprocess.run(["tesseract", str(png), "stdout", "-l", "vie"], capture_output=True, check=True, env=env)
    return time.perf_counter() - started


@dataclass
class Run:
    name: str
    seconds: float = 0.0
    pages: int = 0
    ocr_pages: int = 0
    files: int = 0
    failed: int = 0
    ocr_seconds: float = 0.0  # inside the workers, files that needed OCR
    rss: dict[str, tuple[float, float]] = field(default_factory=dict)  # worker → (own, largest child) MB

    @property
    def pages_per_minute(self) -> float:
        return 60 * self.pages / self.seconds


def timed_run(name: str, archive: Path, out: Path, batch: BatchOptions) -> Run:
    shutil.rmtree(out, ignore_errors=True)
    run = Run(name)

    def collect(result: FileResult) -> None:
        run.files += 1
        run.failed += not result.ok
        run.pages += result.pages
        if result.item.path.suffix in (".pdf", ".png"):
            run.ocr_pages += result.pages
            run.ocr_seconds += result.seconds
        own, child = run.rss.get(result.worker, (0.0, 0.0))
        run.rss[result.worker] = (max(own, result.peak_rss_mb), max(child, result.child_peak_rss_mb))

    started = time.perf_counter()
    convert_many([archive], out, Options(formats=("json", "txt", "jsonl")), batch, on_result=collect)
    run.seconds = time.perf_counter() - started
    print(f"{name}: {run.pages} pages in {run.seconds:.1f} s", file=sys.stderr)
    return run


def _without_timings(path: Path) -> list[object]:
    documents = []
    for line in path.read_text(encoding="utf-8").splitlines():
        document = json.loads(line)
        document["provenance"].pop("timings")
        documents.append(document)
    return documents


def resume_seconds(archive: Path, out: Path) -> tuple[float, float, int]:
    """(API seconds, CLI seconds including interpreter start, files skipped) on a finished archive."""
    started = time.perf_counter()
    summary = convert_many([archive], out, Options(), BatchOptions(jobs=2, progress="none"))
    api = time.perf_counter() - started
    assert summary.converted == 0, "the archive should be finished"
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "pipeline.cli", "convert", str(archive), "-o", str(out), "--jobs", "2"],
        check=True, capture_output=True,
    )  # fmt: skip
    return api, time.perf_counter() - started, summary.skipped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a small archive: checks the benchmark runs")
    parser.add_argument("--out", type=Path, help="report file (default: benchmarks/batch.md; --quick: printed only)")
    args = parser.parse_args()
    size = QUICK if args.quick else FULL
    work = CACHE / ("quick" if args.quick else "full")
    load = os.getloadavg()[0]
    pages = build_archive(work, size)
    archive = work / "archive"
    bare = bare_tesseract(pages)
    print(f"bare tesseract: {len(pages)} pages in {bare:.1f} s", file=sys.stderr)
    runs = [
        timed_run("--jobs 1", archive, work / "out-jobs1", BatchOptions(jobs=1, progress="none")),
        timed_run("--jobs 2", archive, work / "out-jobs2", BatchOptions(jobs=2, progress="none")),
        timed_run(
            "--dask local (2 workers)", archive, work / "out-dask", BatchOptions(jobs=2, dask="local", progress="none")
        ),
    ]
    same = _without_timings(work / "out-jobs2" / "documents.jsonl") == _without_timings(
        work / "out-dask" / "documents.jsonl"
    )
    resume = resume_seconds(archive, work / "out-jobs2")
    small = build_small_files(CACHE, size.small_files)
    small_out = work / f"out-small-{size.small_files}"
    shutil.rmtree(small_out, ignore_errors=True)
    started = time.perf_counter()
    convert_many([small], small_out, Options(), BatchOptions(jobs=2, progress="none"))
    small_first = time.perf_counter() - started
    small_resume = resume_seconds(small, small_out)
    report = render(args.quick, load, len(pages), bare, runs, same, resume, small_first, small_resume)
    print(report)
    out = args.out or (None if args.quick else ROOT / "benchmarks" / "batch.md")
    if out:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(report, encoding="utf-8")


def render(
    quick: bool,
    load: float,
    ocr_pages: int,
    bare: float,
    runs: list[Run],
    same: bool,
    resume: tuple[float, float, int],
    small_first: float,
    small_resume: tuple[float, float, int],
) -> str:
    one, two, dask = runs
    bare_page = bare / ocr_pages
    speedup = two.pages_per_minute / one.pages_per_minute
    dask_ratio = dask.pages_per_minute / two.pages_per_minute
    peak = max(own + child for run in runs for own, child in run.rss.values())
    command = "scripts/bench_batch.py" + (" --quick" if quick else "")
    lines = [
        "# Batch benchmark" + (" (quick run: too small for the targets)" if quick else ""),
        "",
        f"Command: `.venv/bin/python {command}` — {time.strftime('%Y-%m-%d')}, tesseract {probe('vie')}, "
        f"{platform.machine()}, {os.cpu_count()} cores, load average {load:.1f} at the start. Every run converts "
        "into a fresh output folder with the default options (restore on) and `-f json,txt,jsonl`; times are "
        "wall-clock seconds of the whole `convert_many` call, worker start-up and model loading included.",
        "",
        f"Archive: {one.files} files, {one.pages} pages ({ocr_pages} scanned pages in PDFs and PNGs, the rest "
        "text files in UTF-8, Windows-1258, VNI, TCVN3 and English-model OCR).",
        "",
        "| run | seconds | pages/min | OCR'd page, in-worker s | ÷ bare tesseract page | peak RSS per worker (MB) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| bare `tesseract -l vie`, one process | {bare:.1f} | {60 * ocr_pages / bare:.1f} | {bare_page:.2f} "
        "| 1.00 | |",
    ]
    for run in runs:
        per_page = run.ocr_seconds / max(run.ocr_pages, 1)
        rss = max((own + child for own, child in run.rss.values()), default=0.0)
        lines.append(
            f"| {run.name} | {run.seconds:.1f} | {run.pages_per_minute:.1f} | {per_page:.2f} | "
            f"{per_page / bare_page:.2f} | {rss:.0f} |"
        )
    api, cli, skipped = resume
    small_api, small_cli, small_skipped = small_resume
    checks = [
        ("`--jobs 2` pages/min ÷ `--jobs 1`", f"{speedup:.2f}", "≥ 1.8", speedup >= TARGETS["jobs2_speedup"]),
        ("`--dask local` pages/min ÷ `--jobs 2`", f"{dask_ratio:.2f}", "≥ 0.90", dask_ratio >= TARGETS["dask_vs_pool"]),
        ("peak RSS per worker (Python + its largest child)", f"{peak:.0f} MB", "≤ 1536 MB", peak <= TARGETS["rss_mb"]),
        (
            f"resume check, {small_skipped} finished files (API)",
            f"{small_api:.2f} s",
            "< 5 s",
            small_api < TARGETS["resume_seconds"],
        ),
        ("Dask outputs = pool outputs (timings aside)", "yes" if same else "NO", "yes", same),
    ]
    lines += [
        "",
        "| measure | value | target | met |",
        "|---|---:|---:|:---:|",
        *[f"| {name} | {value} | {target} | {'yes' if ok else 'NO'} |" for name, value, target, ok in checks],
        "",
        f"Resume on the finished benchmark archive ({skipped} files): {api:.2f} s through the API, {cli:.2f} s "
        f"as `gazette convert` (Python start-up included). The {small_skipped}-file archive of one-line text "
        f"files: first conversion {small_first:.1f} s, resume {small_api:.2f} s (API), {small_cli:.2f} s (CLI).",
        "",
        "*OCR'd page, in-worker s* is the time inside the worker for the scanned files divided by their pages "
        "(ingest, clean-up, OCR, restore of low-confidence words, segmentation, writing), against bare "
        "tesseract on the same page images in the same run. Peak RSS is `ru_maxrss` of each worker process "
        "plus that of the largest child it ran (tesseract, pdftoppm), the most the two can hold at once.",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()

"""Where `convert()`'s time goes, stage by stage, on held-out plan PDFs, against bare tesseract.

Each stage function is wrapped with a wall-clock timer (no cProfile, whose overhead would
inflate the Python stages against the tesseract process); bare `tesseract -l vie` runs on the
PDF's stored page images right after each document, so both see the same machine load.
Nested rows (`preprocess: rotate` inside `preprocess (all)`) are parts, not additions.

    .venv/bin/python scripts/profile_convert_stages.py [--threads 1] [--root CHECKOUT] ID...

`--root`: another checkout (an older commit, for a before/after) whose `pipeline` is timed
on this checkout's data.
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
STAGES = [  # (module, function, label)
    ("pipeline.ingest", "rasterize_pdf_page", "ingest: page image from the PDF"),
    ("pipeline.api", "prepare", "preprocess (all)"),
    ("pipeline.preprocess", "measure_skew", "preprocess: measure skew"),
    ("pipeline.preprocess", "rotate", "preprocess: rotate"),
    ("pipeline.preprocess", "needs_binarisation", "preprocess: needs binarisation"),
    ("pipeline.ocr", "_has_ink", "ocr: blank-page check"),
    ("pipeline.ocr", "run_tesseract", "ocr: tesseract call (encode, run, read)"),
    ("pipeline.ocr", "parse_tsv", "ocr: parse TSV"),
    ("pipeline.api", "_restore_pages", "restore (all)"),
    ("pipeline.restore.api", "correct_page", "restore: vie correction"),
    ("pipeline.restore.api", "restore_page_features", "restore: restore + word features"),
    ("pipeline.restore.api", "score_page", "restore: token-right scores"),
    ("pipeline.api", "resegment", "segmentation"),
]


def cpu(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ids", nargs="+", help="plan ids: data/plan-scans/archive/ID.pdf")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose pipeline is timed")
    parser.add_argument("--threads", default="1", help="ONNX Runtime threads of the restorer ('none': one per core)")
    args = parser.parse_args()
    sys.path.insert(0, str(args.root))
    import importlib

    from pipeline.options import Options
    from pipeline.restore.api import get_restorer, set_restore_threads, vie_corrector

    seconds: dict[str, float] = {}

    def timer(function: Callable, label: str) -> Callable:
        @functools.wraps(function)
        def timed(*a: object, **k: object) -> object:
            started = time.perf_counter()
            try:
                return function(*a, **k)
            finally:
                seconds[label] = seconds.get(label, 0.0) + time.perf_counter() - started

        return timed

    for module_name, name, label in STAGES:
        module = importlib.import_module(module_name)
        if hasattr(module, name):
            setattr(module, name, timer(getattr(module, name), label))
    api = importlib.import_module("pipeline.api")
    set_restore_threads(None if args.threads == "none" else int(args.threads))
    vie_corrector(get_restorer())  # loaded before, as in a batch worker
    archive = ROOT / "data" / "plan-scans" / "archive"
    api.convert(archive / f"{args.ids[0]}.pdf", Options())  # warm caches
    seconds.clear()
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    pages, wall, own, children, bare_wall, bare_cpu = 0, 0.0, 0.0, 0.0, 0.0, 0.0
    for doc in args.ids:
        pdf = archive / f"{doc}.pdf"
        started, own0, child0 = time.perf_counter(), cpu(resource.RUSAGE_SELF), cpu(resource.RUSAGE_CHILDREN)
        pages += len(api.convert(pdf, Options()).pages)
        wall += time.perf_counter() - started
        own += cpu(resource.RUSAGE_SELF) - own0
        children += cpu(resource.RUSAGE_CHILDREN) - child0
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["pdfimages", "-all", str(pdf), f"{tmp}/p"], check=True)
            for image in sorted(Path(tmp).glob("p-*")):
                started, child0 = time.perf_counter(), cpu(resource.RUSAGE_CHILDREN)
                argv = ["tesseract", str(image), "stdout", "-l", "vie", "--dpi", "300"]
                subprocess.run(argv, capture_output=True, check=True, env=env)
                bare_wall += time.perf_counter() - started
                bare_cpu += cpu(resource.RUSAGE_CHILDREN) - child0
    print(f"{args.root} (restore threads: {args.threads}), {pages} pages")
    print(f"wall s/page: convert {wall / pages:.3f}, bare {bare_wall / pages:.3f}, ratio {wall / bare_wall:.2f}")
    print(
        f"CPU s/page: convert {(own + children) / pages:.3f} (own {own / pages:.3f}, tesseract {children / pages:.3f}),"
        f" bare {bare_cpu / pages:.3f}, ratio {(own + children) / bare_cpu:.2f}"
    )
    for _, _, label in STAGES:
        if label in seconds:
            print(f"  {label:44s} {seconds[label] / pages:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""The one wrapper around the tesseract binary: probe, run, parse TSV into Lines and Tokens.

We call the binary ourselves (as OCRmyPDF does) rather than through pytesseract so that we
control the environment (OMP_THREAD_LIMIT=1: one thread per worker, parallelism comes from
the batch pool), the timeout (the process is killed, the page is flagged, the file goes on)
and how stderr is sorted into harmless notes and real errors.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from pipeline.document import Box, Line, Token
from pipeline.errors import MissingDependencyError, OcrError
from pipeline.layout import column_order
from pipeline.programs import run_program
from pipeline.vietnamese import normalize

__all__ = ["OcrTimeoutError", "TesseractResult", "ocr_array", "parse_tsv", "probe", "run_tesseract"]

log = logging.getLogger(__name__)

# stderr lines tesseract prints on success that tell the user nothing actionable.
_HARMLESS = (
    "Estimating resolution",
    "Warning: Invalid resolution",
    "Detected ",
    "Empty page",
    "Too few characters",
    "Image too small to scale",
    "Line cannot be recognized",
    "Failed to load any lstm-specific dictionaries",
)


class OcrTimeoutError(OcrError):
    code = "E202"
    advice = "The page was skipped and flagged; raise --ocr-timeout if the page is genuinely huge."


@dataclass(frozen=True)
class TesseractResult:
    lines: list[Line]
    psm: int
    warnings: list[str]


@lru_cache(maxsize=8)
def probe(language: str = "vie") -> str:
    """Version of the installed tesseract; MissingDependencyError if it or a language is absent."""
    binary = shutil.which("tesseract")
    if binary is None:
        raise MissingDependencyError("the tesseract program is not installed")
    try:
        version = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30)
        langs = subprocess.run([binary, "--list-langs"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MissingDependencyError(f"tesseract does not run ({exc})") from exc
    installed = {line.strip() for line in langs.stdout.splitlines()[1:]}
    missing = [lang for lang in language.split("+") if lang not in installed]
    if missing:
        packages = " ".join(f"tesseract-ocr-{lang}" for lang in missing)
        raise MissingDependencyError(
            f"tesseract language data {'+'.join(missing)} is not installed",
            advice=f"Install it: apt-get install {packages}",
        )
    first = (version.stdout or version.stderr).splitlines()[0]
    return first.replace("tesseract", "").strip()


def run_tesseract(
    image: np.ndarray, *, language: str, psm: int = 3, dpi: int | None = 300, timeout: float = 180.0
) -> tuple[str, list[str]]:
    """Run tesseract on a greyscale image and return (TSV text, warnings from stderr)."""
    # An uncompressed TIFF in a file, as OCRmyPDF hands tesseract its pages: it is written in a
    # few milliseconds (PNG's deflate took some 0.2 s a page). Not stdin: tesseract copies stdin
    # through std::cin one character at a time and the pipe is fed 4 KiB per poll, which cost
    # 0.15-0.3 s a page (CPU and wall) on held-out plan pages against the same pixels in a file.
    ok, encoded = cv2.imencode(".tif", image, [cv2.IMWRITE_TIFF_COMPRESSION, 1])
    if not ok:
        raise OcrError("could not encode the page image for tesseract")
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    with tempfile.TemporaryDirectory(prefix="gazette-ocr-") as work:
        page = Path(work) / "page.tif"
        page.write_bytes(encoded.tobytes())
        argv = ["tesseract", str(page), "stdout", "-l", language, "--psm", str(psm)]
        if dpi:
            argv += ["--dpi", str(dpi)]
        argv.append("tsv")
        try:
            proc = run_program(argv, timeout=timeout, env=env)
        except subprocess.TimeoutExpired as exc:
            raise OcrTimeoutError(f"tesseract took longer than {timeout:g} s on this page") from exc
    stderr = proc.stderr.decode("utf-8", "replace").splitlines()
    notes = [line for line in stderr if line.strip() and not line.startswith(_HARMLESS)]
    if proc.returncode != 0:
        detail = "; ".join(notes[-3:]) or f"exit code {proc.returncode}"
        raise OcrError(f"tesseract failed: {detail}")
    tsv = proc.stdout.decode("utf-8", "replace")
    if not tsv.startswith("level"):
        raise OcrError("tesseract produced no TSV output")
    return tsv, notes


def parse_tsv(tsv: str) -> list[Line]:
    """TSV rows of level 5 (words) grouped by (block, paragraph, line), in reading order, with
    two columns tesseract read as one set of lines read column by column (layout.column_order)."""
    groups: dict[tuple[int, int, int], list[Token]] = {}
    for row in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE):
        if row.get("level") != "5":
            continue
        text = normalize((row.get("text") or "").strip())
        if not text:
            continue
        left, top = int(row["left"]), int(row["top"])
        box = Box(x0=left, y0=top, x1=left + int(row["width"]), y1=top + int(row["height"]))
        confidence = max(0.0, min(1.0, float(row["conf"]) / 100.0))
        key = (int(row["block_num"]), int(row["par_num"]), int(row["line_num"]))
        groups.setdefault(key, []).append(Token(text=text, source_text=text, box=box, ocr_confidence=confidence))
    return column_order(
        [Line(box=Box.union([t.box for t in tokens if t.box]), tokens=tokens) for tokens in groups.values()]
    )


def _has_ink(image: np.ndarray) -> bool:
    """Whether the page holds text-sized marks at all (not just specks); on a half-size copy,
    which is plenty to see letters and four times cheaper."""
    small = cv2.resize(image, None, fx=0.5, fy=0.5, interpolation=cv2.INTER_AREA)
    # A fixed threshold: Otsu on a blank page splits the paper's own grain into "ink".
    _, ink = cv2.threshold(small, 127, 255, cv2.THRESH_BINARY_INV)  # 255 where below 128
    # A band across the middle first: a mark clear of its top and bottom rows is whole there, so
    # five text-sized ones prove the page has ink. Labelling the whole page (most of the cost)
    # is left for pages whose middle is blank.
    h = ink.shape[0]
    band = ink[h * 3 // 8 : h * 5 // 8]
    return _text_marks(band, inner=True) >= 5 or (len(band) < h and _text_marks(ink, inner=False) >= 5)


def _text_marks(ink: np.ndarray, inner: bool) -> int:
    """Marks 6 to 100 pixels high; `inner`: only those clear of the first and last rows."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    top, heights = stats[1:, cv2.CC_STAT_TOP], stats[1:, cv2.CC_STAT_HEIGHT]
    sized = (heights >= 6) & (heights <= 100)
    if inner:
        sized &= (top > 0) & (top + heights < len(ink))
    return int(np.sum(sized))


def ocr_array(image: np.ndarray, *, language: str, dpi: int | None, timeout: float) -> TesseractResult:
    """Automatic page segmentation (psm 3); if it finds nothing on a page that has ink, sparse
    text (psm 11) keeping only confident words, so a near-empty noisy page is neither dropped
    (what psm 3 alone does) nor filled with junk (what psm 6 does)."""
    if not _has_ink(image):
        # A blank sheet (the back of a page): tesseract would spend seconds reading paper grain.
        return TesseractResult([], 0, ["blank page: no text-sized marks"])
    tsv, notes = run_tesseract(image, language=language, psm=3, dpi=dpi, timeout=timeout)
    lines = parse_tsv(tsv)
    if lines:
        return TesseractResult(lines, 3, notes)
    tsv, more = run_tesseract(image, language=language, psm=11, dpi=dpi, timeout=timeout)
    kept = []
    for line in parse_tsv(tsv):
        tokens = [t for t in line.tokens if (t.ocr_confidence or 0) >= 0.6]
        if tokens:
            kept.append(Line(box=Box.union([t.box for t in tokens if t.box]), tokens=tokens))
    return TesseractResult(kept, 11, notes + more + ["sparse-text fallback (psm 11)"])

"""Converted output folders to review: a scanned page OCR'd by the real tesseract, and a text file.

Conversion runs once per session into a template folder, the way `gazette convert` lays it
out (OUT_DIR/<path under the archive>.json …); each test gets its own copy, since tests write
journals and outputs into it.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from pipeline.api import convert
from pipeline.export import write_outputs
from pipeline.options import Options
from pipeline.synth import Degradation, RenderedPage, degrade

# A poor scan: blurred, noisy, speckled, heavily compressed, so tesseract doubts some words.
POOR_SCAN = Degradation(skew_deg=0.8, blur=2.2, noise=30, specks=800, jpeg_quality=20, seed=3)

SCAN = "scans/page-1.png"  # under the archive; the output stem under OUT_DIR is the same path
PLAN = "text/plan.txt"


@pytest.fixture(scope="session")
def converted_template(
    tmp_path_factory: pytest.TempPathFactory, clean_pages: list[RenderedPage], plan_text: str
) -> Path:
    root = tmp_path_factory.mktemp("review")
    archive, out = root / "archive", root / "out"
    (archive / "scans").mkdir(parents=True)
    (archive / "text").mkdir()
    degrade(clean_pages[0].image, POOR_SCAN).save(archive / SCAN, dpi=(300, 300))
    (archive / PLAN).write_text(plan_text, encoding="utf-8")
    options = Options(restore="never")
    for relative in (SCAN, PLAN):
        write_outputs(convert(archive / relative, options), out / relative, ("json", "txt"))
    return out


@pytest.fixture
def out_dir(converted_template: Path, tmp_path: Path) -> Path:
    """A fresh copy of the converted folder (source paths are absolute: the archive stays put)."""
    return Path(shutil.copytree(converted_template, tmp_path / "out"))


@pytest.fixture
def scan() -> str:
    """The poor scan's output stem under OUT_DIR (its Document JSON is OUT_DIR/<scan>.json)."""
    return SCAN


@pytest.fixture
def plan() -> str:
    """The plan text file's output stem under OUT_DIR."""
    return PLAN

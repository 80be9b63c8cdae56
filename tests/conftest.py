"""Shared fixtures: the project's own plan text, rendered into page images and files."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest
from PIL import Image

from pipeline.synth import PageStyle, RenderedPage, degrade, plan_paragraphs, render_pages, scanned

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT.parent / "shared" / "seeds"
SAMPLE_TEXT = ROOT / "samples" / "source" / "ke-hoach-mau.txt"


@pytest.fixture(scope="session")
def plan_text() -> str:
    return SAMPLE_TEXT.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def clean_pages(plan_text: str) -> list[RenderedPage]:
    return render_pages(plan_paragraphs(plan_text), PageStyle(size_pt=13, dpi=300))


@pytest.fixture(scope="session")
def scanned_page(clean_pages: list[RenderedPage]) -> tuple[Image.Image, RenderedPage]:
    """First page of the sample plan, scanned look (skew, blur, noise, JPEG)."""
    page = clean_pages[0]
    return degrade(page.image, scanned(11)), page


@pytest.fixture
def seeds_dir() -> Path:
    if not SEEDS.is_dir():
        pytest.skip("../shared/seeds is absent")
    return SEEDS


def write_png(image: Image.Image, path: Path, dpi: int = 300) -> Path:
    image.save(path, dpi=(dpi, dpi))
    return path


def png_header_only(path: Path, width: int, height: int) -> Path:
    """A valid PNG signature and IHDR claiming width×height, with a tiny IDAT: a decompression bomb."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 100)) + chunk(b"IEND", b"")
    )
    return path


SCHEMAS = ROOT.parent / "shared" / "schemas"


@pytest.fixture(scope="session")
def schemas_dir() -> Path:
    """The official ALTO, PAGE and XLink schemas (../shared/schemas, see its README)."""
    if not (SCHEMAS / "alto-4-4.xsd").is_file():
        pytest.skip("../shared/schemas is absent")
    return SCHEMAS

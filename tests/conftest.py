"""Shared fixtures: the project's own plan text, rendered into page images and files; the official
ALTO and PAGE schemas (tests/resources), loaded without network."""

from __future__ import annotations

import os
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from lxml import etree
from PIL import Image

from pipeline.restore.ngram import SPECIALS, NgramCounts, NgramLM, line_units
from pipeline.synth import PageStyle, RenderedPage, degrade, plan_paragraphs, render_pages, scanned

ROOT = Path(__file__).resolve().parents[1]

# Property-based tests (hypothesis): a modest number of examples keeps `make test` quick;
# HYPOTHESIS_PROFILE=thorough searches a hundred times harder. Fixtures are only read, never
# changed per example, so function-scoped ones are safe to share between examples.
settings.register_profile(
    "default", max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.register_profile("thorough", settings.get_profile("default"), max_examples=6000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

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


SCHEMAS = ROOT / "tests" / "resources"


@pytest.fixture(scope="session")
def schemas_dir() -> Path:
    """The official ALTO, PAGE and XLink schemas, shipped with the tests (tests/resources/README.md):
    every export is validated in every run."""
    return SCHEMAS


_XLINK_URL = "http://www.loc.gov/standards/xlink/xlink.xsd"


class _LocalXlink(etree.Resolver):
    """ALTO imports XLink from the Library of Congress; the tests have no network."""

    def __init__(self, schemas: Path) -> None:
        super().__init__()
        self.schemas = schemas

    def resolve(self, system_url: str, public_id: str | None, context: object) -> object:
        if system_url == _XLINK_URL or system_url.endswith("/xlink.xsd"):
            return self.resolve_filename(str(self.schemas / "xlink.xsd"), context)
        return None


def _schema(schemas: Path, name: str) -> etree.XMLSchema:
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalXlink(schemas))
    return etree.XMLSchema(etree.parse(str(schemas / name), parser))


Validator = Callable[[str], etree._Element]


def _validator(schema: etree.XMLSchema) -> Validator:
    def validate(xml: str) -> etree._Element:
        tree = etree.fromstring(xml.encode("utf-8"))
        if not schema.validate(tree):
            raise AssertionError("\n".join(str(e) for e in schema.error_log))
        return tree

    return validate


@pytest.fixture(scope="session")
def valid_alto(schemas_dir: Path) -> Validator:
    """Parses an ALTO string and asserts it is valid ALTO 4.4; returns the root element."""
    return _validator(_schema(schemas_dir, "alto-4-4.xsd"))


@pytest.fixture(scope="session")
def valid_page(schemas_dir: Path) -> Validator:
    return _validator(_schema(schemas_dir, "pagecontent-2019-07-15.xsd"))


def lm_from_sentences(sentences: list[str]) -> NgramLM:
    """A tiny syllable LM counted from the sentences, nothing pruned: pure tests of decoding."""
    units = [line_units(s) for s in sentences]
    vocab = [*SPECIALS, *sorted({u for line in units for u in line} - set(SPECIALS))]
    index = {u: i for i, u in enumerate(vocab)}
    counts = NgramCounts(len(vocab))
    for line in units:
        counts.add([index[u] for u in line])
    return NgramLM.estimate(counts, vocab, min2=1, min3=1)

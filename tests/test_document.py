from __future__ import annotations

import json
from pathlib import Path

import jsonschema

from pipeline.api import text_to_page
from pipeline.document import SCHEMA_VERSION, Box, Document, Provenance, json_schema
from pipeline.export import to_json, to_jsonl_line
from pipeline.export.json import from_json

SCHEMA_FILE = Path(__file__).resolve().parents[1] / "schema" / "document.schema.json"


def _document() -> Document:
    page = text_to_page("Đơn vị chủ trì: Sở Nội vụ.\n\nThời gian: Quý II/2025.")
    return Document(
        source_path="a.txt", sha256="0" * 64, kind="text", pages=[page], provenance=Provenance(gazette_version="t")
    )


def test_committed_schema_is_current() -> None:
    committed = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    assert committed == json_schema(), "schema/ is stale: run `make schema` and bump SCHEMA_VERSION if needed"
    assert committed["x-schema-version"] == SCHEMA_VERSION


def test_json_round_trip_and_schema_validity() -> None:
    document = _document()
    text = to_json(document)
    jsonschema.validate(json.loads(text), json_schema())
    assert from_json(text) == document
    assert "\n" not in to_jsonl_line(document).rstrip("\n")
    assert from_json(to_jsonl_line(document)) == document


def test_text_page_keeps_blank_lines_and_words() -> None:
    page = text_to_page("a b\n\n c ")
    assert [line.text for line in page.lines] == ["a b", "", "c"]
    assert page.lines[0].tokens[1].source_text == "b"


def test_box_union() -> None:
    assert Box.union([Box(x0=1, y0=2, x1=3, y1=4), Box(x0=0, y0=5, x1=2, y1=9)]) == Box(x0=0, y0=2, x1=3, y1=9)
    assert Box.union([]) is None

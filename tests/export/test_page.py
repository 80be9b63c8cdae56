"""PAGE XML 2019-07-15 export, validated against the official schema."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from lxml import etree

from pipeline.document import Document
from pipeline.errors import ExportError
from pipeline.export.page import PAGE_NS, page_to_xml, to_page_xml

NS = {"p": PAGE_NS}


def _rect(element: etree._Element) -> tuple[int, int, int, int]:
    points = [tuple(map(int, p.split(","))) for p in element.find("p:Coords", NS).get("points").split()]
    xs, ys = [x for x, _ in points], [y for _, y in points]
    return min(xs), min(ys), max(xs), max(ys)


def _inside(inner: tuple[int, ...], outer: tuple[int, ...]) -> bool:
    return outer[0] <= inner[0] and outer[1] <= inner[1] and inner[2] <= outer[2] and inner[3] <= outer[3]


def _equivs(word: etree._Element) -> list[tuple[str | None, str, str | None]]:
    return [
        (e.get("index"), e.findtext("p:Unicode", namespaces=NS), e.get("conf"))
        for e in word.iterfind("p:TextEquiv", NS)
    ]


def test_real_scan_is_valid_page_with_nested_coordinates(scan_document: Document, valid_page) -> None:
    files = to_page_xml(scan_document)
    assert list(files) == [1]
    root = valid_page(files[1])
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    page = scan_document.pages[0]
    element = root.find("p:Page", NS)
    assert (element.get("imageWidth"), element.get("imageHeight")) == (str(page.width), str(page.height))
    assert element.get("imageFilename") == scan_document.source_path
    assert element.get("primaryLanguage") == "Vietnamese"
    tokens = {tid: token for tid, _, _, token in scan_document.tokens()}
    words = list(root.iter(f"{{{PAGE_NS}}}Word"))
    assert [w.get("id") for w in words] == list(tokens)
    for region in root.iter(f"{{{PAGE_NS}}}TextRegion"):
        assert _inside(_rect(region), (0, 0, page.width, page.height))
        for line in region.iterfind("p:TextLine", NS):
            assert _inside(_rect(line), _rect(region))
            line_words = line.findall("p:Word", NS)
            assert all(_inside(_rect(w), _rect(line)) for w in line_words)
            # The line's text is its words' first (main) TextEquivs, as OCR-D checks.
            main = [w.find("p:TextEquiv/p:Unicode", NS).text for w in line_words]
            assert line.findtext("p:TextEquiv/p:Unicode", namespaces=NS) == " ".join(main)
    # Unchanged OCR words: one reading, index 1, tesseract's confidence.
    for word in words:
        token = tokens[word.get("id")]
        assert _equivs(word) == [("1", token.text, f"{token.ocr_confidence:.4f}".rstrip("0").rstrip("."))]


def test_corrected_and_restored_words_keep_every_reading_by_index(reviewed_document: Document, valid_page) -> None:
    root = valid_page(page_to_xml(reviewed_document, reviewed_document.pages[0]))
    words = {w.get("id"): w for w in root.iter(f"{{{PAGE_NS}}}Word")}
    # index 0 = the reviewer's text, 1 = the machine's final reading, 2 = the text as OCR read it.
    assert _equivs(words["p1-l1-w4"]) == [("0", "hoạch", None), ("1", "hoach", "0.52")]
    assert _equivs(words["p1-l1-w2"]) == [("1", "Đơn", "0.88"), ("2", "Pon", "0.41")]
    assert _equivs(words["p1-l2-w1"]) == [("0", "Sở", None), ("1", "Sở", "0.9"), ("2", "S&", "0.3")]
    assert _equivs(words["p1-l1-w1"]) == [("1", "Kế", "0.93")]
    # A merged OCR word restored as two stays one Word: its OCR reading belongs to the whole box.
    assert _equivs(words["p1-l1-w3"]) == [("1", "với nội", "0.71"), ("2", "véindi", "0.35")]
    assert _rect(words["p1-l1-w3"]) == (280, 100, 440, 140)
    lines = [t.text for t in root.iterfind(".//p:TextLine/p:TextEquiv/p:Unicode", NS)]
    assert lines == ["Kế Đơn với nội hoạch", "Sở"]
    page = root.find("p:Page", NS)
    assert page.get("orientation") == "0.4" and page.get("imageXResolution") == "300"
    reviewers = root.find("p:Metadata/p:MetadataItem[@name='review']", NS)
    assert reviewers.get("value") == "corrected by lan, minh"


def test_metadata_timestamps_are_utc(reviewed_document: Document, valid_page) -> None:
    moment = datetime(2025, 3, 16, 10, 0, 5, 123, tzinfo=UTC)
    root = valid_page(page_to_xml(reviewed_document, reviewed_document.pages[0], now=moment))
    assert root.findtext("p:Metadata/p:Created", namespaces=NS) == "2025-03-16T10:00:05Z"
    assert root.findtext("p:Metadata/p:LastChange", namespaces=NS) == "2025-03-16T10:00:05Z"
    assert root.findtext("p:Metadata/p:Creator", namespaces=NS) == "gazette 0.1.0"


def test_one_file_per_pdf_page_naming_the_page(small_pdf_document: Document, valid_page) -> None:
    files = to_page_xml(small_pdf_document)
    assert list(files) == [1, 2]
    for number, xml in files.items():
        page = valid_page(xml).find("p:Page", NS)
        assert page.get("imageFilename") == f"{small_pdf_document.source_path}#page={number}"


def test_text_input_has_no_page_xml(text_document: Document) -> None:
    assert to_page_xml(text_document) == {}
    with pytest.raises(ExportError, match="no image size or word boxes"):
        page_to_xml(text_document, text_document.pages[0])


def test_metadata_times_come_from_the_document_so_a_re_export_is_the_same(
    reviewed_document: Document, small_pdf_document: Document
) -> None:
    page = reviewed_document.pages[0]
    first = page_to_xml(reviewed_document, page)
    assert first == page_to_xml(reviewed_document, page)
    root = etree.fromstring(first.encode())
    assert root.findtext("p:Metadata/p:Created", namespaces=NS) == "2025-03-15T09:00:00Z"  # the latest correction
    unreviewed = etree.fromstring(to_page_xml(small_pdf_document)[1].encode())
    assert unreviewed.findtext("p:Metadata/p:Created", namespaces=NS) == "1970-01-01T00:00:00Z"  # the epoch

"""hOCR export: well-formed XHTML with the hOCR classes, boxes, confidences and the current text."""

from __future__ import annotations

import re

from lxml import etree

from pipeline.document import Document
from pipeline.export.hocr import XHTML_NS, to_hocr

NS = {"h": XHTML_NS}


def _parse(hocr: str) -> etree._Element:
    return etree.fromstring(hocr.encode("utf-8"))  # XHTML: must be well-formed XML


def _by_class(root: etree._Element, name: str) -> list[etree._Element]:
    return root.xpath(f".//*[@class='{name}']")


def _bbox(element: etree._Element) -> tuple[int, ...] | None:
    match = re.search(r"\bbbox (\d+) (\d+) (\d+) (\d+)", element.get("title") or "")
    return tuple(map(int, match.groups())) if match else None


def _wconf(element: etree._Element) -> int | None:
    match = re.search(r"\bx_wconf (\d+)", element.get("title") or "")
    return int(match.group(1)) if match else None


def test_real_scan_has_pages_lines_and_words_with_boxes(scan_document: Document) -> None:
    root = _parse(to_hocr(scan_document))
    meta = {m.get("name"): m.get("content") for m in root.iterfind(".//h:meta", NS) if m.get("name")}
    assert meta["ocr-system"] == f"gazette {scan_document.provenance.gazette_version}"
    assert set(meta["ocr-capabilities"].split()) >= {"ocr_page", "ocr_carea", "ocr_line", "ocrx_word"}
    assert root.get("lang") == "vi" and meta["ocr-langs"] == "vi"
    page = scan_document.pages[0]
    (ocr_page,) = _by_class(root, "ocr_page")
    assert _bbox(ocr_page) == (0, 0, page.width, page.height)
    assert "ppageno 0" in ocr_page.get("title") and "scan_res 300 300" in ocr_page.get("title")
    ids = [e.get("id") for e in root.iter() if e.get("id")]
    assert len(ids) == len(set(ids))
    tokens = {tid: token for tid, _, _, token in scan_document.tokens()}
    words = _by_class(root, "ocrx_word")
    assert [w.get("id") for w in words] == list(tokens)
    for word in words:
        token = tokens[word.get("id")]
        assert word.text == token.text
        assert _bbox(word) == (token.box.x0, token.box.y0, token.box.x1, token.box.y1)
        assert _wconf(word) == round(token.ocr_confidence * 100)
    # A line's text content is its words with spaces between them.
    lines = ["".join(line.itertext()) for line in _by_class(root, "ocr_line")]
    assert lines == [line.text for line in page.lines]


def test_split_and_corrected_words(reviewed_document: Document) -> None:
    root = _parse(to_hocr(reviewed_document))
    words = {w.get("id"): w for w in _by_class(root, "ocrx_word")}
    assert (words["p1-l1-w3-1"].text, words["p1-l1-w3-2"].text) == ("với", "nội")
    assert _bbox(words["p1-l1-w3-1"])[0] == 280 and _bbox(words["p1-l1-w3-2"])[2] == 440
    assert _wconf(words["p1-l1-w3-1"]) == 71 and _wconf(words["p1-l1-w2"]) == 88
    assert words["p1-l1-w4"].text == "hoạch" and _wconf(words["p1-l1-w4"]) is None
    first_line = _by_class(root, "ocr_line")[0]
    assert "".join(first_line.itertext()) == "Kế Đơn với nội hoạch"


def test_text_input_has_no_boxes(text_document: Document) -> None:
    root = _parse(to_hocr(text_document))
    assert all(_bbox(e) is None for e in root.iter())
    assert [len(_by_class(area, "ocr_line")) for area in _by_class(root, "ocr_carea")] == [2, 1]
    assert " ".join("".join(w.itertext()) for w in _by_class(root, "ocrx_word")) == " ".join(text_document.text.split())

"""ALTO 4.4 export, validated against the official schema, on real OCR output and reviewed words."""

from __future__ import annotations

import re
import unicodedata

from lxml import etree

from pipeline.document import Document
from pipeline.export.alto import ALTO_NS, to_alto

NS = {"a": ALTO_NS}
_NCNAME = re.compile(r"^[A-Za-z_][\w.-]*$")


def _ids(root: etree._Element) -> list[str]:
    return [e.get("ID") for e in root.iter() if e.get("ID") is not None]


def _strings(root: etree._Element) -> dict[str, etree._Element]:
    return {s.get("ID"): s for s in root.iterfind(".//a:String", NS)}


def test_real_scan_is_valid_alto_with_boxes_and_confidences(scan_document: Document, valid_alto) -> None:
    root = valid_alto(to_alto(scan_document))
    ids = _ids(root)
    assert len(ids) == len(set(ids)) and all(_NCNAME.match(i) for i in ids)
    page = scan_document.pages[0]
    (alto_page,) = root.iterfind(".//a:Page", NS)
    assert (alto_page.get("WIDTH"), alto_page.get("HEIGHT")) == (str(page.width), str(page.height))
    strings = _strings(root)
    # One String per token (tesseract never puts a space in a word), each where tesseract saw it.
    for tid, _, _, token in scan_document.tokens():
        string = strings[tid]
        assert string.get("CONTENT") == token.text
        assert float(string.get("WC")) == round(token.ocr_confidence, 4)
        x, y = int(string.get("HPOS")), int(string.get("VPOS"))
        w, h = int(string.get("WIDTH")), int(string.get("HEIGHT"))
        assert 0 <= x and x + w <= page.width and 0 <= y and y + h <= page.height
        assert string.get("CS") is None
    assert len(strings) == sum(1 for _ in scan_document.tokens())
    # Lines read back as the document's lines, words apart (SP between them).
    lines = [
        " ".join(s.get("CONTENT") for s in line.iterfind("a:String", NS))
        for line in root.iter(f"{{{ALTO_NS}}}TextLine")
    ]
    assert lines == [line.text for line in page.lines]
    first_line = next(root.iter(f"{{{ALTO_NS}}}TextLine"))
    assert len(first_line.findall("a:SP", NS)) == len(first_line.findall("a:String", NS)) - 1


def test_description_names_the_source_and_every_processing_step(scan_document: Document, valid_alto) -> None:
    root = valid_alto(to_alto(scan_document))
    assert root.findtext(".//a:MeasurementUnit", namespaces=NS) == "pixel"
    assert root.findtext(".//a:sourceImageInformation/a:fileName", namespaces=NS) == scan_document.source_path
    assert root.findtext(".//a:fileIdentifier", namespaces=NS) == scan_document.sha256
    software = {
        p.findtext(".//a:softwareName", namespaces=NS): p.findtext(".//a:softwareVersion", namespaces=NS)
        for p in root.iterfind(".//a:Processing", NS)
    }
    assert software["gazette"] == scan_document.provenance.gazette_version
    assert software["tesseract"] == scan_document.provenance.engines["tesseract"]


def test_reviewed_words_carry_correction_status_and_split_tokens_stay_valid(
    reviewed_document: Document, valid_alto
) -> None:
    root = valid_alto(to_alto(reviewed_document))
    ids = _ids(root)
    assert len(ids) == len(set(ids))
    strings = _strings(root)
    # A reviewer's word: CS="true", no machine confidence, linked to the review step.
    corrected = strings["p1-l1-w4"]
    assert corrected.get("CONTENT") == "hoạch" and corrected.get("CS") == "true" and corrected.get("WC") is None
    steps = {p.get("ID"): p for p in root.iterfind(".//a:Processing", NS)}
    review = steps[corrected.get("PROCESSINGREFS")]
    assert review.findtext("a:processingAgency", namespaces=NS) == "lan, minh"
    assert review.findtext("a:processingDateTime", namespaces=NS).startswith("2025-03-15T09:00:00")
    # A restored word: the restore model's confidence, the OCR reading kept as an alternative.
    restored = strings["p1-l1-w2"]
    assert (restored.get("CONTENT"), restored.get("WC"), restored.get("CS")) == ("Đơn", "0.88", None)
    assert restored.findtext("a:ALTERNATIVE[@PURPOSE='ocr']", namespaces=NS) == "Pon"
    assert "restore" in steps[restored.get("PROCESSINGREFS")].findtext(".//a:softwareName", namespaces=NS)
    assert strings["p1-l1-w1"].get("WC") == "0.93" and strings["p1-l1-w1"].get("PROCESSINGREFS") is None
    # "với nội" (one token, OCR'd as "véindi") becomes two Strings sharing the token's box.
    assert "p1-l1-w3" not in strings
    first, second = strings["p1-l1-w3-1"], strings["p1-l1-w3-2"]
    assert (first.get("CONTENT"), second.get("CONTENT")) == ("với", "nội")
    assert first.findtext("a:ALTERNATIVE", namespaces=NS) == "véindi" and second.find("a:ALTERNATIVE", NS) is None
    left, right = int(first.get("HPOS")), int(second.get("HPOS")) + int(second.get("WIDTH"))
    assert (left, right) == (280, 440) and int(first.get("HPOS")) + int(first.get("WIDTH")) < int(second.get("HPOS"))
    assert first.getnext().tag == f"{{{ALTO_NS}}}SP"
    # A line whose every word was corrected says so on the line.
    lines = {line.get("ID"): line for line in root.iter(f"{{{ALTO_NS}}}TextLine")}
    assert lines["p1-l2"].get("CS") == "true" and lines["p1-l1"].get("CS") is None


def test_text_input_is_valid_alto_without_invented_coordinates(text_document: Document, valid_alto) -> None:
    xml = to_alto(text_document)
    root = valid_alto(xml)
    assert not any(e.get(a) for e in root.iter() for a in ("HPOS", "VPOS", "WIDTH", "HEIGHT"))
    # The blank line separates two blocks; line ids keep the document's line numbers.
    blocks = root.findall(".//a:TextBlock", NS)
    assert [[line.get("ID") for line in b.iterfind("a:TextLine", NS)] for b in blocks] == [
        ["p1-l1", "p1-l2"],
        ["p1-l4"],
    ]
    contents = [s.get("CONTENT") for s in root.iter(f"{{{ALTO_NS}}}String")]
    assert " ".join(contents) == " ".join(text_document.text.split())
    assert all(unicodedata.is_normalized("NFC", c) for c in contents)


def test_every_page_of_a_pdf_is_a_page(small_pdf_document: Document, valid_alto) -> None:
    root = valid_alto(to_alto(small_pdf_document))
    pages = root.findall(".//a:Page", NS)
    assert [(p.get("ID"), p.get("PHYSICAL_IMG_NR")) for p in pages] == [("p1", "1"), ("p2", "2")]
    assert all(p.get("LANG") == "vi" for p in pages)

"""Every XML export stays well-formed and schema-valid when a Document still holds characters XML
cannot carry (a JSON written before text was cleaned at ingest, a hand-edited journal), and the
searchable PDF's XMP too; file names with such characters are percent-encoded (issue 14, A)."""

from __future__ import annotations

import io

from lxml import etree
from PIL import Image
from pypdf import PdfReader

from pipeline.document import Correction, Document
from pipeline.export import to_alto, to_hocr, to_page_xml
from pipeline.export.pdf import PageImage, to_pdf

# A control character, a non-UTF-8 byte (as Python decodes it from a file name), a non-character.
DIRTY_NAME = "archive/scans/kế\x01hoạch\udcff\uffff.png"
CLEAN_NAME = "archive/scans/kế%01hoạch%FF%EF%BF%BF.png"


def _dirty(document: Document) -> Document:
    """The reviewed document with controls in a word, its OCR reading, a reviewer's text and
    name, and the file name."""
    document = document.model_copy(deep=True, update={"source_path": DIRTY_NAME})
    line = document.pages[0].lines[0]
    line.tokens[0].text = "K\x00ế\ufffe"
    line.tokens[1].source_text = "P\x1bon"
    corrected = line.tokens[3]
    corrected.text = "hoạ\x01ch"
    corrected.corrections = [
        Correction(text="hoạ\x01ch", previous="hoach", reviewer="lan\x07", time="2025-03-14T08:30:00Z")
    ]
    return document


def test_alto_of_dirty_text_is_valid_and_holds_the_clean_text(reviewed_document: Document, valid_alto) -> None:
    root = valid_alto(to_alto(_dirty(reviewed_document)))
    strings = {s.get("ID"): s for s in root.iter("{*}String")}
    assert strings["p1-l1-w1"].get("CONTENT") == "Kế"
    assert strings["p1-l1-w2"].findtext("{*}ALTERNATIVE") == "Pon"
    assert strings["p1-l1-w4"].get("CONTENT") == "hoạch"
    assert root.findtext(".//{*}fileName") == CLEAN_NAME
    assert "lan, minh" in [p.findtext("{*}processingAgency") for p in root.iter("{*}Processing")]


def test_page_xml_of_dirty_text_is_valid(reviewed_document: Document, valid_page) -> None:
    root = valid_page(to_page_xml(_dirty(reviewed_document))[1])
    assert root.find("{*}Page").get("imageFilename") == CLEAN_NAME
    words = {w.get("id"): w for w in root.iter("{*}Word")}
    assert words["p1-l1-w1"].findtext("{*}TextEquiv/{*}Unicode") == "Kế"
    assert root.findtext(".//{*}TextLine/{*}TextEquiv/{*}Unicode") == "Kế Đơn với nội hoạch"
    assert CLEAN_NAME in root.findtext("{*}Metadata/{*}Comments")


def test_hocr_of_dirty_text_is_well_formed(reviewed_document: Document) -> None:
    root = etree.fromstring(to_hocr(_dirty(reviewed_document)).encode("utf-8"))
    words = {w.get("id"): w.text for w in root.iter("{*}span") if w.get("class") == "ocrx_word"}
    assert (words["p1-l1-w1"], words["p1-l1-w4"]) == ("Kế", "hoạch")
    assert root.findtext("{*}head/{*}title") == CLEAN_NAME
    page = next(e for e in root.iter("{*}div") if e.get("class") == "ocr_page")
    assert f'image "{CLEAN_NAME}"' in page.get("title")


def test_pdf_xmp_of_a_dirty_file_name_is_well_formed_and_matches_the_info(reviewed_document: Document) -> None:
    blank = Image.new("L", (1000, 1400), 255)
    data = to_pdf(_dirty(reviewed_document), [PageImage(blank, 1000, 1400, 300)])
    reader = PdfReader(io.BytesIO(data))
    xmp = etree.fromstring(reader.trailer["/Root"]["/Metadata"].get_object().get_data())
    title = xmp.findtext(".//{http://purl.org/dc/elements/1.1/}title/*/*")
    assert title == reader.metadata["/Title"] == "kế%01hoạch%FF%EF%BF%BF.png"
    assert reader.pages[0].extract_text().split()[:2] == ["Kế", "Đơn"]

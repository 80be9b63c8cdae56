"""Property-based tests (hypothesis) of the XML in every export: whatever text a Document holds
(controls, non-characters, lone surrogates, any script) and whatever its file is called, ALTO
and PAGE are schema-valid, hOCR and the PDF's XMP are well-formed, and each gives back the
clean text (`clean_text`) of every word and the file name as `xml_file_name` writes it."""

from __future__ import annotations

import io
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from PIL import Image
from pypdf import PdfReader

from pipeline.document import Box, Correction, Document, Line, Page, Provenance, Token
from pipeline.export import to_alto, to_hocr, to_page_xml
from pipeline.export.layout import xml_file_name
from pipeline.export.pdf import PageImage, to_pdf
from pipeline.vietnamese import clean_text, is_unclean

WIDTH, HEIGHT = 2000, 1000
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=()), max_size=12)
CONFIDENCE = st.none() | st.floats(min_value=0, max_value=1)


@st.composite
def tokens(draw: st.DrawFn, x0: int, y0: int) -> Token:
    corrections = draw(
        st.lists(
            st.builds(
                Correction, text=ANY_TEXT, previous=ANY_TEXT, reviewer=ANY_TEXT, time=st.just("2025-03-14T08:30Z")
            ),
            max_size=2,
        )
    )
    return Token(
        text=corrections[-1].text if corrections else draw(ANY_TEXT),
        source_text=draw(ANY_TEXT),
        box=Box(x0=x0, y0=y0, x1=x0 + 80, y1=y0 + 40),
        ocr_confidence=draw(CONFIDENCE),
        restore_confidence=draw(CONFIDENCE),
        corrections=corrections,
        flags=["corrected"] if corrections else [],
    )


@st.composite
def documents(draw: st.DrawFn) -> Document:
    lines = []
    for n in range(draw(st.integers(1, 3))):
        y0 = 100 + 60 * n
        words = [draw(tokens(100 + 100 * w, y0)) for w in range(draw(st.integers(1, 4)))]
        lines.append(Line(box=Box(x0=100, y0=y0, x1=100 + 100 * len(words), y1=y0 + 40), tokens=words))
    return Document(
        source_path=draw(ANY_TEXT.filter(bool)),
        sha256="0" * 64,
        kind="image",
        pages=[Page(number=1, source="ocr", width=WIDTH, height=HEIGHT, dpi=300, lines=lines)],
        provenance=Provenance(gazette_version="0.1.0", engines={"tesseract": "5.3.0"}),
        language="vi",
    )


def _words(line: Line) -> list[str]:
    return [word for token in line.tokens for word in clean_text(token.text).split()]


@given(documents())
def test_alto_is_valid_and_holds_the_clean_text(valid_alto, document: Document) -> None:
    root = valid_alto(to_alto(document))
    alto_lines = [[s.get("CONTENT") for s in line.iter("{*}String")] for line in root.iter("{*}TextLine")]
    assert alto_lines == [words for line in document.pages[0].lines if (words := _words(line))]
    assert root.findtext(".//{*}fileName") == xml_file_name(document.source_path)
    for alternative in root.iter("{*}ALTERNATIVE"):
        assert alternative.text and not any(is_unclean(c) for c in alternative.text)


@given(documents())
def test_page_xml_is_valid_and_holds_the_clean_text(valid_page, document: Document) -> None:
    root = valid_page(to_page_xml(document)[1])
    page_lines = [line.findtext("{*}TextEquiv/{*}Unicode") or "" for line in root.iter("{*}TextLine")]
    assert page_lines == [" ".join(words) for line in document.pages[0].lines if (words := _words(line))]
    assert root.find("{*}Page").get("imageFilename") == xml_file_name(document.source_path)
    tokens_by_id = {
        f"p1-l{n}-w{w}": t for n, line in enumerate(document.pages[0].lines, 1) for w, t in enumerate(line.tokens, 1)
    }
    for word in root.iter("{*}Word"):
        assert word.findtext("{*}TextEquiv/{*}Unicode") == clean_text(tokens_by_id[word.get("id")].text)


@given(documents())
def test_hocr_is_well_formed_and_holds_the_clean_text(document: Document) -> None:
    root = etree.fromstring(to_hocr(document).encode("utf-8"))
    spans = [s for s in root.iter("{*}span") if s.get("class") == "ocrx_word"]
    assert [s.text for s in spans] == [w for line in document.pages[0].lines for w in _words(line)]
    assert root.findtext("{*}head/{*}title") == xml_file_name(document.source_path)


@settings(max_examples=max(1, settings().max_examples // 4))  # a PDF takes a tenth of a second
@given(documents())
def test_pdf_xmp_is_well_formed_and_names_the_file_as_its_info_does(document: Document) -> None:
    data = to_pdf(document, [PageImage(Image.new("L", (40, 20), 255), WIDTH, HEIGHT, 300)])
    reader = PdfReader(io.BytesIO(data))
    xmp = etree.fromstring(reader.trailer["/Root"]["/Metadata"].get_object().get_data())
    title = xmp.findtext(".//{http://purl.org/dc/elements/1.1/}title/*/*") or ""
    assert title == reader.metadata["/Title"] == xml_file_name(Path(document.source_path).name)

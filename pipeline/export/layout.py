"""What the archival exports (ALTO, PAGE, hOCR, PDF) share: blocks of lines, words, confidences.

The data model has no block level (Page → Line → Token), so a block is a run of lines with
text; blank lines (kept from text inputs) separate blocks, and an OCR page is one block.
Ids derive from `token_id` so the same word has the same id in every format and in the
review journal: page `p1`, block `p1-b1`, line `p1-l2`, word `p1-l2-w3`.

Also what the XML formats share: `element_maker` (lxml SubElement in a namespace, attributes
that are None left out, text and attribute values made clean), language codes and names,
`image_reference` (the page image a page was read from), `xml_file_name` and `export_time`.

Characters XML cannot hold. Text is cleaned at ingest and in the journal
(`pipeline.vietnamese.clean_text`), but a Document JSON written by an older gazette may still
hold a control character, so every string the XML exports write goes through `clean_text`
again: words in `word_parts` (cleaned and composed, NFC), every other string in `element_maker`
(cleaned, not composed). File names are not text: a name may hold a control character or, on
a non-UTF-8 file system, bytes Python decodes to lone surrogates, and one in NFD is another
file than its NFC twin. Removing or composing them would name another file, so
`xml_file_name` writes each unclean character percent-encoded (its UTF-8 bytes; the original
byte for a surrogate-escaped one), as a URI would, and leaves the rest as it is; the Document
JSON keeps the exact path.

Export time. Outputs are a pure function of the Document, so re-exporting gives the same
bytes on every machine: the time written as PAGE `Created`/`LastChange` and as the PDF's
creation/modification dates is the latest correction's time when the document has
corrections, else the constant EXPORT_EPOCH (1970-01-01T00:00:00Z, as reproducible builds
use when no SOURCE_DATE_EPOCH is given), never the clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import etree

from pipeline.document import Box, Document, Line, Page, Token, token_id
from pipeline.vietnamese import clean_text, is_unclean

__all__ = [
    "EXPORT_EPOCH",
    "LANGUAGE_CODES",
    "LANGUAGE_NAMES",
    "BlockView",
    "LineView",
    "WordPart",
    "clip",
    "element_maker",
    "export_time",
    "image_reference",
    "is_corrected",
    "is_restored",
    "page_blocks",
    "short_number",
    "word_confidence",
    "word_parts",
    "xml_file_name",
]


@dataclass(frozen=True)
class WordPart:
    """One whitespace-free piece of a token's current text, with its share of the token's box.

    A restored merge ("véindi" → "với nội") or a reviewer's edit can put a space inside one
    token; formats whose word element means one word get one part per word, with ids
    `<token_id>-1`, `<token_id>-2` (the token id itself when the token is one word).
    """

    id: str
    text: str
    box: Box | None
    token: Token
    first: bool  # the token's first part: carries what belongs to the token once (its OCR reading)


@dataclass
class LineView:
    id: str
    line: Line
    box: Box | None
    tokens: list[tuple[str, Token]]  # (token id, token) in reading order
    parts: list[WordPart] = field(default_factory=list)


@dataclass
class BlockView:
    id: str
    lines: list[LineView]
    box: Box | None


def is_corrected(token: Token) -> bool:
    """A reviewer changed (or confirmed) this word in the review journal."""
    return bool(token.corrections) or "corrected" in token.flags


def is_restored(token: Token) -> bool:
    return token.restore_confidence is not None or "restored" in token.flags


def word_confidence(token: Token) -> float | None:
    """The machine's confidence in the current text, or None when a person wrote it: no
    machine scored a reviewer's text, and its correction status says more than a number would."""
    return None if is_corrected(token) else token.machine_confidence


EXPORT_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
LANGUAGE_CODES = {"vi": "vi", "en": "en"}  # BCP 47 (hOCR lang, ALTO LANG)
LANGUAGE_NAMES = {"vi": "Vietnamese", "en": "English"}  # PAGE names languages in English

ElementMaker = Callable[..., etree._Element]


def element_maker(namespace: str) -> ElementMaker:
    """`make(parent, tag, text=None, **attrs)`: a child element `{namespace}tag`, attributes
    that are None left out, `text` set when given; text and values rid of what XML cannot hold
    (`clean_text`, composing nothing: callers put text in NFC, and a file name stays as it is)."""

    def make(parent: etree._Element, tag: str, text: str | None = None, **attrs: str | None) -> etree._Element:
        values = {k: clean_text(v, compose=False) for k, v in attrs.items() if v is not None}
        element = etree.SubElement(parent, f"{{{namespace}}}{tag}", values)
        if text is not None:
            element.text = clean_text(text, compose=False)
        return element

    return make


def xml_file_name(path: str) -> str:
    """`path` with each character XML cannot hold percent-encoded (see the module docstring)."""
    return "".join(_percent_encoded(c) if is_unclean(c) else c for c in path)


def _percent_encoded(character: str) -> str:
    if "\udc80" <= character <= "\udcff":  # a byte that was not UTF-8 (surrogateescape)
        return f"%{ord(character) - 0xDC00:02X}"
    return "".join(f"%{byte:02X}" for byte in character.encode("utf-8", "surrogatepass"))


def image_reference(document: Document, page: Page) -> str:
    """The image a page was read from: the source path (`xml_file_name`), with `#page=N`
    (RFC 8118) for PDF pages."""
    return xml_file_name(document.source_path) + (f"#page={page.number}" if document.kind == "pdf" else "")


def export_time(document: Document) -> datetime:
    """When the document's content last changed, deterministically (see the module docstring):
    the latest correction's time (UTC), else EXPORT_EPOCH."""
    times = []
    for *_, token in document.tokens():
        for correction in token.corrections:
            try:
                moment = datetime.fromisoformat(correction.time.replace("Z", "+00:00"))
            except ValueError:
                continue
            times.append(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
    return max(times).astimezone(UTC) if times else EXPORT_EPOCH


def short_number(value: float) -> str:
    """0.9, 0.8731, 1: confidences without float noise (0.8730999999999999)."""
    return f"{value:.4f}".rstrip("0").rstrip(".")


def clip(box: Box, width: int | None, height: int | None) -> Box:
    """The box inside the page (preprocessing maps boxes back with rounding)."""
    x_max = width if width else max(box.x1, 0)
    y_max = height if height else max(box.y1, 0)
    x0, y0 = min(max(box.x0, 0), x_max), min(max(box.y0, 0), y_max)
    return Box(x0=x0, y0=y0, x1=min(max(box.x1, x0), x_max), y1=min(max(box.y1, y0), y_max))


def _split_box(box: Box, words: list[str]) -> list[Box]:
    """Share a box among words in proportion to their length, one character per space."""
    total = sum(len(w) for w in words) + len(words) - 1
    boxes, used = [], 0
    for word in words:
        x0 = box.x0 + round(box.width * used / total)
        used += len(word)
        x1 = box.x0 + round(box.width * used / total)
        boxes.append(Box(x0=x0, y0=box.y0, x1=max(x1, x0), y1=box.y1))
        used += 1
    return boxes


def word_parts(tid: str, token: Token, box: Box | None) -> list[WordPart]:
    words = clean_text(token.text).split()
    if len(words) <= 1:
        return [WordPart(tid, w, box, token, True) for w in words]
    boxes = _split_box(box, words) if box else [None] * len(words)
    return [WordPart(f"{tid}-{n}", w, b, token, n == 1) for n, (w, b) in enumerate(zip(words, boxes, strict=True), 1)]


def page_blocks(page: Page) -> list[BlockView]:
    """The page's lines with text, grouped into blocks at blank lines, boxes clipped to the page."""
    blocks: list[BlockView] = []
    run: list[LineView] = []

    def close_run() -> None:
        if run:
            box = Box.union([line.box for line in run if line.box])
            blocks.append(BlockView(f"p{page.number}-b{len(blocks) + 1}", list(run), box))
            run.clear()

    for number, line in enumerate(page.lines, 1):
        tokens = [(token_id(page.number, number, n), t) for n, t in enumerate(line.tokens, 1)]
        boxes = {tid: clip(t.box, page.width, page.height) for tid, t in tokens if t.box}
        parts = [part for tid, t in tokens for part in word_parts(tid, t, boxes.get(tid))]
        if not parts:
            close_run()
            continue
        # The line box must contain its words (PAGE requires it; tesseract's boxes usually do).
        own = [clip(line.box, page.width, page.height)] if line.box else []
        run.append(LineView(f"p{page.number}-l{number}", line, Box.union(own + list(boxes.values())), tokens, parts))
    close_run()
    return blocks

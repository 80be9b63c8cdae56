"""Lines with offsets, the folded form the segmenter compares, language and debris detection.

Every decision of the segmenter is taken on a line's *folded* text (no marks, lower case, OCR
look-alike digits mapped back), which has exactly the length of the line, so a match in the
folded text is also a span of the original.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from pipeline.document import DebrisKind, Language
from pipeline.vietnamese import strip_diacritics

__all__ = ["TextLine", "detect_language", "find_debris", "fold_line", "is_bullet", "split_lines"]


@lru_cache(maxsize=512)
def _fold_char(char: str) -> str:
    folded = strip_diacritics(char).lower()
    return folded if len(folded) == 1 else char


def fold_line(text: str) -> str:
    """Lower case without marks, one character for one character (so offsets carry over)."""
    return "".join(_fold_char(c) for c in text)


@dataclass(frozen=True)
class TextLine:
    index: int
    start: int  # offset of the first non-blank character in the segmented text
    end: int  # offset after the last non-blank character
    text: str  # the line, stripped
    folded: str  # fold_line(text)

    @property
    def blank(self) -> bool:
        return not self.text


_BREAK = re.compile(r"\r\n|[\n\r\f\v\x1c-\x1e\x85\u2028\u2029]")


def split_lines(text: str) -> list[TextLine]:
    """One TextLine per line; page breaks (form feeds) count as line breaks."""
    lines: list[TextLine] = []
    start = 0
    for match in [*_BREAK.finditer(text), None]:
        end = match.start() if match else len(text)
        raw = text[start:end]
        stripped = raw.strip()
        lead = len(raw) - len(raw.lstrip())
        lines.append(TextLine(len(lines), start + lead, start + lead + len(stripped), stripped, fold_line(stripped)))
        if match:
            start = match.end()
    return lines


def is_bullet(line: TextLine) -> bool:
    return bool(line.text) and line.text[0] in "-–•+*·"


# Function words: frequent, short and unlike each other in the two languages. Folded
# Vietnamese (va, cua, cac) survives OCR garbling well enough to outvote English.
_VI_WORDS = frozenset("va cua cac trong nhung duoc voi cho theo tinh nam thong tin hoat dong thuc hien don vi".split())
_EN_WORDS = frozenset("the and of for with from by is are this that which shall will province".split())


def detect_language(text: str) -> Language:
    words = re.findall(r"[a-z]+", fold_line(text[:20000]))
    vi = sum(w in _VI_WORDS for w in words)
    en = sum(w in _EN_WORDS for w in words)
    return "en" if en > 1.5 * vi and en >= 5 else "vi"


_RUNNING_HEADER = re.compile(
    r"^\W*(?:\d{1,4}\s+)?c[o0]ng\s*b[a4][o0]\b|^\W*s\S{0,2}\s*\d{1,3}\s*(?:\+\s*\d{1,3})?\s*/\s*ng\S{1,3}\s*\d"
)
_PAGE_NUMBER = re.compile(r"^[-–\s]*(?:trang\s+|page\s+)?\d{1,3}(?:\s*/\s*\d{1,3})?[-–\s]*$")
_WEB_TAIL = re.compile(
    r"^\W*(?:latest news?|tin moi nhat|tin moi|tin lien quan|cac tin khac|tin khac|other news|related news"
    r"|xem them|tin cung chuyen muc|bai viet lien quan|related articles?)\W*$"
)
_WEB_LINE = re.compile(
    r"\b\d+\s+(?:online users?|users? online|nguoi dang truy cap|dang truy cap|dang online|visitors?)\b"
    r"|^(?:luot truy cap|so luot truy cap|tong (?:so )?luot truy cap|truy cap hom nay|dang truy cap)\b"
    r"|^(?:published on|posted on|ngay dang|ngay cap nhat|cap nhat luc|dang luc)\b"
    r"|\(\s*\d{1,2}/\d{1,2}/\d{4}\s+\d{1,2}:\d{2}\s*(?:sa|ch|am|pm)?\s*\)\s*$"
    r"|^(?:trang chu|home)\s*[|>»/]"
    r"|^(?:chia se|share|in bai|print|email|facebook|twitter|zalo)\b.{0,30}$"
)


def find_debris(lines: list[TextLine]) -> dict[int, DebrisKind]:
    """Lines that are not the plan's text: gazette running headers, page numbers, web remains.

    A "Latest news" style line starts the web page's tail: everything after it is debris too.
    Signature noise is found with the signature block (metadata.py).
    """
    debris: dict[int, DebrisKind] = {}
    tail = False
    for line in lines:
        if line.blank:
            continue
        if tail or _WEB_TAIL.match(line.folded):
            tail = True
            debris[line.index] = "web"
        elif len(line.text) < 90 and _RUNNING_HEADER.match(line.folded):
            debris[line.index] = "running-header"
        elif _PAGE_NUMBER.match(line.folded):
            debris[line.index] = "page-number"
        elif _WEB_LINE.search(line.folded):
            debris[line.index] = "web"
    return debris

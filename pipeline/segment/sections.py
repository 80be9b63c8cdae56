"""Top-level sections: find the headings (I., II. … in provincial plans; 1., 2. … in
department plans; unnumbered capitals; English lead-ins such as "the following goals:") and
tell what each section is for from its heading.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz

from pipeline.document import Language, SectionKind
from pipeline.labels import ROMAN_TOKEN, roman_name, roman_value
from pipeline.segment.text import TextLine

__all__ = ["ROMAN_LINE", "TASK_KINDS", "Heading", "classify_heading", "find_headings", "settle_kinds", "upper_share"]

# Heading keywords per kind, folded. The kind whose keyword comes first in the heading wins:
# MỤC ĐÍCH, YÊU CẦU is the purpose section, NHIỆM VỤ VÀ GIẢI PHÁP the content.
_KEYWORDS: list[tuple[SectionKind, tuple[str, ...]]] = [
    ("viewpoints", ("quan diem", "viewpoint")),
    ("purpose", ("muc dich", "purpose")),
    ("objectives", ("muc tieu", "objective", "goal")),
    ("requirements", ("yeu cau", "nguyen tac", "requirement", "principle")),
    ("content", ("noi dung", "nhiem vu", "hoat dong", "lo trinh", "content", "task", "activities")),
    ("solutions", ("giai phap", "solution")),
    (
        "budget",
        ("kinh phi", "du toan", "von dau tu", "nguon von", "nguon luc tai chinh", "expense", "budget", "funding"),
    ),
    ("implementation", ("to chuc thuc hien", "trach nhiem", "phan cong", "implementation", "organization of")),
    ("reporting", ("che do bao cao", "che do thong tin bao cao", "reporting")),
    ("recipients", ("noi nhan", "recipients")),
]
CLEAR = 85.0  # a fuzzy keyword match this good counts as written
# Sections whose numbered items are tasks.
TASK_KINDS: tuple[SectionKind, ...] = ("content", "solutions")
# Sections that state why and what for; a thematic heading after them lists things to do.
_AIMS: tuple[SectionKind, ...] = ("viewpoints", "purpose", "objectives", "requirements")
# Headings that describe the plan's frame, not work to do (THỜI GIAN VÀ PHẠM VI, ĐỐI TƯỢNG, TIÊU
# CHÍ THI ĐUA, TÌNH HÌNH …): they stay "other" wherever they stand.
_DESCRIPTIVE = re.compile(
    r"\b(?:thoi gian|pham vi|doi tuong|tieu chi|khen thuong|tinh hinh|thuc trang|ket qua|danh gia|can cu"
    r"|scope|timeframe|target group|criteria|background)\b"
)


def settle_kinds(kinds: list[SectionKind], headings: list[str] | None = None) -> list[SectionKind]:
    """Kinds that depend on the neighbours: an unclassified heading between the aims and the
    implementation (III. PHÁT TRIỂN HẠ TẦNG SỐ) is content; an assignment section followed by
    a later TỔ CHỨC THỰC HIỆN (III. PHÂN CÔNG NHIỆM VỤ … V. TỔ CHỨC THỰC HIỆN) is content too."""
    kinds = list(kinds)
    folded = [re.sub(r"[^a-z ]+", " ", h.lower()) for h in headings] if headings else [""] * len(kinds)
    first_aim = next((i for i, k in enumerate(kinds) if k in _AIMS), None)
    last_impl = max(
        (i for i, k in enumerate(kinds) if k == "implementation" and not _DESCRIPTIVE.match(folded[i].strip())),
        default=None,
    )
    for i, kind in enumerate(kinds):
        between = first_aim is not None and i > first_aim and (last_impl is None or i < last_impl)
        if _DESCRIPTIVE.match(folded[i].strip()):
            kinds[i] = "other"  # ĐỐI TƯỢNG, PHẠM VI VÀ THỜI GIAN THỰC HIỆN: not the implementation
        elif kind == "other" and between and not _DESCRIPTIVE.search(folded[i]):
            kinds[i] = "content"
        elif kind == "implementation" and last_impl is not None and i < last_impl:
            kinds[i] = "content"
    return kinds


ROMAN_LINE = re.compile(r"^(?P<num>" + ROMAN_TOKEN + r")\s*[.:)]\s*(?P<head>\S.*)$")
_ARABIC_LINE = re.compile(r"^(?P<num>\d{1,2})\s*[.)]\s*(?P<head>[^\d\s].*)$")
_LEAD_IN = re.compile(r"(?:the following|as follows|including|includ\w*)\s*:|:\s*$")


@dataclass
class Heading:
    line: int
    label: str | None
    text: str
    kind: SectionKind
    flags: list[str] = field(default_factory=list)
    inline: str | None = None  # what follows a lead-in's colon on the same line


def classify_heading(text: str) -> SectionKind:
    """The kind of a section from its (folded) heading; fuzzy, so garbled headings still count."""
    text = re.sub(r"[^a-z ]+", " ", text.lower())[:90]
    best: tuple[int, float, SectionKind] | None = None
    for kind, keywords in _KEYWORDS:
        for keyword in keywords:
            position = text.find(keyword)
            score = 100.0
            if position < 0 and len(keyword) >= 7:
                found = fuzz.partial_ratio_alignment(keyword, text, score_cutoff=78)
                if found is None:
                    continue
                position, score = found.dest_start, found.score
            if position < 0:
                continue
            # A clear keyword anywhere beats a loose fuzzy one (TỔ CHỨC THEO DÕI … CHẾ ĐỘ BÁO CÁO is
            # reporting), while a garbled first keyword still wins (MUC PICH, YEU CAU is purpose).
            if best is None or (score < CLEAR, position, -score) < (best[1] < CLEAR, best[0], -best[1]):
                best = (position, score, kind)
    if best is None and fuzz.partial_ratio("to chuc thuc hien", text) >= 70:
        return "implementation"  # Tb chire thue hién: the one heading OCR garbles beyond 78
    return best[2] if best else "other"


# In an English lead-in the noun that names the section wins over words around it:
# "the following implementation requirements:" lists requirements.
_LEAD_IN_KINDS: list[tuple[SectionKind, re.Pattern[str]]] = [
    ("requirements", re.compile(r"\b(?:requirements?|principles?)\b")),
    ("purpose", re.compile(r"\b(?:purposes?|aims?)\b")),
    ("objectives", re.compile(r"\b(?:goals?|objectives?)\b")),
    ("content", re.compile(r"\b(?:tasks?|solutions?|activities|contents?)\b")),
    ("budget", re.compile(r"\b(?:budget|funding|expenses?|funds?)\b")),
    ("implementation", re.compile(r"\b(?:implementation|organization|responsibilit\w+)\b")),
]


def _lead_in_kind(text: str) -> SectionKind | None:
    return next((kind for kind, pattern in _LEAD_IN_KINDS if pattern.search(text)), None)


def upper_share(text: str) -> float:
    letters = [c for c in text if c.isalpha()]
    return sum(c.isupper() for c in letters) / len(letters) if letters else 0.0


def _roman_headings(lines: list[TextLine]) -> list[Heading]:
    """I., II., … in sequence. A numeral OCR broke (H. or I. for III., Vv. for V.) is repaired
    from the order when its heading is in capitals and the next heading confirms the count (the
    last heading: when it names a kind)."""
    found = []
    for line in lines:
        match = ROMAN_LINE.match(line.text)
        if not match or len(line.text) > 160:
            continue
        head = match["head"].strip()
        kind = classify_heading(line.folded[match.start("head") :])
        found.append((line, head, match["num"], roman_value(match["num"]), kind))
    headings: list[Heading] = []
    restart = 0  # headings before the current part (PHẦN II starts again at I.)
    for k, (line, head, written, value, kind) in enumerate(found):
        capitals = upper_share(head) >= 0.6
        expected = len(headings) - restart + 1
        later = [v for _, h, _, v, _ in found[k + 1 :] if upper_share(h) >= 0.6 and v is not None]
        if value == 1 and written == "I" and expected > 2 and capitals and later[:1] == [2]:
            restart, expected = len(headings), 1  # a new part numbers its sections from I again
        if value == expected:
            if capitals or kind != "other" or len(head) <= 90:
                flags = [] if written == roman_name(expected) else ["label-repaired"]  # H. read for II.
                headings.append(Heading(line.index, roman_name(expected), head.rstrip(":").strip(), kind, flags))
            continue
        if not (capitals and headings):
            continue
        confirmed = later[:1] == [expected + 1] or (not later and kind != "other")  # the last one: its kind
        if (value is not None and abs(value - expected) <= 1) or confirmed:
            headings.append(
                Heading(line.index, roman_name(expected), head.rstrip(":").strip(), kind, ["label-repaired"])
            )
    return headings


def _arabic_headings(lines: list[TextLine]) -> list[Heading]:
    """1., 2., … as top-level sections (department plans), when their headings name kinds."""
    headings: list[Heading] = []
    for line in lines:
        match = _ARABIC_LINE.match(line.text)
        if not match or len(line.text) > 90 or line.text.rstrip().endswith((".", ";", ",")):
            continue
        if int(match["num"]) != len(headings) + 1:
            continue
        kind = classify_heading(line.folded[match.start("head") :])
        if kind == "other":
            continue
        headings.append(Heading(line.index, match["num"], match["head"].rstrip(":").strip(), kind))
    return headings if len({h.kind for h in headings}) >= 2 else []


def _capital_headings(lines: list[TextLine]) -> list[Heading]:
    """Unnumbered headings in capitals (MỤC ĐÍCH, YÊU CẦU) that name a kind."""
    headings = []
    for line in lines:
        words = line.text.split()
        if 1 <= len(words) <= 12 and upper_share(line.text) >= 0.8:
            kind = classify_heading(line.folded)
            if kind != "other":
                headings.append(Heading(line.index, None, line.text.rstrip(":").strip(), kind))
    return headings if len({h.kind for h in headings}) >= 2 else []


def _lead_in_headings(lines: list[TextLine]) -> list[Heading]:
    """English summaries: "the Plan has set out the following goals:" opens a section."""
    headings = []
    for line in lines:
        match = _LEAD_IN.search(line.folded)
        if not match or match.start() > 300:
            continue
        kind = _lead_in_kind(line.folded[: match.start()][-120:])
        if kind:
            inline = line.text[match.end() :].strip() or None
            headings.append(Heading(line.index, None, line.text[: match.end()].strip(), kind, inline=inline))
    return headings


def find_headings(lines: list[TextLine], language: Language) -> list[Heading]:
    """The section headings among the body lines, by the first scheme that finds structure."""
    candidates = [line for line in lines if not line.blank]
    for finder in (_roman_headings, _arabic_headings, _capital_headings):
        headings = finder(candidates)
        if len(headings) >= 2:
            return headings
    return _lead_in_headings(candidates) if language == "en" else []

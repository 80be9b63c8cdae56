"""Metadata: the header (issuing body, number, place and date), the title, year and period,
and the province (the tail, Nơi nhận and signature, is tail.py). Every field stays None unless
the text says it; patterns run on folded lines so English-model OCR (S6:, ngay 22 thang 4 nam
2019) still reads.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from pipeline.labels import DATE_START, NUMBER_LINE, as_digits
from pipeline.lexicon import Lexicon
from pipeline.segment.text import TextLine, fold_line
from pipeline.vietnamese import normalize

__all__ = ["Head", "find_head", "find_province", "issuer_in", "parse_header"]

# The document's title word: a plan, or a decision that issues one (the plan is attached).
_TITLE_WORD = re.compile(r"^\W*(?:k\S{1,2}\s*ho\S{0,2}ch|plan|quy\S{0,3}t\s+\S{1,3}nh|decision)\W*$")
_DECISION_WORD = re.compile(r"^\W*(?:quy\S{0,3}t\s+\S{1,3}nh|decision)\W*$")
_BODY_CUE = re.compile(
    r"^\W*(?:c\S{1,2}n\s+c|thuc hien|th\S{1,2}c\s+hi\S{1,2}n|theo\s|xet\s|[ivx]+\s*\.\s|\d+\s*[.)]\s|[-–•+]|pursuant)"
)
_YEAR = re.compile(r"(?<![\d/])((?:19|20)\d\d)(?![\d/])")
_PLAN_CODE = re.compile(r"(?<![\d/])\d{1,5}\s*/\s*(?:\d{4}\s*/\s*)?KH\s*-\s*[A-ZĐ0-9]+(?:-[A-ZĐ0-9]+)*")
# Day and month may come out of OCR with l or I for 1 (tháng 1l); the year may wrap to the next line.
_DATE = re.compile(
    r"ng[a-z]{1,3}\s+(?P<d>[\dlI|]{1,2})\s+th[a-z]{2,4}\s+(?P<m>[\dlI|]{1,2})\s+n[a-z]{1,2}m\s+(?P<y>\d{4})"
)
_MOTTO = re.compile(r"c[o0]ng\s*h\S{0,2}a\b|\b\S{0,3}c\s*l\S{1,2}p\s*-|\bh\S{1,2}nh\s+ph\S*|\bs\S{0,2}\s*[:.]\s*\d")
_ISSUES = re.compile(r"\b(?:ban hanh|xay dung|issued|promulgated)\s+(?:the\s+)?(?:k\S{1,2}\s*ho\S{0,2}ch|plan)\b")
_EN_NUMBER = re.compile(r"\bplan\s+no\.?\s*(?P<num>\d{1,5}/[A-Z]{2,}[\w-]*)", re.IGNORECASE)
_EN_DATE = re.compile(r"\bon\s+(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4}),?\s+(?:[^.]{0,80}?)\bissued\b")
_PROVINCE_CUE = re.compile(r"\b(?:tinh|thanh pho|tp\.?)\s+(?=\S)")
_EN_PROVINCE = re.compile(r"((?:\S+\s+){1,4})province\b")
_CLOSING = re.compile(
    r"^\W*(?:tr\S{1,2}n\s+d\S{1,2}y\s+l\S|trong\s+qu\S\s+tr\S{1,2}nh\s+th|the above is|in the process of)"
)


def _iso(y: str, m: str, d: str) -> str | None:
    try:
        return date(int(y), int(as_digits(m)), int(as_digits(d))).isoformat()
    except ValueError:
        return None


@dataclass
class Head:
    title: str | None = None
    title_lines: list[int] = field(default_factory=list)
    header: list[TextLine] = field(default_factory=list)
    body_start: int = 0
    plan_word: bool = False


def find_head(lines: list[TextLine], debris: dict[int, str]) -> Head:
    """Where the title is (after KẾ HOẠCH / PLAN, or the first line), what precedes it, where the body starts."""
    content = [line for line in lines if not line.blank and line.index not in debris]
    head = Head()
    marker = next((line for line in content[:25] if _TITLE_WORD.match(line.folded)), None)
    if marker:
        head.plan_word = not _DECISION_WORD.match(marker.folded)  # a decision counts if its title names a plan
        head.header = [line for line in content if line.index < marker.index]
        following = [line for line in content if line.index > marker.index]
    else:
        following = content
    for line in following[:3]:
        if _BODY_CUE.match(line.folded) or len(line.text) > 160:
            break
        head.title_lines.append(line.index)
        if _YEAR.search(line.folded) or not marker:
            break
    if head.title_lines:
        head.title = " ".join(" ".join(lines[i].text for i in head.title_lines).split())
        head.plan_word |= bool(re.search(r"\b(?:k\S\s*ho\S{0,2}ch|plan)\b", fold_line(head.title)))
    last = head.title_lines[-1] if head.title_lines else (marker.index if marker else -1)
    head.body_start = last + 1
    return head


# In a title, years that are not the plan's own: a period, a horizon, a cited document's date.
_PERIOD = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*[-–—]\s*((?:19|20)\d\d)(?!\d)")
_NOT_THE_PLAN_YEAR = re.compile(
    r"(?:den|toi|sau|tam nhin|dinh huong)\s+nam\s+(?:19|20)\d\d"  # đến năm 2030: a horizon
    r"|ngay\s+\d{1,2}\s*(?:thang\s+\d{1,2}\s+nam|/\d{1,2}/)\s*(?:19|20)\d\d"  # a cited document's date
    r"|\d+/(?:19|20)\d\d/[a-z]"  # a document number (12/2023/NĐ-CP)
)


def title_period(title: str | None) -> str | None:
    """'2026-2030' when the title names a period (giai đoạn 2026 – 2030)."""
    found = _PERIOD.search(fold_line(title or ""))
    return f"{found[1]}-{found[2]}" if found else None


def title_year(title: str | None, issued: str | None = None) -> int | None:
    """The single year the title names; else the year of issue (ISO date `issued`)."""
    folded = _NOT_THE_PLAN_YEAR.sub(" ", _PERIOD.sub(" ", fold_line(title or "")))
    years = set(_YEAR.findall(folded))
    if len(years) == 1:
        return int(years.pop())
    return int(issued[:4]) if issued else None


@dataclass
class HeaderFacts:
    number: str | None = None
    place: str | None = None
    date: str | None = None
    issuer_fragments: list[str] = field(default_factory=list)


def parse_header(header: list[TextLine], lexicon: Lexicon) -> HeaderFacts:
    """Number, place and date, and the issuer's lines, from the lines above the title.

    The two header columns (issuer | national motto, number | place and date) are often
    merged into one line by OCR, so each line is cut where the motto, number or date starts.
    """
    facts = HeaderFacts()
    for k, line in enumerate(header):
        number = NUMBER_LINE.match(line.text)
        if number:
            facts.number = re.sub(r"\s+", "", number["num"])
        when = _DATE.search(line.folded)
        if when is None and k + 1 < len(header) and (start := DATE_START.search(line.folded)):
            # the year wrapped onto the next line: read the date across both, cut the line where it starts
            wrapped = _DATE.match(f"{line.folded[start.start() :]} {header[k + 1].folded}")
            if wrapped and not facts.date:
                facts.date = _iso(wrapped["y"], wrapped["m"], wrapped["d"])
                place = line.text[number.end() if number else 0 : start.start()].strip(" ,.-")
                facts.place = facts.place or (_place(place, lexicon) if place else None)
            when = start
        if when and when.re is _DATE:
            facts.date = _iso(when["y"], when["m"], when["d"])
            place = line.text[number.end() if number else 0 : when.start()].strip(" ,.-")
            if place and not facts.place:
                facts.place = _place(place, lexicon)
        motto = _MOTTO.search(line.folded)
        cuts = [len(line.text), motto.start() if motto else len(line.text), when.start() if when else len(line.text)]
        # The text before a date is the place of issue, not the issuer.
        fragment = "" if number or when else line.text[: min(cuts)].strip(" -–_")
        if sum(c.isalpha() for c in fragment) >= 2:
            facts.issuer_fragments.append(fragment)
    if facts.number is None:
        code = next((m for line in header if (m := _PLAN_CODE.search(line.text))), None)
        facts.number = re.sub(r"\s+", "", code.group()) if code else None
    return facts


def _place(written: str, lexicon: Lexicon) -> str:
    """The place of issue, its spelling repaired from the province list, with the unit word
    when the document writes one (Thành phố Hồ Chí Minh)."""
    province = lexicon.province(written)
    if province is None:
        return normalize(written)
    unit = re.match(r"(?:th\S{1,2}nh\s+ph\S{1,2}|tp\.?)\s", fold_line(written))
    return f"Thành phố {province}" if unit else province


def issuer_in(lines: list[TextLine], lexicon: Lexicon) -> str | None:
    """'… Sở Ngoại vụ ban hành kế hoạch …' / '… the Provincial People's Committee issued Plan …'."""
    text = " ".join(line.text for line in lines)
    folded = " ".join(line.folded for line in lines)
    for match in _ISSUES.finditer(folded):
        clause = re.split(r"[.,;:()]", text[: match.start()])[-1].split()
        best = None
        for k in range(1, min(len(clause), 8) + 1):
            mention = lexicon.mention(" ".join(clause[-k:]), candidates=False)
            if mention.status == "matched" and (best is None or mention.score >= best.score):
                best = mention
        if best:
            return best.canonical
    return None


def english_facts(text: str) -> HeaderFacts:
    facts = HeaderFacts()
    if number := _EN_NUMBER.search(text):
        facts.number = number["num"]
    if when := _EN_DATE.search(fold_line(text)):
        facts.date = _iso(when["y"], when["m"], when["d"])  # Vietnamese sites write day/month/year
    return facts


def find_province(lines: list[TextLine], lexicon: Lexicon) -> str | None:
    """The province the text names most often after tỉnh / thành phố, or before 'province'."""
    counts: Counter[str] = Counter()
    for line in lines:
        # Words after "tỉnh" are read from the front, words before "province" from the back.
        windows = [(line.folded[m.end() :].split()[:5], False) for m in _PROVINCE_CUE.finditer(line.folded)]
        windows += [(m.group(1).split()[-4:], True) for m in _EN_PROVINCE.finditer(line.folded)]
        for words, backwards in windows:
            for n in range(2, len(words) + 1):
                part = words[-n:] if backwards else words[:n]
                if name := lexicon.province(" ".join(part)):
                    counts[name] += 1
                    break
    return counts.most_common(1)[0][0] if counts else None


def specialize(canonical: str, province: str | None, lexicon: Lexicon) -> str:
    """The issuer with its place: Ủy ban nhân dân tỉnh + Hưng Yên → Ủy ban nhân dân tỉnh Hưng
    Yên (when the lexicon has it); a department, Sở Y tế → Sở Y tế tỉnh Hưng Yên."""
    if not province:
        return canonical
    if canonical.endswith((" tỉnh", " thành phố")):
        mention = lexicon.mention(f"{canonical} {province}", candidates=False)
        if mention.status == "matched" and mention.score >= 99:
            return mention.canonical or canonical
    entry = lexicon.entry(canonical)
    if entry is not None and entry.kind == "department" and entry.scope == "provincial":
        place = lexicon.place_entry(province)
        unit = "thành phố" if place is not None and place.kind == "city" else "tỉnh"
        return f"{canonical} {unit} {province}"
    return canonical


def closing_line(lines: list[TextLine], start: int, end: int) -> int:
    """The closing paragraph (Trên đây là Kế hoạch …) that ends the last section, or end."""
    return next((line.index for line in lines[start:end] if _CLOSING.match(line.folded)), end)

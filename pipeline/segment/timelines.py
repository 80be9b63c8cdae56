"""Timelines: *Tháng 6 năm 2019* → 2019-06, *Quý II/2019* → 2019-04..2019-06, *trước ngày
10/4/2019* → deadline 2019-04-10, *Thường xuyên* → recurring; the wording is kept beside it.

Patterns are matched on folded text and tolerate what English OCR models make of the words
(nim/ndm for năm, quy 11 for Quý II, Thudng xuyén).
"""

from __future__ import annotations

import re
from datetime import date

from pipeline.document import Timeline, TimelineKind
from pipeline.segment.text import fold_line

__all__ = ["DEADLINE_PREPOSITIONS", "deadline_phrases", "find_deadline", "parse_timeline"]

_YEAR = r"(?P<y>(?:19|20)\d\d)"
_NAM = r"(?:/|-|nam|n\S{1,2}m|of|,)?"
_RECURRING = re.compile(
    r"th\S{1,3}ng\s*xuy\S{1,3}n|h[a-z]{1,2}ng\s+(?:nam|quy|thang|tuan)|dinh\s+ky|regular|annual|quarterly|monthly"
    r"|periodic|each (?:month|year|quarter)|every (?:month|year|quarter)"
)
_DATE = r"(?P<d>\d{1,2})\s*(?P<sep>[/.-])\s*(?P<m>\d{1,2})\s*(?P=sep)\s*" + _YEAR
_DEADLINE = re.compile(r"(?:truoc|tr\S{1,3}c|before|by|cham nhat|no later than)\s+(?:ngay\s+|ng\S{1,2}\s+)?" + _DATE)
_DATE_RE = re.compile(r"(?<![\d/])" + _DATE)
_QUARTER = re.compile(
    r"(?:qu[a-z]{0,2}|quarter)\s*(?P<q>iv|[1l|]v|[ivl1|]{1,3}|[2-4])\b\s*" + _NAM + r"\s*" + _YEAR + "?"
)
_MONTH = re.compile(
    r"(?:th[a-z]{1,3}ng|month)\s+(?P<a>\d{1,2})(?:\s*(?:-|–|den|to)\s*(?:th[a-z]{1,3}ng\s+)?(?P<b>\d{1,2}))?\s*"
    + _NAM
    + r"\s*"
    + _YEAR
)
_YEARS = re.compile(r"(?<![\d/.-])" + _YEAR + r"(?:\s*[-–]\s*(?P<y2>(?:19|20)\d\d))?(?![\d/])")


def _quarter_number(token: str) -> int | None:
    token = token.lower()
    if token in ("iv", "1v", "lv", "|v", "4"):
        return 4
    if set(token) <= set("il1|"):  # II read as 11 or ll
        return len(token) if len(token) <= 3 else None
    return int(token) if token.isdigit() and 1 <= int(token) <= 4 else None


def _iso(y: int, m: int, d: int) -> str | None:
    try:
        return date(y, m, d).isoformat()
    except ValueError:
        return None


def _periods(folded: str) -> tuple[TimelineKind, list[tuple[str, str]]]:
    """The finest periods the text names: quarters and months, else years."""
    periods: list[tuple[str, str]] = []
    kind: TimelineKind = "year"
    years = [int(m["y"]) for m in _YEARS.finditer(folded)]
    for match in _QUARTER.finditer(folded):
        q = _quarter_number(match["q"])
        y = int(match["y"]) if match["y"] else next((y for y in years if y), None)
        if q and y:
            periods.append((f"{y}-{3 * q - 2:02d}", f"{y}-{3 * q:02d}"))
            kind = "quarter"
    for match in _MONTH.finditer(folded):
        a, b, y = int(match["a"]), int(match["b"] or match["a"]), int(match["y"])
        if 1 <= a <= b <= 12:
            periods.append((f"{y}-{a:02d}", f"{y}-{b:02d}"))
            kind = "month" if kind == "year" else kind
    if not periods:
        for match in _YEARS.finditer(folded):
            periods.append((match["y"], match["y2"] or match["y"]))
    return kind, periods


# Time phrases inside a sentence, from their preposition (folded): … hoàn thành trong quý IV năm
# 2026; … trước ngày 15/12/2025; từ ngày 15/11 đến ngày 15/12. A year only aimed at (đến năm
# 2030 đạt …) is not among them.
# Regexes on folded text; trước as English-model OCR may write it (trudc, truéc → truec).
DEADLINE_PREPOSITIONS = (
    r"tr\S{1,3}c",
    "trong",
    "tu",
    "cham nhat la",
    "cham nhat",
    "muon nhat",
    "den het",
    "ngay trong",
)
_UNIT = (
    r"(?:ngay\s+\d{1,2}(?:\s*(?:/|thang)\s*\d{1,2})?(?:\s*(?:/|nam)\s*\d{4})?"
    r"|thang\s+\d{1,2}(?:\s*(?:/|nam)\s*\d{4})?|quy\s+(?:iv|i{1,3}|[1-4])\b(?:\s*(?:/|nam)\s*\d{4})?"
    r"|n\S{1,2}m\s+\d{4}|\d{1,2}/\d{1,2}/\d{4})"
)
_PHRASE = re.compile(
    r"\b(?:" + "|".join(DEADLINE_PREPOSITIONS) + r")\s+" + _UNIT + r"(?:\s*(?:den|-|–)\s*" + _UNIT + r")?"
)
# A period in brackets after an item's title (… (2025 - 2026)), or a title that is a period.
_BRACKETED = re.compile(r"\((?P<p>(?:xuyen suot\s+|giai doan\s+|nam\s+)?\d{4}(?:\s*[-–]\s*\d{4}|\s+tro di)?)\)")
_PERIOD_TITLE = re.compile(r"^giai doan\s+\d{4}\s*[-–]\s*\d{4}")


def deadline_phrases(text: str) -> list[str]:
    """The time phrases of a passage, as written."""
    return [" ".join(text[m.start() : m.end()].split()) for m in _PHRASE.finditer(fold_line(text))]


def find_deadline(text: str) -> Timeline | None:
    """The time phrase of a task's own text (… hoàn thành trong quý IV năm 2026), or None."""
    folded = fold_line(text)
    found = _PERIOD_TITLE.search(folded) or _PHRASE.search(folded)
    if found is None and (bracket := _BRACKETED.search(folded)):
        start, end = bracket.span("p")
    elif found is None:
        return None
    else:
        start, end = found.span()
    return parse_timeline(text[start:end])


def parse_timeline(text: str) -> Timeline:
    """The value of a Thời gian field, normalised; kind 'unspecified' when it names no time.
    A value written as sentences (+ … gửi Bộ trước ngày 15/12/2025. + … trước ngày 31/12/2025)
    is kept as its time phrases."""
    text = " ".join(text.split()).rstrip(".;,")
    if len(text) > 80 and (phrases := deadline_phrases(text)):
        text = "; ".join(phrases)
    folded = fold_line(text)
    recurring = bool(_RECURRING.search(folded))
    deadline = _DEADLINE.search(folded)
    if deadline and (due := _iso(int(deadline["y"]), int(deadline["m"]), int(deadline["d"]))):
        return Timeline(text=text, kind="deadline", end=due, recurring=recurring)
    dates = [d for m in _DATE_RE.finditer(folded) if (d := _iso(int(m["y"]), int(m["m"]), int(m["d"])))]
    if dates:
        return Timeline(text=text, kind="date", start=min(dates), end=max(dates), recurring=recurring)
    kind, periods = _periods(folded)
    if periods:
        start, end = min(p[0] for p in periods), max(p[1] for p in periods)
        return Timeline(text=text, kind=kind, start=start, end=end, recurring=recurring)
    return Timeline(text=text, kind="recurring" if recurring else "unspecified", recurring=recurring)

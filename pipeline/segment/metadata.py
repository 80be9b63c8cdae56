"""Metadata: the header (issuing body, number, place and date), the title and year, the
province, and the tail (Nơi nhận, the signature block). Every field stays None unless the text
says it; patterns run on folded lines so English-model OCR (S6:, ngay 22 thang 4 nam 2019,
Noi nhgn, TM.UY BAN NHAN DAN) still reads.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import date

from rapidfuzz import fuzz, process

from pipeline.document import Signer, Span
from pipeline.lexicon import Lexicon
from pipeline.segment.text import TextLine, fold_line, is_bullet
from pipeline.vietnamese import normalize

__all__ = ["Head", "Tail", "find_head", "find_province", "find_tail", "issuer_in", "parse_header"]

# The document's title word: a plan, or a decision that issues one (the plan is attached).
_TITLE_WORD = re.compile(r"^\W*(?:k\S{1,2}\s*ho\S{0,2}ch|plan|quy\S{0,3}t\s+\S{1,3}nh|decision)\W*$")
_DECISION_WORD = re.compile(r"^\W*(?:quy\S{0,3}t\s+\S{1,3}nh|decision)\W*$")
_BODY_CUE = re.compile(
    r"^\W*(?:c\S{1,2}n\s+c|thuc hien|th\S{1,2}c\s+hi\S{1,2}n|theo\s|xet\s|[ivx]+\s*\.\s|\d+\s*[.)]\s|[-–•+]|pursuant)"
)
_YEAR = re.compile(r"(?<![\d/])((?:19|20)\d\d)(?![\d/])")
_NUMBER = re.compile(r"^\W*[Ss]\S{0,2}\s*[:.]\s*(?P<num>\d{1,5}\s*/\s*[^\W_]+(?:\s*[-/]\s*[^\W_]+)*)")
_PLAN_CODE = re.compile(r"(?<![\d/])\d{1,5}\s*/\s*(?:\d{4}\s*/\s*)?KH\s*-\s*[A-ZĐ0-9]+(?:-[A-ZĐ0-9]+)*")
# Day and month may come out of OCR with l or I for 1 (tháng 1l); the year may wrap to the next line.
_DATE = re.compile(
    r"ng[a-z]{1,3}\s+(?P<d>[\dlI|]{1,2})\s+th[a-z]{2,4}\s+(?P<m>[\dlI|]{1,2})\s+n[a-z]{1,2}m\s+(?P<y>\d{4})"
)
_DATE_START = re.compile(r"ng[a-z]{1,3}\s+[\dlI|]{1,2}\s+th[a-z]{2,4}")
_MOTTO = re.compile(r"c[o0]ng\s*h\S{0,2}a\b|\b\S{0,3}c\s*l\S{1,2}p\s*-|\bh\S{1,2}nh\s+ph\S*|\bs\S{0,2}\s*[:.]\s*\d")
_ISSUES = re.compile(r"\b(?:ban hanh|xay dung|issued|promulgated)\s+(?:the\s+)?(?:k\S{1,2}\s*ho\S{0,2}ch|plan)\b")
_EN_NUMBER = re.compile(r"\bplan\s+no\.?\s*(?P<num>\d{1,5}/[A-Z]{2,}[\w-]*)", re.IGNORECASE)
_EN_DATE = re.compile(r"\bon\s+(?P<d>\d{1,2})/(?P<m>\d{1,2})/(?P<y>\d{4}),?\s+(?:[^.]{0,80}?)\bissued\b")
_PROVINCE_CUE = re.compile(r"\b(?:tinh|thanh pho|tp\.?)\s+(?=\S)")
_EN_PROVINCE = re.compile(r"((?:\S+\s+){1,4})province\b")
_RECIPIENTS = re.compile(r"^\W*(?:n\S{1,2}i\s+nh\S{1,3}n|recipients?)\b\s*:?")
_SIGN_MARK = re.compile(r"^\W*(?P<mark>tm|kt|tl|tuq|q)\s*\.\s*(?=\S)")
_SIGNED = re.compile(r"^\W*\(?\s*(?:d\S\s*k\S|signed)\s*\)?\s*(?::|$)")
_CLOSING = re.compile(
    r"^\W*(?:tr\S{1,2}n\s+d\S{1,2}y\s+l\S|trong\s+qu\S\s+tr\S{1,2}nh\s+th|the above is|in the process of)"
)
_POSITIONS = {
    "chu tich": "Chủ tịch", "pho chu tich": "Phó Chủ tịch", "giam doc": "Giám đốc", "pho giam doc": "Phó Giám đốc",
    "truong ban": "Trưởng ban", "pho truong ban": "Phó Trưởng ban", "chanh van phong": "Chánh Văn phòng",
    "pho chanh van phong": "Phó Chánh Văn phòng", "bi thu": "Bí thư", "pho bi thu": "Phó Bí thư",
    "thu truong": "Thứ trưởng", "chairman": "Chủ tịch", "vice chairman": "Phó Chủ tịch", "director": "Giám đốc",
    "bo truong": "Bộ trưởng", "thu tuong": "Thủ tướng", "pho thu tuong": "Phó Thủ tướng",
    "cuc truong": "Cục trưởng", "pho cuc truong": "Phó Cục trưởng", "vien truong": "Viện trưởng",
}  # fmt: skip
# Several signature cells on one line (TM. ỦY BAN NHÂN DÂN KT. CHỦ TỊCH PHÓ CHỦ TỊCH Tên Người).
_GLUED_MARK = re.compile(r"\b(TM|KT|TL|TUQ)\.(?=\S)")
_MARK_CUT = re.compile(r"\s+(?=(?:TM|KT|TL|TUQ|Q)\s*\.)")
_AUTHORITIES = {
    "uy ban nhan dan": "Ủy ban nhân dân", "hoi dong nhan dan": "Hội đồng nhân dân", "ban thuong vu": "Ban Thường vụ",
    "ban chi dao": "Ban Chỉ đạo", "ban chap hanh": "Ban Chấp hành",
}  # fmt: skip


def _letters(text: str) -> str:
    return " ".join(re.sub(r"[^a-z ]", " ", fold_line(text).replace("&", "o")).split())


def _canonical(text: str, table: dict[str, str], cutoff: float = 80) -> str | None:
    found = process.extractOne(_letters(text), list(table), scorer=fuzz.ratio, score_cutoff=cutoff)
    return table[found[0]] if found else None


def _iso(y: str, m: str, d: str) -> str | None:
    digits = str.maketrans("lI|", "111")
    try:
        return date(int(y), int(m.translate(digits)), int(d.translate(digits))).isoformat()
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
        number = _NUMBER.match(line.text)
        if number:
            facts.number = re.sub(r"\s+", "", number["num"])
        when = _DATE.search(line.folded)
        if when is None and k + 1 < len(header) and (start := _DATE_START.search(line.folded)):
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


@dataclass
class Tail:
    start: int  # first line of the tail (recipients or signature); len(lines) if none
    recipients: list[str] | None = None
    recipients_heading: str = "Nơi nhận"
    recipients_span: tuple[int, int] | None = None
    signer: Signer | None = None
    noise: list[tuple[int, int]] = field(default_factory=list)


def _position(text: str) -> str | None:
    return _canonical(text, _POSITIONS, 84) if 0 < len(_letters(text)) <= 24 else None


def _is_position_line(line: TextLine) -> bool:
    letters = [c for c in line.text if c.isalpha()]
    capitals = letters and sum(c.isupper() for c in letters) / len(letters) >= 0.6
    return bool(capitals) and _position(line.text) is not None


def _is_name(text: str) -> bool:
    words = text.split()
    return 2 <= len(words) <= 5 and len(text) <= 40 and all(w[0].isupper() and w.isalpha() for w in words)


def _signature_cells(text: str) -> list[str]:
    """One line holding several signature cells → the cells: marks, positions, then the name."""
    cells = []
    text = _GLUED_MARK.sub(r"\1. ", text.strip())  # KT.GIÁM ĐỐC
    for part in _MARK_CUT.split(text):
        words = part.split()
        k = len(words)
        while k > 0 and words[k - 1][0].isupper() and not words[k - 1].isupper() and words[k - 1].isalpha():
            k -= 1
        name = " ".join(words[k:]) if len(words) - k >= 2 else ""
        caps = words[: k if name else len(words)]
        mark = _SIGN_MARK.match(fold_line(" ".join(caps)))
        start = len(caps[0]) if mark and caps and caps[0].endswith(".") else 0
        rest = caps[1:] if start else caps
        # KT. CHỦ TỊCH PHÓ CHỦ TỊCH: the mark's head, then the signer's own position.
        cut = next(
            (i for i in range(1, len(rest)) if _position(" ".join(rest[:i])) and _position(" ".join(rest[i:]))), None
        )
        if cut is not None and start:
            cells += [" ".join([caps[0], *rest[:cut]]), " ".join(rest[cut:])]
        elif caps:
            cells.append(" ".join(caps))
        if name:
            cells.append(name)
    return cells


def find_tail(lines: list[TextLine], after: int, debris: dict[int, str], end: int | None = None) -> Tail:
    """The recipients block and the signature after the body (from line `after` on, up to `end`)."""
    end = len(lines) if end is None else end
    start = next(
        (
            line.index
            for line in lines[after:end]
            if line.index not in debris
            and (_RECIPIENTS.match(line.folded) or _SIGN_MARK.match(line.folded) or _is_position_line(line))
        ),
        len(lines),
    )
    tail = Tail(start=start)
    signer = Signer()
    block: list[TextLine] = []
    for line in lines[start:end]:
        if line.blank or line.index in debris:
            continue
        if recipients := _RECIPIENTS.match(line.folded):
            tail.recipients = tail.recipients or []
            tail.recipients_heading = line.text[: recipients.end()].strip()
            tail.recipients_span = (line.start, line.start + recipients.end())
            rest = line.text[recipients.end() :]
            entries = _INLINE_ENTRY.split(rest.strip())
            if len(entries) > 2:  # Nơi nhận: - A; - B; - C. on one line
                tail.recipients += [_entry(e) for e in entries if _entry(e)]
                tail.recipients_span = (line.start, line.end)
            else:
                _fragment(rest, line.start + recipients.end(), signer, tail)
        elif is_bullet(line) and tail.recipients is not None and tail.recipients_span and not block:
            if line.text[0] in "+*" and tail.recipients:  # a sub-entry belongs to the entry above
                tail.recipients[-1] += " " + _entry(line.text)
            else:
                tail.recipients.append(_entry(line.text))
            tail.recipients_span = (tail.recipients_span[0], line.end)
        elif (mark := _SIGN_MARK.match(line.folded)) and len(cells := _signature_cells(line.text)) > 1:
            for cell in cells:
                _signature_cell(cell, signer)
            block.append(line)
        elif len(cells := _signature_cells(line.text)) == 2 and _position(cells[0]) and _is_name(cells[1]):
            # GIÁM ĐỐC Nguyễn Văn A: the position and the name on one line
            for cell in cells:
                _signature_cell(cell, signer)
            block.append(line)
        elif mark:
            _signature_cell(line.text, signer)
            block.append(line)
        elif _is_position_line(line):
            signer.position = _position(line.text)
            block.append(line)
        elif signed := _SIGNED.match(line.folded):
            signer.signed = True
            rest = line.text[signed.end() :].strip()
            if _is_name(rest):
                signer.name = normalize(rest)
            block.append(line)
        elif _is_name(line.text) and signer.name is None:
            signer.name = normalize(line.text)
            block.append(line)
        else:
            tail.noise.append((line.start, line.end))
    if block or signer.position:
        signer.block = [line.text for line in block]
        if block:
            signer.span = Span(start=block[0].start, end=block[-1].end)
        tail.signer = signer
    return tail


_INLINE_ENTRY = re.compile(r"(?:^|(?<=[;.,]))\s*[-–•]\s+")


def _entry(text: str) -> str:
    return " ".join(text.lstrip("-–•+* ").rstrip(" ;.,").split())


def _signature_cell(text: str, signer: Signer) -> None:
    """One cell of the signature block: a TM./KT. mark, a position or the signer's name."""
    if mark := _SIGN_MARK.match(fold_line(text)):
        rest = text[mark.end() :]
        if mark["mark"] == "tm":
            signer.on_behalf_of = _canonical(rest, _AUTHORITIES) or normalize(rest.strip())
        else:
            signer.deputy_for = _position(rest) or normalize(rest.strip())
    elif position := _position(text):
        signer.position = position
    elif _is_name(text) and signer.name is None:
        signer.name = normalize(text)


def _fragment(text: str, offset: int, signer: Signer, tail: Tail) -> None:
    """Text beside 'Nơi nhận:' is the other column: a position, perhaps with OCR noise before it."""
    match = re.search(r"[^\W\d_]+(?:\s+[^\W\d_]+){0,3}\s*$", text)
    if match and (position := _position(match.group())):
        signer.position = position
        text = text[: match.start()]
    if text.strip():
        lead = len(text) - len(text.lstrip())
        tail.noise.append((offset + lead, offset + len(text.rstrip())))


def closing_line(lines: list[TextLine], start: int, end: int) -> int:
    """The closing paragraph (Trên đây là Kế hoạch …) that ends the last section, or end."""
    return next((line.index for line in lines[start:end] if _CLOSING.match(line.folded)), end)

"""The tail of a plan: the Nơi nhận (recipients) block and the signature (TM./KT. marks, the
signer's position and name, Đã ký), read line by line, also when OCR or a conversion put
several signature cells on one line (TM. ỦY BAN NHÂN DÂN KT. CHỦ TỊCH PHÓ CHỦ TỊCH Tên).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from pipeline.document import Signer, Span
from pipeline.segment.text import TextLine, fold_line, is_bullet
from pipeline.signature import POSITIONS, SIGN_MARK, SIGNED
from pipeline.vietnamese import normalize

__all__ = ["Tail", "find_tail"]

_RECIPIENTS = re.compile(r"^\W*(?:n\S{1,2}i\s+nh\S{1,3}n|recipients?)\b\s*:?")
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


@dataclass
class Tail:
    start: int  # first line of the tail (recipients or signature); len(lines) if none
    recipients: list[str] | None = None
    recipients_heading: str = "Nơi nhận"
    recipients_span: tuple[int, int] | None = None
    signer: Signer | None = None
    noise: list[tuple[int, int]] = field(default_factory=list)


def _position(text: str) -> str | None:
    return _canonical(text, POSITIONS, 84) if 0 < len(_letters(text)) <= 24 else None


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
        mark = SIGN_MARK.match(fold_line(" ".join(caps)))
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
            and (_RECIPIENTS.match(line.folded) or SIGN_MARK.match(line.folded) or _is_position_line(line))
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
        elif (mark := SIGN_MARK.match(line.folded)) and len(cells := _signature_cells(line.text)) > 1:
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
        elif signed := SIGNED.match(line.folded):
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
    if mark := SIGN_MARK.match(fold_line(text)):
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

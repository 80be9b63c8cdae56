"""Field lines of a task: `- Đơn vị chủ trì: …`, `b) Cơ quan thực hiện:`, `+ Thời hạn ban hành: …`.

The labels are data (FIELD_LABELS, folded); a line is a field when the text before its colon
matches one of them fuzzily, so `- Pon vi chu tri:` still counts. The line may open with a
bullet or a letter label: a lettered item whose text is a field belongs to its parent.
"""

from __future__ import annotations

import re

from rapidfuzz import fuzz, process

from pipeline.lookalikes import to_letters
from pipeline.segment.text import TextLine

__all__ = ["AGENCY_FIELDS", "FIELD_LABELS", "TIME_FIELDS", "field_heading", "field_name"]

FIELD_LABELS: dict[str, tuple[str, ...]] = {
    "lead": ("don vi chu tri", "don vi chu tri thuc hien", "co quan chu tri", "co quan chu tri thuc hien",
             "chu tri", "lead agency", "responsible agency", "agency in charge"),
    "partners": ("don vi phoi hop", "don vi phoi hop thuc hien", "co quan phoi hop", "co quan phoi hop thuc hien",
                 "phoi hop", "coordinating agencies", "coordinating agency"),
    "executors": ("don vi thuc hien", "co quan thuc hien", "co quan thuc hien chu tri", "trach nhiem thuc hien",
                  "implementing agencies", "implementing agency"),
    "timeline": ("thoi gian", "thoi gian thuc hien", "thoi gian hoan thanh", "tien do", "tien do thuc hien",
                 "thoi han", "thoi han hoan thanh", "thoi han ban hanh", "thoi han thuc hien", "time", "timeline",
                 "deadline"),
    "target": ("doi tuong", "doi tuong tham gia", "thanh phan", "participants", "target group"),
    "quantity": ("so luong", "quy mo", "quantity"),
    # Fields that carry no agency or time but are not subtasks either.
    "content": ("nhiem vu", "noi dung", "noi dung thuc hien", "noi dung cong viec", "content"),
    "result": ("ket qua", "san pham", "ket qua san pham", "san pham dau ra", "output", "result"),
    "budget": ("kinh phi", "kinh phi thuc hien", "nguon kinh phi", "du toan", "budget"),
    "place": ("dia diem", "dia diem thuc hien", "venue"),
    # A heading over lettered role fields: 2. Cơ quan chủ trì, phối hợp → a) Cơ quan chủ trì: …
    "roles": ("co quan chu tri phoi hop", "don vi chu tri phoi hop", "co quan chu tri va phoi hop"),
}  # fmt: skip
_HEADING_LABEL = re.compile(
    r"^(?:[-–•+*]\s*|[a-zđ]\s*[).]\s*|\d{1,2}(?:\.\d{1,2})*\.?\s+)?(?P<label>[^:.;]{4,60}?)\s*[:.]?\s*$"
)
HEADING_CUTOFF = 90.0  # a whole short line must read as a label, not merely contain one
AGENCY_FIELDS = ("lead", "partners", "executors")
TIME_FIELDS = ("timeline",)
_KEYS = [(name, label) for name, labels in FIELD_LABELS.items() for label in labels]
_LABELS = [label for _, label in _KEYS]
# An optional bullet or letter/number label, then the field label, a colon and the value.
_FIELD = re.compile(r"^(?:[-–•+*]\s*|[a-zđ]\s*[).]\s*|\d{1,2}\.\s*)?(?P<label>[^:]{2,45}?)\s*:\s*(?P<value>.*)$")


def field_name(line: TextLine) -> tuple[str, int] | None:
    """('lead', offset of the value in the line) when the line is a known field.

    The label ends at the first colon, or at a later one within 60 characters when OCR put a
    stray colon inside the label (Don vi chu: tri thuc hien: …); the better-matching reading wins.
    """
    match = _FIELD.match(line.text)
    if not match:
        return None
    skip = match.start("label")
    best: tuple[float, str, int] | None = None
    for colon in [m.start() for m in re.finditer(":", line.text[:60])][:3]:
        head = to_letters(line.folded[skip:colon])
        label = " ".join(re.sub(r"[^a-z ]", " ", head).split())
        found = process.extractOne(label, _LABELS, scorer=fuzz.ratio, score_cutoff=75)
        if found and (best is None or found[1] > best[0]):
            value = colon + 1 + len(line.text[colon + 1 :]) - len(line.text[colon + 1 :].lstrip())
            best = (found[1], _KEYS[found[2]][0], value)
    return (best[1], best[2]) if best else None


def field_heading(line: TextLine) -> str | None:
    """The field a short line names on its own (3. Thời gian thực hiện; 2. Cơ quan chủ trì, phối
    hợp), its value on the following lines; None for any other line."""
    match = _HEADING_LABEL.match(line.text)
    if not match or len(match["label"].split()) > 8:
        return None
    start, end = match.span("label")
    label = " ".join(re.sub(r"[^a-z ]", " ", to_letters(line.folded[start:end])).split())
    found = process.extractOne(label, _LABELS, scorer=fuzz.ratio, score_cutoff=HEADING_CUTOFF)
    return _KEYS[found[2]][0] if found else None

"""Numbered items inside a section: tasks (with their fields) and assignments.

An item starts at a label (1., 4.1., a), đ)) that fits the running sequence, so a wrapped line
that happens to start with "2019." is not taken for one. Its own text runs to its first child;
in it, lines such as "- Đơn vị chủ trì thực hiện: …" are fields, matched fuzzily on the folded
label so "- Pon vi chu tri:" still counts.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from pipeline.document import AgencyMention, Assignment, Span, Task, Timeline
from pipeline.labels import arabic_label, next_letter
from pipeline.lexicon import Context, Lexicon
from pipeline.segment.fields import AGENCY_FIELDS, TIME_FIELDS, field_heading, field_name
from pipeline.segment.roles import (
    addressees,
    field_agencies,
    prose_roles,
    split_executors,
    tagged,
    without_opener,
)
from pipeline.segment.sections import ROMAN_LINE, upper_share
from pipeline.segment.text import TextLine, is_bullet
from pipeline.segment.timelines import find_deadline, parse_timeline

__all__ = ["Context", "Item", "find_items", "parse_assignments", "parse_tasks", "split_inline_tasks"]

_ARABIC = re.compile(r"^(?P<label>\d{1,2}(?:\.\d{1,2}){1,3})\.?\s+(?=\S)|^(?P<top>\d{1,2})\s*[.)]\s*(?=\S)")
_LETTER = re.compile(r"^(?P<label>[a-zđ])\s*\)\s*(?=\S)")
_BROKEN = re.compile(r"^[>»\]}|]\s*\.\s+(?=\S)")  # a digit OCR turned into a symbol (>. for 2.)
# "?" and "!" are left out: English-model OCR writes them for ữ and ẫ (lưu tri? → lưu trữ).
_UNKNOWN = Context()  # a text whose date and province are not known
_SENTENCE_END = re.compile(r"(?<=[^\s\d][.;:])\s+(?=\S)")
TITLE_CHARS = 160


@dataclass
class Item:
    """A numbered item: where it starts, its depth, its label path and its child items."""

    line: int
    label: str
    path: str
    level: int
    head_offset: int  # where the text after the label starts, in the segmented text
    flags: list[str] = field(default_factory=list)
    children: list[Item] = field(default_factory=list)
    end_line: int = 0  # exclusive


def find_items(lines: list[TextLine], end: int) -> list[Item]:
    """The item tree of a section's lines (each line's index is its position in the document)."""
    roots: list[Item] = []
    stack: list[Item] = []  # open arabic items, outermost first
    letters: dict[int, str | None] = {}  # id(parent or 0) → last letter under it
    numbers: dict[str, int] = {}  # parent path → last number under it
    for line in lines:
        if line.blank:
            continue
        flags = []
        match = _ARABIC.match(line.text)
        lookalike = None if match else arabic_label(line.text)
        if not match and numbers.get("") and (match := _BROKEN.match(line.text)):
            flags = ["label-repaired"]
        if lookalike:  # I. Nội dung: the 1. of an item, as OCR read it; only where the sequence expects it
            label, head = lookalike
            parts = label.split(".")
            if int(parts[-1]) != numbers.get(".".join(parts[:-1]), 0) + 1:
                continue
            match, flags = None, ["label-repaired"]
        if match or lookalike:
            if match:
                label = match.groupdict().get("label") or match.groupdict().get("top") or str(numbers[""] + 1)
                head = match.end()
            parts = label.split(".")
            parent = ".".join(parts[:-1])
            open_paths = {item.path for item in stack if not item.path[-1].isalpha()}
            if parent and parent not in open_paths:
                continue
            number, last = int(parts[-1]), numbers.get(parent, 0)
            if not (number == last + 1 or (last and number == last + 2) or (not last and number == 1)):
                continue
            numbers[parent] = number
            while stack and (stack[-1].path[-1].isalpha() or stack[-1].path.count(".") >= len(parts) - 1):
                stack.pop()
            item = Item(line.index, ".".join(parts), ".".join(parts), len(stack) + 1, line.start + head, flags)
        elif match := _LETTER.match(line.text):
            while stack and stack[-1].path[-1].isalpha():
                stack.pop()
            key = id(stack[-1]) if stack else 0
            letter = next_letter(letters.get(key), match["label"])
            if letter is None:
                continue
            letters[key] = letter
            path = f"{stack[-1].path}.{letter}" if stack else letter
            item = Item(line.index, letter, path, len(stack) + 1, line.start + match.end())
            if letter != match["label"]:
                item.flags.append("label-repaired")
        else:
            continue
        (stack[-1].children if stack else roots).append(item)
        stack.append(item)
    _close(roots, end)
    return roots


def _close(items: list[Item], end: int) -> None:
    for k, item in enumerate(items):
        item.end_line = items[k + 1].line if k + 1 < len(items) else end
        _close(item.children, item.end_line)


@dataclass
class _Parts:
    title: list[tuple[int, int]] = field(default_factory=list)  # spans of the title lines
    fields: dict[str, tuple[int, int]] = field(default_factory=dict)  # field → value span
    body: list[tuple[int, int]] = field(default_factory=list)


def _is_field(line: TextLine) -> bool:
    return field_name(line) is not None or field_heading(line) is not None


def _own_lines(item: Item, lines: list[TextLine]) -> tuple[list[TextLine], list[Item]]:
    """The item's own lines and its real children. A lettered child that is a field
    (b) Cơ quan thực hiện:) is not a subtask: its lines are the parent's."""
    children = [child for child in item.children if not _is_field(lines[child.line])]
    taken = [range(child.line, child.end_line) for child in children]
    own = [line for line in lines[item.line + 1 : item.end_line] if not any(line.index in r for r in taken)]
    return own, children


# Bullet depth as plans nest them: - outside, + inside (- Nghị định …, + Cơ quan chủ trì: …).
_DEPTH = {"-": 1, "–": 1, "•": 1, "+": 2, "*": 2, "·": 2}


def _depth(line: TextLine) -> int | None:
    return _DEPTH.get(line.text[0]) if is_bullet(line) else None


def _units(own: list[TextLine]) -> tuple[list[TextLine], list[tuple[int, TextLine, list[TextLine]]]]:
    """Dash units: a bullet line followed by role or time fields written one level down
    (- Nghị định …, then + Cơ quan chủ trì: …). Returns the parent's remaining lines and the
    units as (k, unit line, its lines), k counting the parent's non-field lines of that bullet."""
    content = [line for line in own if not line.blank]
    units, used = [], set()
    counts: dict[int, int] = {}
    for i, line in enumerate(content):
        depth = _depth(line)
        if depth is None or field_name(line) is not None:
            continue
        counts[depth] = counts.get(depth, 0) + 1
        end = next((j for j in range(i + 1, len(content)) if (_depth(content[j]) or 0) and _depth(content[j]) <= depth),
                   len(content))  # fmt: skip
        body = content[i + 1 : end]
        names = [found[0] for x in body if (found := field_name(x))]
        if any(name in (*AGENCY_FIELDS, *TIME_FIELDS) for name in names):
            units.append((counts[depth], line, body))
            used |= {line.index, *(x.index for x in body)}
    return [line for line in own if line.index not in used], units


def _parts(head: tuple[int, int], own: list[TextLine], text: str) -> _Parts:
    """Split a task's own lines into title, fields and other text."""
    parts = _Parts(title=[head])
    state, current, listing = "title", None, None
    for line in own:
        if line.blank:
            state, current = "body", None
            continue
        found = field_name(line)
        if found is None and (heading := field_heading(line)):
            found = (heading, len(line.text))  # 3. Thời gian thực hiện — the value follows
        if found:
            name, offset = found
            current = name
            parts.fields[name] = (line.start + offset, line.end)
            state = "field"
            listing = name if offset >= len(line.text.rstrip()) else None  # 'Đơn vị phối hợp:' then a list
        elif listing and (is_bullet(line) or not _starts_block(line)):
            start = parts.fields[listing][0]
            empty = not text[start : line.start].strip()
            parts.fields[listing] = (line.start if empty else start, line.end)
            if not is_bullet(line):
                listing = None  # one paragraph of value
        elif is_bullet(line):
            state, current, listing = "body", None, None
            parts.body.append((line.start, line.end))
        elif state == "field" and current and not _starts_block(line):
            parts.fields[current] = (parts.fields[current][0], line.end)
        elif state == "title" and _continues_title(text[parts.title[-1][0] : parts.title[-1][1]], line):
            parts.title.append((line.start, line.end))
        else:
            state, listing = "body", None
            parts.body.append((line.start, line.end))
    return parts


def _starts_block(line: TextLine) -> bool:
    """A numbered line or a heading in capitals: a field's value does not run on into it."""
    if _ARABIC.match(line.text) or _LETTER.match(line.text) or ROMAN_LINE.match(line.text):
        return True
    return upper_share(line.text) >= 0.7 and len(line.text.split()) >= 2


def _continues_title(previous: str, line: TextLine) -> bool:
    """A wrapped title line: it starts in lower case, or the previous line ran to the margin."""
    if line.text[0].islower():
        return True
    return len(previous) >= 65 and not previous.rstrip().endswith((".", ":", ";", "!", "?"))


def short_title(text: str) -> str:
    """The first sentence, at most TITLE_CHARS characters (cut at a word)."""
    text = " ".join(text.split())
    first = _SENTENCE_END.split(text, maxsplit=1)[0].rstrip(" .;:")
    if len(first) > TITLE_CHARS:
        first = first[:TITLE_CHARS].rsplit(" ", 1)[0] + " …"
    return first


def _value(text: str, span: tuple[int, int]) -> str:
    return " ".join(text[span[0] : span[1]].split()).rstrip(" .;")


def _distinct(mentions: list[AgencyMention]) -> list[AgencyMention]:
    """One mention per body: prose names the same partner in several sentences."""
    seen: set[str | None] = set()
    return [m for m in mentions if not (m.canonical in seen or seen.add(m.canonical))]


def _named(mentions: list[AgencyMention]) -> list[AgencyMention]:
    """Catch-alls (các cơ quan, đơn vị có liên quan; địa phương) name nobody: left out."""
    return [m for m in mentions if m.kind != "catch-all"]


@dataclass
class _Filled:
    """What a task's parts say: its agencies by role, its timeline and its other fields."""

    leads: list[AgencyMention]
    partners: list[AgencyMention]
    executors: list[AgencyMention]
    timeline: Timeline | None
    target_group: str | None
    quantity: str | None


def _fill(parts: _Parts, text: str, lexicon: Lexicon, context: Context) -> _Filled:
    """Roles from field lines first, then from the title (agencies heading the item), then from
    prose; Đơn vị thực hiện leads when nobody is marked chủ trì."""
    head_start, head_end = parts.title[0][0], parts.title[-1][1]
    title = text[head_start:head_end]  # the title lines as written, so offsets stay exact
    where = {"as_of": context.as_of, "province": context.province}

    def agencies(role: str) -> list[AgencyMention]:
        if role not in parts.fields:
            return []
        start, end = parts.fields[role]
        return field_agencies(text[start:end], start, lexicon, **where)

    leads, partners, executors = agencies("lead"), agencies("partners"), agencies("executors")
    if executors and not leads:
        start, end = parts.fields["executors"]
        if marked := split_executors(text[start:end], start, lexicon, **where):
            leads, partners, executors = marked.leads, partners + marked.partners, []
    if not leads and 0 < title.find(":") <= 160:
        # "Đài Phát thanh và Truyền hình …, Báo …: tiếp tục …" names who leads the task.
        candidates = lexicon.split(title[: title.index(":")], head_start, **where)
        if candidates and all(m.status != "unknown" for m in candidates):
            leads = tagged(candidates, "heading")
    first_line = title.split("\n", 1)[0].strip(" .:;")
    if (
        not leads
        and lexicon.is_head(without_opener(first_line))
        and (heads := addressees(title, head_start, lexicon, **where))
    ):
        # "1. Sở Y tế", "6. Đề nghị A, B, C" — an item headed by agencies only: they carry it.
        if sum(len(m.text) for m in heads) >= 0.6 * len(first_line):
            leads = heads
    spans = parts.title + parts.body
    prose = [prose_roles(text[a:b], a, lexicon, **where, subject=k < 2) for k, (a, b) in enumerate(spans)]
    if not leads:
        leads = _distinct([m for roles in prose for m in roles.leads])
    if not partners:
        partners = _distinct([m for roles in prose for m in roles.partners])
    if executors and not leads:
        leads, executors = tagged(executors, "executors"), []
    if "timeline" in parts.fields:
        timeline: Timeline | None = parse_timeline(text[slice(*parts.fields["timeline"])])
    else:
        timeline = find_deadline("\n".join(text[a:b] for a, b in parts.title + parts.body))
    return _Filled(
        leads=_named(leads),
        partners=_named(partners),
        executors=_named(executors),
        timeline=timeline,
        target_group=_value(text, parts.fields["target"]) if "target" in parts.fields else None,
        quantity=_value(text, parts.fields["quantity"]) if "quantity" in parts.fields else None,
    )


def _task(item: Item, lines: list[TextLine], text: str, lexicon: Lexicon, context: Context = _UNKNOWN) -> Task:
    own, children = _own_lines(item, lines)
    own, units = _units(own)
    parts = _parts((item.head_offset, lines[item.line].end), own, text)
    filled = _fill(parts, text, lexicon, context)
    subtasks = []
    for k, head, body in units:  # - Nghị định …  + Cơ quan chủ trì: …  → <path>.-k
        offset = head.start + len(head.text) - len(head.text[1:].lstrip())
        unit = _fill(_parts((offset, head.end), body, text), text, lexicon, context)
        end = body[-1].end if body else head.end
        subtasks.append(
            Task(
                label=f"-{k}",
                path=f"{item.path}.-{k}",
                level=item.level + 1,
                title=short_title(text[offset : head.end]),
                span=Span(start=head.start, end=end),
                flags=["dash-unit"],
                **vars(unit),
            )
        )
    return Task(
        label=item.label,
        path=item.path,
        level=item.level,
        title=short_title(text[parts.title[0][0] : parts.title[-1][1]]),
        span=Span(start=lines[item.line].start, end=_last_end(lines, item.line, item.end_line)),
        flags=item.flags,
        subtasks=subtasks + [_task(child, lines, text, lexicon, context) for child in children],
        **vars(filled),
    )


def _last_end(lines: list[TextLine], first: int, end: int) -> int:
    for line in reversed(lines[first:end]):
        if not line.blank:
            return line.end
    return lines[first].end


def parse_tasks(
    items: list[Item], lines: list[TextLine], text: str, lexicon: Lexicon, context: Context = _UNKNOWN
) -> list[Task]:
    return [_task(item, lines, text, lexicon, context) for item in items]


def parse_assignments(
    items: list[Item], lines: list[TextLine], text: str, lexicon: Lexicon, context: Context = _UNKNOWN
) -> list[Assignment]:
    """'1. Sở Thông tin và Truyền thông: Chủ trì, …' → the agencies and their duties."""
    assignments = []
    for item in items:
        end = _last_end(lines, item.line, item.end_line)
        body = text[item.head_offset : end]
        first = body.split("\n\n", 1)[0]
        agencies = addressees(first, item.head_offset, lexicon, as_of=context.as_of, province=context.province)
        cut = max((m.span.end - item.head_offset for m in agencies if m.span), default=0)
        assignments.append(
            Assignment(
                label=item.label,
                agencies=_distinct(_named(agencies)),
                duties=" ".join(body[cut:].split()).lstrip(":,; "),
                span=Span(start=lines[item.line].start, end=end),
            )
        )
    return assignments


def split_inline_tasks(text: str, offset: int, make: Callable[[int, str, Span], Task]) -> list[Task]:
    """'… five key tasks, including: A; B; C.' → one task per item of the list."""
    tasks: list[Task] = []
    for match in re.finditer(r"[^;]+", text):
        piece = match.group()
        stripped = piece.strip(" .\n")
        if len(stripped) >= 3:
            start = offset + match.start() + (len(piece) - len(piece.lstrip(" \n")))
            tasks.append(make(len(tasks) + 1, stripped, Span(start=start, end=start + len(stripped))))
    return tasks

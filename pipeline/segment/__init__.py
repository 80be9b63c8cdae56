"""Segmentation: a plan's plain text → a Plan (metadata, sections, tasks, assignments, debris).

    from pipeline.segment import segment_text
    plan = segment_text(text)        # None when the text is not a plan

Pure: it takes a string and returns objects; every span is a character offset into that string
(for `convert`, Document.text). Running headers, web-page remains and signature noise are left
out of the structure and listed in Plan.debris.
"""

from __future__ import annotations

import re

from pipeline.document import AgencyMention, Debris, Plan, PlanMetadata, Section, Span, Task
from pipeline.lexicon import Lexicon, default_lexicon
from pipeline.segment.fields import AGENCY_FIELDS, field_name
from pipeline.segment.metadata import (
    HeaderFacts,
    closing_line,
    english_facts,
    find_head,
    find_province,
    issuer_in,
    parse_header,
    specialize,
    title_period,
    title_year,
)
from pipeline.segment.sections import TASK_KINDS, Heading, classify_heading, find_headings, settle_kinds
from pipeline.segment.tail import find_tail
from pipeline.segment.tasks import (
    Context,
    find_items,
    parse_assignments,
    parse_tasks,
    short_title,
    split_inline_tasks,
)
from pipeline.segment.text import TextLine, detect_language, find_debris, fold_line, split_lines
from pipeline.segment.timelines import parse_timeline

__all__ = ["detect_language", "iter_tasks", "parse_timeline", "segment_text"]

_PLAN_WORD = re.compile(r"k\S{1,2}\s*ho\S{0,2}ch|\bplan\b")


def iter_tasks(plan: Plan) -> list[tuple[Section, Task]]:
    """Every task of the plan, depth first, with its section."""
    found: list[tuple[Section, Task]] = []

    def walk(section: Section, tasks: list[Task]) -> None:
        for task in tasks:
            found.append((section, task))
            walk(section, task.subtasks)

    for section in plan.sections:
        walk(section, section.tasks)
    return found


def _last_end(lines: list[TextLine], first: int, end: int) -> int:
    return next((line.end for line in reversed(lines[first:end]) if not line.blank), lines[first].end)


def _subsections(section: Section, lines: list[TextLine], start: int, end: int) -> list[Section]:
    """Numbered sub-headings of a non-task section (1. Mục tiêu, 2. Yêu cầu)."""
    subsections = []
    for item in find_items(lines[start:end], end):
        if item.path.count(".") or len(lines[item.line].text) > 90:
            continue
        head = lines[item.line]
        kind = classify_heading(head.folded[item.head_offset - head.start :])
        subsections.append(
            Section(
                label=item.label,
                heading=short_title(head.text[item.head_offset - head.start :]),
                kind=section.kind if kind == "other" else kind,
                span=Span(start=head.start, end=_last_end(lines, item.line, item.end_line)),
            )
        )
    return subsections


def _section(
    heading: Heading, lines: list[TextLine], end: int, text: str, lexicon: Lexicon, context: Context
) -> Section:
    start = heading.line + 1
    section = Section(
        label=heading.label,
        heading=" ".join(heading.text.split()),
        kind=heading.kind,
        span=Span(start=lines[heading.line].start, end=_last_end(lines, heading.line, end)),
        flags=heading.flags,
    )
    region = lines[start:end]
    items = find_items(region, end)
    with_agencies = any((f := field_name(line)) and f[0] in AGENCY_FIELDS for line in region if not line.blank)
    if heading.kind == "implementation":
        section.assignments = parse_assignments(items, lines, text, lexicon, context)
    elif heading.kind in TASK_KINDS or with_agencies:
        section.tasks = parse_tasks(items, lines, text, lexicon, context)
        if not section.tasks and heading.inline:
            line = lines[heading.line]
            offset = line.start + line.text.rindex(heading.inline)

            def make(n: int, title: str, span: Span) -> Task:
                return Task(label=str(n), path=str(n), level=1, title=short_title(title), span=span,
                            flags=["label-inferred"])  # fmt: skip

            section.tasks = split_inline_tasks(heading.inline, offset, make)
    else:
        section.subsections = _subsections(section, lines, start, end)
    return section


def _issuer(header: HeaderFacts, preamble: list[TextLine], province: str | None, lexicon: Lexicon) -> str | None:
    """The body in the header. Under a parent body (UBND TỈNH X / SỞ Y TẾ) it is the lower one,
    the Sở, named with its province (Sở Y tế tỉnh X)."""
    issuer = None
    if header.issuer_fragments:
        joined = " ".join(header.issuer_fragments)
        parent, end = lexicon.leading(joined)
        below = lexicon.mention(joined[end:], candidates=False) if parent and joined[end:].strip() else None
        whole = lexicon.mention(joined, candidates=False)
        last = lexicon.mention(header.issuer_fragments[-1], candidates=False)
        ranked = [m for m in (below, whole, last) if m is not None and m.status == "matched"]
        issuer = ranked[0].canonical if ranked else None
    issuer = issuer or issuer_in(preamble, lexicon)
    return specialize(issuer, province, lexicon) if issuer else None


def _mentions(plan: Plan) -> list[AgencyMention]:
    found = [m for _, task in iter_tasks(plan) for m in (*task.leads, *task.partners, *task.executors)]
    found += [m for section in plan.sections for a in section.assignments for m in a.agencies]
    return found


def segment_text(text: str, lexicon: Lexicon | None = None) -> Plan | None:
    """The plan in `text`, or None when the text is not a plan (no plan title, no structure)."""
    lexicon = lexicon or default_lexicon()
    raw_lines = split_lines(text)
    debris_kinds = find_debris(raw_lines)
    lines = [TextLine(x.index, x.start, x.start, "", "") if x.index in debris_kinds else x for x in raw_lines]
    language = detect_language(text)
    head = find_head(lines, debris_kinds)
    headings = [h for h in find_headings(lines[head.body_start :], language) if h.line >= head.body_start]
    # The tail (Nơi nhận, signature) is the first one after the body starts; headings after it
    # belong to appendices. A decision with the plan attached has its tail before the plan.
    tail = find_tail(lines, headings[0].line + 1 if headings else head.body_start, debris_kinds)
    headings = [h for h in headings if h.line < tail.start]
    if headings and tail.start >= len(lines):
        tail = find_tail(lines, head.body_start, debris_kinds, end=headings[0].line)
    body_from = headings[-1].line + 1 if headings else head.body_start
    first_heading = headings[0].line if headings else tail.start
    preamble = [line for line in lines[head.body_start : first_heading] if not line.blank]

    plan_word = head.plan_word or any(_PLAN_WORD.search(line.folded) for line in preamble[:25])
    if not (plan_word and headings):
        return None

    header = parse_header(head.header, lexicon)
    if language == "en":
        facts = english_facts(text)
        header.number, header.date = header.number or facts.number, header.date or facts.date
    province = (
        find_province(head.header, lexicon)
        or (lexicon.province(header.place) if header.place else None)
        or find_province([line for line in lines if not line.blank], lexicon)
    )
    context = Context(as_of=header.date, province=province)
    settled = settle_kinds([h.kind for h in headings], [fold_line(h.text) for h in headings])
    for heading, kind in zip(headings, settled, strict=True):
        heading.kind = kind
    sections = []
    for k, heading in enumerate(headings):
        last = tail.start if tail.start > heading.line else len(lines)
        end = headings[k + 1].line if k + 1 < len(headings) else closing_line(lines, body_from, last)
        sections.append(_section(heading, lines, end, text, lexicon, context))
    known_kinds = {s.kind for s in sections} - {"other", "recipients"}
    if len(known_kinds) < 2 and not any(s.tasks for s in sections):
        return None
    if tail.recipients_span:
        start, end = tail.recipients_span
        sections.append(Section(heading=tail.recipients_heading, kind="recipients", span=Span(start=start, end=end)))

    metadata = PlanMetadata(
        number=header.number,
        title=head.title,
        place=header.place,
        date=header.date,
        province=province,
        issuing_body=_issuer(header, preamble, province, lexicon),
        year=title_year(head.title, header.date),
        period=title_period(head.title),
        signer=tail.signer,
        recipients=tail.recipients,
    )
    debris = [Debris(kind=kind, text=raw_lines[i].text, span=Span(start=raw_lines[i].start, end=raw_lines[i].end))
              for i, kind in sorted(debris_kinds.items())]  # fmt: skip
    debris += [Debris(kind="signature-noise", text=text[a:b], span=Span(start=a, end=b)) for a, b in tail.noise]
    plan = Plan(language=language, metadata=metadata, sections=sections, debris=debris)
    unknown = [m for m in _mentions(plan) if m.status == "unknown"]
    if unknown:
        plan.warnings = [f"{len(unknown)} agency mention(s) not in the lexicon; see their candidates"]
    return plan

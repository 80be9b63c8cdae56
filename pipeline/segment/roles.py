"""Roles written in prose: who leads (chủ trì) and who partners (phối hợp) a task when the plan
says so in a sentence instead of a field line.

The phrasings are data (ROLE_CUES); the code finds a cue, then reads the agencies on the side
the cue points to with Lexicon.leading, which only accepts known bodies and named categories.

    Sở X chủ trì, phối hợp với Sở Y và … thực hiện …   → lead X, partner Y
    Giao Sở X …; Đề nghị Ủy ban MTTQ …                 → lead X
    Sở X có trách nhiệm …                              → lead X
    Cơ quan thực hiện: Sở X chủ trì tham mưu …; Sở Y, Sở Z chủ động …  → lead X, partners Y, Z
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.document import AgencyMention
from pipeline.lexicon import Lexicon

__all__ = ["ROLE_CUES", "Roles", "addressees", "field_agencies", "prose_roles", "split_executors"]

# (role, where the agencies are relative to the cue, cue). "before": the sentence opens with
# the agencies, then the cue; "after": the cue, then the agencies.
ROLE_CUES: tuple[tuple[str, str, str], ...] = (
    ("lead", "before", r"(?:là cơ quan |là đơn vị )?chủ trì\b"),
    ("lead", "before", r"(?:có|chịu) trách nhiệm\b"),
    ("lead", "after", r"\b(?:giao(?: cho)?|đề nghị)\s+"),
    ("partners", "after", r"\bphối hợp(?: chặt chẽ)?(?: với)?\s+"),
)
_CUES = [(role, side, re.compile(cue, re.IGNORECASE)) for role, side, cue in ROLE_CUES]
# Words that open an item addressed to agencies: Giao Sở X …, Đề nghị Ủy ban MTTQ …
OPENER = re.compile(r"^\s*(?:giao(?: cho)?|đề nghị|yêu cầu)\s+", re.IGNORECASE)
_CLAUSE = re.compile(r"[^.;\n]+")
# An unknown piece with one of these is a sentence, not the name of a body.
_ACTION = re.compile(
    r"\b(?:chủ trì|phối hợp|thực hiện|triển khai|tham mưu|tổ chức|xây dựng|hướng dẫn|báo cáo|theo dõi|kiểm tra"
    r"|tiến hành|rà soát|gửi|tổng hợp|đề xuất|bảo đảm|đảm bảo|chỉ đạo|ban hành|thẩm định)\b",
    re.IGNORECASE,
)
_NAME_WORDS = 24  # an unknown body's name is not longer than this
_OPENERS = re.compile(r"^[\s\-–•+*]*(?:[a-zđ]\)\s*)?")


@dataclass
class Roles:
    leads: list[AgencyMention] = field(default_factory=list)
    partners: list[AgencyMention] = field(default_factory=list)


def _before(clause: str, cue_start: int, offset: int, lexicon: Lexicon, **context: str | None) -> list[AgencyMention]:
    """The agencies that make up the whole opening of the clause up to the cue."""
    opener = _OPENERS.match(clause)
    start = opener.end() if opener else 0
    prefix = clause[start:cue_start].rstrip(" ,")
    if not prefix:
        return []
    mentions, end = lexicon.leading(prefix, offset + start, **context)
    return mentions if mentions and end >= len(prefix) - 1 else []


def prose_roles(
    text: str, offset: int, lexicon: Lexicon, as_of: str | None = None, province: str | None = None
) -> Roles:
    """Leads and partners named by role cues in `text` (a task's own lines)."""
    roles = Roles()
    context = {"as_of": as_of, "province": province}
    for clause_match in _CLAUSE.finditer(text):
        clause, base = clause_match.group(), offset + clause_match.start()
        for role, side, cue in _CUES:
            for found in cue.finditer(clause):
                if side == "before":
                    mentions = _before(clause, found.start(), base, lexicon, **context)
                else:
                    mentions, _ = lexicon.leading(clause[found.end() :], base + found.end(), **context)
                target = roles.leads if role == "lead" else roles.partners
                known = {m.canonical for m in target}
                # Only bodies the lexicon knows: a phrase that merely looks collective names nobody.
                target += [m for m in mentions if m.canonical and m.canonical not in known]
    return roles


def split_executors(value: str, offset: int, lexicon: Lexicon, **context: str | None) -> Roles | None:
    """'X chủ trì tham mưu …; Y, Z chủ động …' in a Cơ quan thực hiện field → X leads, the rest
    partner. None when nobody in the field is marked chủ trì."""
    if not re.search(r"chủ trì", value):
        return None
    roles = prose_roles(value, offset, lexicon, **context)
    if not roles.leads:
        return None
    lead_names = {m.canonical for m in roles.leads}
    for piece in re.finditer(r"[^;\n]+", value):
        if re.search(r"chủ trì", piece.group()):
            continue
        mentions, _ = lexicon.leading(piece.group().lstrip(" -–+•"), offset + piece.start(), **context)
        roles.partners += [m for m in mentions if m.canonical not in lead_names]
    return roles


def _is_sentence(text: str) -> bool:
    return bool(_ACTION.search(text)) or len(text.split()) > _NAME_WORDS


def field_agencies(text: str, offset: int, lexicon: Lexicon, **context: str | None) -> list[AgencyMention]:
    """The agencies of a role field's value. A list of names is split as such (a body the
    lexicon lacks stays, flagged unknown); a value written as sentences (Bộ Công an tiến hành
    rà soát …; các bộ … rà soát …) gives the agencies each clause opens with."""
    listed = lexicon.split(text, offset, **context)
    if not any(m.status == "unknown" and _is_sentence(m.text) for m in listed):
        return listed
    found: list[AgencyMention] = []
    for piece in re.finditer(r"[^;\n+]+", text):
        clause = piece.group()
        lead = len(clause) - len(clause.lstrip(" -–•.,"))
        mentions, _ = lexicon.leading(clause[lead:], offset + piece.start() + lead, **context)
        found += [m for m in mentions if m.canonical]
    return found


def addressees(text: str, offset: int, lexicon: Lexicon, **context: str | None) -> list[AgencyMention]:
    """The agencies an item is addressed to, from its first line: '1. Sở Y tế', 'Giao Công an
    tỉnh chủ trì …', 'Đề nghị A, B và C'. A line that is only a list of bodies may hold bodies
    the lexicon lacks, as long as each starts like an agency name and one of them is known."""
    opener = OPENER.match(text)
    start = opener.end() if opener else 0
    line = text[start:].split("\n", 1)[0]
    whole = line.rstrip(" .:;")
    listed = lexicon.split(whole, offset + start, **context)
    known = [m for m in listed if m.canonical]
    if known and all(m.canonical or (lexicon.is_head(m.text) and not _is_sentence(m.text)) for m in listed):
        return listed
    mentions, _ = lexicon.leading(line, offset + start, **context)
    return [m for m in mentions if m.canonical]

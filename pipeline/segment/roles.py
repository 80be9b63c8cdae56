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
from pipeline.segment.text import fold_line

__all__ = [
    "ROLE_CUES",
    "Roles",
    "addressees",
    "field_agencies",
    "prose_roles",
    "split_executors",
    "tagged",
    "without_opener",
]

# (role, where the agencies are relative to the cue, cue). "before": the sentence opens with
# the agencies, then the cue; "after": the cue, then the agencies. Cues are matched on the
# folded text (no marks, lower case; fold_line keeps offsets), loosely enough for what an
# English OCR model makes of them (phéi hop véi, cht tri).
ROLE_CUES: tuple[tuple[str, str, str], ...] = (
    ("lead", "before", r"(?:la co quan |la don vi )?ch[a-z]{1,2}\s+tr[a-z]{1,2}\b"),  # chủ trì
    ("lead", "before", r"\b(?:c\S|ch\S{1,2}u)\s+tr\S{1,2}ch\s+nh\S{1,3}m\b"),  # có / chịu trách nhiệm
    ("lead", "after", r"\b(?:giao(?: cho)?|de nghi)\s+"),
    # phối hợp (chặt chẽ) (với)
    ("partners", "after", r"\bph\S{1,2}i\s+h\S{1,2}p(?:\s+ch\S{1,2}t\s+ch\S{1,2})?(?:\s+v\S{1,2}i)?\s+"),
)
_CUES = [(role, side, re.compile(cue)) for role, side, cue in ROLE_CUES]
_LEAD_CUE = _CUES[0][2]
# Words that open an item addressed to agencies: Giao Sở X …, Đề nghị Ủy ban MTTQ …, Căn cứ Kế
# hoạch này, các sở … (folded).
OPENER = re.compile(r"^\s*(?:giao(?: cho)?|de nghi|yeu cau|can cu [^,:;]{1,60},)\s+")
# The head of a body, written for the body: Bộ trưởng Bộ Công an, Giám đốc Sở Y tế, Chủ tịch UBND tỉnh.
HEAD_TITLES = re.compile(
    r"\b(?:bo truong|thu truong|chu tich|giam doc|chanh van phong|truong ban|cuc truong|tong giam doc|vien truong)"
    r"\s+(?=(?:cac\s+)?\S)"
)
_CLAUSE = re.compile(r"[^.;\n]+")
# An adverbial phrase before a clause's subject (folded): Trên cơ sở …, Căn cứ …, Sau khi …, Theo …,
_ADVERBIAL = re.compile(r"(?:tren co so|can cu|sau khi|theo)\b[^,]{0,150},\s*")
_LIST_CUT = re.compile(r",\s*|\s+và\s+")
# An unknown piece with one of these (folded) is a sentence, not the name of a body.
_ACTION = re.compile(
    r"\b(?:chu tri|phoi hop|thuc hien|trien khai|tham muu|to chuc|xay dung|huong dan|bao cao|theo doi|kiem tra"
    r"|tien hanh|ra soat|gui|tong hop|de xuat|bao dam|dam bao|chi dao|ban hanh|tham dinh"
    r"|can cu|co trach nhiem)\b"  # Căn cứ Kế hoạch này, …; … có trách nhiệm …: clauses, not names
)
# Verbs a clause's subject does when it carries the task (Sở Tài chính thẩm định …), besides _ACTION.
_DOING = re.compile(
    r"(?:chu dong|tiep tuc|tang cuong|day manh|khan truong|lap|cung cap|ho tro|tuyen truyen|don doc|phe duyet)\b"
)
_NAME_WORDS = 24  # an unknown body's name is not longer than this
_MAX_BEFORE = 6  # list pieces looked at before a cue (A, B, C và D chủ trì)
_MAX_LIST = 300  # characters of a line that can be a list of bodies
_OPENERS = re.compile(r"^[\s\-–•+*]*(?:[a-zđ]\)\s*)?")


def tagged(mentions: list[AgencyMention], rule: str) -> list[AgencyMention]:
    """The mentions with the rule that found them (AgencyMention.rule)."""
    return [m.model_copy(update={"rule": rule}) for m in mentions]


@dataclass
class Roles:
    leads: list[AgencyMention] = field(default_factory=list)
    partners: list[AgencyMention] = field(default_factory=list)


def _before(clause: str, cue_start: int, offset: int, lexicon: Lexicon, **context: str | None) -> list[AgencyMention]:
    """The agencies just before the cue: the longest run of whole names that ends at it
    (Trên cơ sở đề nghị của …, Sở Xây dựng chủ trì → Sở Xây dựng)."""
    opener = _OPENERS.match(clause)
    first = opener.end() if opener else 0
    prefix = clause[:cue_start].rstrip(" ,")
    starts = ([first] + [m.end() for m in _LIST_CUT.finditer(prefix, first)])[-_MAX_BEFORE:]
    for start in starts:
        if start >= len(prefix):
            break
        mentions, end = lexicon.leading(prefix[start:], offset + start, **context)
        if mentions and all(m.canonical for m in mentions) and start + end >= len(prefix) - 1:
            return mentions
    return []


def _subject(clause: str, offset: int, lexicon: Lexicon, **context: str | None) -> list[AgencyMention]:
    """A clause that opens with bodies doing something (Sở Tài chính thẩm định …), after an
    adverbial phrase if any (Trên cơ sở đề nghị của …, Sở Tài chính thẩm định …): its subject."""
    opener = _OPENERS.match(clause)
    start = opener.end() if opener else 0
    if adverbial := _ADVERBIAL.match(fold_line(clause[start:])):
        start += adverbial.end()
    if not lexicon.is_head(clause[start:]):
        return []
    mentions, end = lexicon.leading(clause[start:], offset + start, **context)
    rest = clause[start + end :].lstrip(" ,")
    if mentions and all(m.canonical and m.kind not in ("collective", "catch-all") for m in mentions):
        if _ACTION.match(fold_line(rest)) or _DOING.match(fold_line(rest)):
            return mentions
    return []


def prose_roles(
    text: str,
    offset: int,
    lexicon: Lexicon,
    as_of: str | None = None,
    province: str | None = None,
    subject: bool = False,
) -> Roles:
    """Leads and partners named by role cues in `text` (a task's own lines); with `subject`,
    the bodies the first clause opens with lead when no cue names a lead."""
    roles = Roles()
    context = {"as_of": as_of, "province": province}
    clauses = list(_CLAUSE.finditer(text))
    for clause_match in clauses:
        clause, base = clause_match.group(), offset + clause_match.start()
        folded = fold_line(clause)
        for role, side, cue in _CUES:
            for found in cue.finditer(folded):
                if side == "before":
                    mentions = _before(clause, found.start(), base, lexicon, **context)
                else:
                    mentions, _ = lexicon.leading(clause[found.end() :], base + found.end(), **context)
                target = roles.leads if role == "lead" else roles.partners
                known = {m.canonical for m in target}
                # Only bodies the lexicon knows: a phrase that merely looks collective names nobody.
                target += tagged([m for m in mentions if m.canonical and m.canonical not in known], "prose")
    if subject and not roles.leads and clauses:
        roles.leads = tagged(_subject(clauses[0].group(), offset + clauses[0].start(), lexicon, **context), "subject")
    return roles


def split_executors(value: str, offset: int, lexicon: Lexicon, **context: str | None) -> Roles | None:
    """'X chủ trì tham mưu …; Y, Z chủ động …' in a Cơ quan thực hiện field → X leads, the rest
    partner. None when nobody in the field is marked chủ trì."""
    if not _LEAD_CUE.search(fold_line(value)):
        return None
    roles = prose_roles(value, offset, lexicon, **context)
    if not roles.leads:
        return None
    lead_names = {m.canonical for m in roles.leads}
    for piece in re.finditer(r"[^;\n]+", value):
        if _LEAD_CUE.search(fold_line(piece.group())):
            continue
        mentions, _ = lexicon.leading(piece.group().lstrip(" -–+•"), offset + piece.start(), **context)
        roles.partners += [m for m in mentions if m.canonical not in lead_names]
    return Roles(tagged(roles.leads, "field"), tagged(roles.partners, "field"))


def _is_sentence(text: str) -> bool:
    return bool(_ACTION.search(fold_line(text))) or len(text.split()) > _NAME_WORDS


def field_agencies(text: str, offset: int, lexicon: Lexicon, **context: str | None) -> list[AgencyMention]:
    """The agencies of a role field's value. A list of names is split as such (a body the
    lexicon lacks stays, flagged unknown); a value written as sentences (Bộ Công an tiến hành
    rà soát …; các bộ … rà soát …) gives the agencies each clause opens with."""
    listed = lexicon.split(text, offset, **context)
    if not any(m.status == "unknown" and _is_sentence(m.text) for m in listed):
        return tagged(listed, "field")
    found: list[AgencyMention] = []
    for piece in re.finditer(r"[^;\n+]+", text):
        clause = piece.group()
        lead = len(clause) - len(clause.lstrip(" -–•.,"))
        mentions, _ = lexicon.leading(clause[lead:], offset + piece.start() + lead, **context)
        found += [m for m in mentions if m.canonical]
    return tagged(found, "field")


def without_opener(text: str) -> str:
    """The text after an opener such as Giao or Đề nghị (the agencies it is addressed to)."""
    opener = OPENER.match(fold_line(text))
    return text[opener.end() :] if opener else text


def _blank_titles(text: str) -> str:
    """Heads of bodies stand for their bodies (Bộ trưởng Bộ Công an → Bộ Công an): their titles
    and openers such as Đề nghị are blanked out, keeping every offset."""
    folded = fold_line(text)
    spans = [m.span() for m in (OPENER.match(folded), *HEAD_TITLES.finditer(folded)) if m]
    for a, b in spans:
        text = text[:a] + " " * (b - a) + text[b:]
    return text


def addressees(text: str, offset: int, lexicon: Lexicon, **context: str | None) -> list[AgencyMention]:
    """The agencies an item is addressed to, from its first line: '1. Sở Y tế', '2. Sở X: …',
    'Giao Công an tỉnh chủ trì …', 'Đề nghị A, B và C', 'Bộ trưởng Bộ Công an có trách nhiệm …'.
    A line that is only a list of bodies may hold bodies the lexicon lacks, as long as each
    starts like an agency name and one of them is known."""
    return tagged(_addressees(text, offset, lexicon, **context), "heading")


def _heading(text: str, lexicon: Lexicon, **context: str | None) -> str:
    """An item's first line, and the next one too when a line break of the page cut the name
    the first line ends with (Hội Liên hiệp | Phụ nữ tỉnh): its last piece is no known body,
    and with the next line it starts one that goes on past the break. The newline becomes a
    space, so offsets stay those of the text."""
    first, newline, rest = text.partition("\n")
    if not newline or first.rstrip().endswith((".", ":", ";")):
        return first
    tail = first[max((m.end() for m in _LIST_CUT.finditer(first)), default=0) :].strip()
    if len(tail.split()) < 2 or lexicon.mention(tail, candidates=False, **context).status != "unknown":
        return first
    second = rest.split("\n", 1)[0]
    _, end = lexicon.leading(f"{tail} {second}", **context)
    return f"{first} {second}" if end > len(tail) + 1 else first


def _addressees(text: str, offset: int, lexicon: Lexicon, **context: str | None) -> list[AgencyMention]:
    line = _blank_titles(_heading(text, lexicon, **context))
    colon = line.find(":")
    if 0 < colon <= 200:
        head = line[:colon]
        if _LEAD_CUE.search(fold_line(head)):
            return prose_roles(head, offset, lexicon, **context).leads
        listed = lexicon.split(head, offset, **context)
        if any(m.canonical for m in listed) and not any(m.status == "unknown" and _is_sentence(m.text) for m in listed):
            return listed
    whole = line.rstrip(" .:;")
    if len(whole) <= _MAX_LIST:
        listed = lexicon.split(whole, offset, **context)
        known = [m for m in listed if m.canonical]
        if known and all(m.canonical or (lexicon.is_head(m.text) and not _is_sentence(m.text)) for m in listed):
            return listed
    if leads := prose_roles(line, offset, lexicon, **context).leads:
        return leads
    mentions, _ = lexicon.leading(line.lstrip(), offset + len(line) - len(line.lstrip()), **context)
    return [m for m in mentions if m.canonical]

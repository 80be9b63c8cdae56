"""The agency lexicon and fuzzy matching of agency mentions (rapidfuzz).

`corpora/agencies.tsv` (built by scripts/build_agency_lexicon.py) lists canonical names with
their kind, scope, aliases, abbreviations and English names, and templates that are expanded
once per province (Báo {tên} → Báo Thái Bình). Names and mentions are compared in a *folded*
form: no diacritics, lower case, abbreviations spelt out (UBND → ủy ban nhân dân), and the
look-alikes an English OCR model writes for Vietnamese letters mapped back (S& → so, d6i → doi).

Score: `fuzz.ratio` of the folded forms (normalised Indel similarity, 0..100), minus
HEAD_PENALTY when the first letters differ (Sở Y tế and Bộ Y tế are one letter apart and two
different bodies). A mention at THRESHOLD or above snaps to the entry; below it is `unknown`
and carries its nearest entries for review, unless it reads as a collective phrase
(các sở, ban, ngành …), which is `collective`. THRESHOLD is chosen in benchmarks/segment.md
on OCR-garbled lexicon names (recall) against held-out names (false snaps).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

from pipeline.agency_text import COLLECTIVE, LEVEL_WORDS, PLACE_TAILS, VERBS, fold, head_penalty, pieces, segments
from pipeline.document import AgencyCandidate, AgencyMention, Span
from pipeline.errors import ModelError
from pipeline.vietnamese import strip_diacritics

__all__ = ["DEFAULT_PATH", "THRESHOLD", "Context", "Entry", "Lexicon", "default_lexicon", "fold", "parse_lexicon"]

DEFAULT_PATH = Path(__file__).resolve().parents[1] / "corpora" / "agencies.tsv"
# The knee of the sweep in benchmarks/segment.md: OCR-garbled lexicon names found back 95 %,
# names missing from the lexicon wrongly snapped 11 % (82: 96 % / 21 %; 90: 92 % / 6 %).
THRESHOLD = 86.0
# A body no longer (or not yet) in force on the document's date matches only when spelt out.
VERBATIM = 97.0
LIMIT = 12  # fuzzy hits looked at per variant before the context filter
_GROUPS = ("collective", "catch-all")
MAX_GROUP = 8  # separators a single name may contain (Sở Văn hóa, Thể thao và Du lịch has 2)


@dataclass(frozen=True)
class Entry:
    canonical: str
    kind: str
    scope: str = ""
    aliases: tuple[str, ...] = ()
    english: tuple[str, ...] = ()
    province: str | None = None
    count: int = 0
    source: str = ""
    id: str = ""
    valid_from: str = ""  # ISO date; empty = always
    valid_to: str = ""
    successors: tuple[str, ...] = ()  # canonical names of what replaced it

    @property
    def names(self) -> tuple[str, ...]:
        return (self.canonical, *self.aliases, *self.english)

    def valid_on(self, day: str) -> bool:
        """In force on an ISO date (a year or month is taken at its start)."""
        return (not self.valid_from or day >= self.valid_from) and (not self.valid_to or day <= self.valid_to)


@dataclass(frozen=True)
class Context:
    """What a document tells about its mentions: its date (ISO) and its province or city."""

    as_of: str | None = None
    province: str | None = None


_NO_CONTEXT = Context()


@dataclass(frozen=True)
class _Match:
    entry: Entry | None
    score: float
    status: str
    by_wording: bool = False  # a collective recognised by its words, not by a lexicon entry


@dataclass
class Lexicon:
    """Agency entries (templates already expanded) and the provinces; matching is cached."""

    entries: list[Entry]
    provinces: list[Entry] = field(default_factory=list)

    def __post_init__(self) -> None:
        keys: dict[str, int] = {}
        for i, entry in enumerate(self.entries):
            for name in entry.names:
                key = fold(name)
                if len(key) >= 2:
                    keys.setdefault(key, i)
        self._keys = list(keys)
        self._owner = list(keys.values())
        self._key_owner = keys
        self._collective_keys = [k for k, i in keys.items() if self.entries[i].kind == "collective"]
        self._heads = {key.split()[0] for key in self._keys}
        self._province_keys: dict[str, Entry] = {}
        for province in self.provinces:
            for name in province.names:
                self._province_keys.setdefault(fold(name), province)
        self._by_canonical = {e.canonical: e for e in (*self.entries, *self.provinces)}
        self._match = lru_cache(maxsize=1 << 14)(self._match_uncached)

    # -- one name ---------------------------------------------------------------------------

    def _place_at_end(self, key: str) -> tuple[str | None, str]:
        """The province or city a name ends with (Sở Tài chính tỉnh Bình Dương), and the name without it."""
        words = key.split()
        for n in (4, 3, 2):
            if len(words) > n + 1 and (place := self.province(" ".join(words[-n:]))):
                return place, " ".join(words[:-n])
        return None, key

    def _variants(self, key: str, level: str | None = None) -> list[tuple[str, float]]:
        """The key and its other readings, each with what it costs: the key without a trailing
        place (Sở Tài chính tỉnh Bình Dương) or level (Hội Cựu chiến binh các cấp), a point; in a
        province's plan, a name that says no level read as the province's (Hội Nông dân → Hội
        Nông dân tỉnh; `level`: tỉnh, or thành phố in a city's), two points, so that a name
        matched as written wins."""
        place, shorter = self._place_at_end(key)
        variants = [key] + ([shorter] if place else [])
        for variant in list(variants):
            shorter = PLACE_TAILS.sub("", variant)
            if shorter != variant and len(shorter.split()) >= 2:
                variants.append(shorter)
        costed = [(variant, 1.0 if n else 0.0) for n, variant in enumerate(variants)]
        if level and not place and len(key.split()) >= 2 and not LEVEL_WORDS.search(key):
            costed.append((f"{key} {level}", 2.0))
        return costed

    def _level(self, province: str | None) -> str | None:
        place = self._by_canonical.get(province) if province else None
        return fold(_level_word(place)) if place else None

    def _allowed(self, entry: Entry, key: str, score: float, context: Context) -> bool:
        """Never snap to another province's or city's body: a place-bound entry is allowed only
        for the document's own place or a place the mention itself names. An entry not in force
        on the document's date is allowed only when the mention spells it out."""
        if entry.province and entry.province != context.province:
            named = f" {fold(entry.province)} " in f" {key} " or self._place_at_end(key)[0] == entry.province
            if not named:
                return False
        if context.as_of and not entry.valid_on(context.as_of):
            return score >= VERBATIM
        return True

    def _scores(self, key: str, cutoff: float, limit: int, context: Context = _NO_CONTEXT) -> list[tuple[float, int]]:
        best: dict[int, float] = {}
        for variant, cost in self._variants(key, self._level(context.province)):
            for found, score, index in process.extract(
                variant, self._keys, scorer=fuzz.ratio, limit=limit, score_cutoff=cutoff
            ):
                owner = self._owner[index]
                if not self._allowed(self.entries[owner], key, score, context):
                    continue
                score = score - head_penalty(variant, found) - cost
                best[owner] = max(best.get(owner, 0.0), score)
        return sorted(((s, i) for i, s in best.items()), reverse=True)

    def _match_uncached(self, key: str, context: Context = _NO_CONTEXT) -> _Match:
        if sum(c.isalpha() for c in key) < 4:
            return _Match(None, 0.0, "unknown")
        ranked = self._scores(key, THRESHOLD, limit=LIMIT, context=context)
        if ranked and ranked[0][0] >= THRESHOLD:
            entry = self.entries[ranked[0][1]]
            return _Match(entry, ranked[0][0], "collective" if entry.kind in _GROUPS else "matched")
        if COLLECTIVE.search(key) and not VERBS.search(key) and len(key.split()) <= 16:
            found = process.extractOne(key, self._collective_keys, scorer=fuzz.partial_ratio, score_cutoff=85)
            entry = self.entries[self._key_owner[found[0]]] if found else None
            return _Match(entry, found[1] if found else 0.0, "collective", by_wording=True)
        return _Match(None, ranked[0][0] if ranked else 0.0, "unknown")

    def nearest(self, text: str, n: int = 3) -> list[AgencyCandidate]:
        """The n closest entries, for a reviewer deciding what an unknown mention is."""
        return [
            AgencyCandidate(name=self.entries[i].canonical, score=round(max(s, 0.0), 1))
            for s, i in self._scores(fold(text), 40.0, limit=10)[:n]
        ]

    def entry(self, canonical: str) -> Entry | None:
        """The entry (or province) of a canonical name."""
        return self._by_canonical.get(canonical)

    def place_entry(self, name: str) -> Entry | None:
        """The province or city entry of a canonical place name."""
        entry = self._by_canonical.get(name)
        return entry if entry is not None and entry.kind in ("province", "city") else None

    def successors_today(self, entry: Entry) -> list[str]:
        """The names in force today that replaced `entry` (transitively); [] while it exists."""
        today, seen, todo = [], set(), list(entry.successors)
        while todo:
            name = todo.pop(0)
            if name in seen:
                continue
            seen.add(name)
            follower = self._by_canonical.get(name)
            if follower is not None and follower.valid_to:
                todo += follower.successors
            else:
                today.append(name)
        return today

    def mention(
        self,
        text: str,
        span: Span | None = None,
        candidates: bool = True,
        as_of: str | None = None,
        province: str | None = None,
    ) -> AgencyMention:
        """One agency name as written → its canonical form, score and status (and, when
        unknown, its nearest entries unless candidates=False).

        `as_of` (the document's ISO date) and `province` (its province or city) are the
        context: the name in force at that date is preferred, today's successor is reported,
        and the mention never snaps to a body of another place it does not name."""
        m = self._match(fold(text), Context(as_of, province))
        text = " ".join(text.split())
        return AgencyMention(
            text=text,
            span=span,
            canonical=m.entry.canonical if m.entry else None,
            kind=m.entry.kind if m.entry else None,
            scope=(m.entry.scope or None) if m.entry else None,
            score=round(max(0.0, min(m.score, 100.0)), 1),
            status=m.status,
            candidates=self.nearest(text) if m.status == "unknown" and candidates else [],
            entity_id=m.entry.id or None if m.entry else None,
            successors=self.successors_today(m.entry) if m.entry else [],
        )

    def province(self, text: str) -> str | None:
        """The province or city a short text names (Binh Dwong → Bình Dương), or None."""
        key = fold(text)
        if len(key.split()) < 2 and key not in self._province_keys:
            return None
        found = process.extractOne(key, list(self._province_keys), scorer=fuzz.ratio, score_cutoff=86)
        return self._province_keys[found[0]].canonical if found else None

    # -- lists of names ---------------------------------------------------------------------

    def _quality(self, text: str, context: Context) -> float:
        """How good a group is as one agency: > 0 for a known body, < 0 for an unknown one."""
        m = self._match(fold(text), context)
        if m.status == "unknown":
            return -1.0
        if m.by_wording:
            return 0.3
        return 0.2 + (m.score - THRESHOLD) / (100.0 - THRESHOLD)

    def is_head(self, text: str) -> bool:
        """The text starts with a word agency names start with (Sở, Ban, Ủy ban, các …)."""
        words = fold(text).split()
        return bool(words) and (words[0] in self._heads or (len(words[0]) <= 2 and words[0][0] in "sbdp"))

    def split(
        self,
        text: str,
        offset: int = 0,
        as_of: str | None = None,
        province: str | None = None,
        candidates: bool = True,
    ) -> list[AgencyMention]:
        """A list of agencies → one mention each, keeping names that contain ',' or 'và' whole.

        Dynamic programming over the pieces between separators: every grouping of adjacent
        pieces is scored by how well it matches one entry, so Sở Văn hóa, Thể thao và Du lịch
        stays one name while Sở Tài chính, Sở Nội vụ becomes two.
        """
        mentions = []
        # ';' separates list items; so does ':' (OCR often reads ';' as ':').
        for start, end in pieces(text, ";:"):
            parts = segments(text, start, end)
            for i, j in self._groups(text, parts, Context(as_of, province)):
                a, b = parts[i][0], parts[j - 1][1]
                span = Span(start=offset + a, end=offset + b)
                mentions.append(self.mention(text[a:b], span, candidates, as_of, province))
        return mentions

    def _groups(self, text: str, segments: list[tuple[int, int]], context: Context) -> list[tuple[int, int]]:
        n = len(segments)
        best: list[tuple[float, int]] = [(0.0, -1)] + [(float("-inf"), -1)] * n
        for j in range(1, n + 1):
            for i in range(max(0, j - MAX_GROUP), j):
                group = text[segments[i][0] : segments[j - 1][1]]
                utility = (j - i) * self._quality(group, context) + 0.01
                if i > 0 and not self.is_head(text[segments[i][0] : segments[i][1]]):
                    utility -= 0.5  # a list item starts with a head word (Sở, Ban, các …)
                if best[i][0] + utility > best[j][0]:
                    best[j] = (best[i][0] + utility, i)
        groups, j = [], n
        while j > 0:
            i = best[j][1]
            groups.append((i, j))
            j = i
        return groups[::-1]

    def leading(
        self, text: str, offset: int = 0, max_words: int = 30, as_of: str | None = None, province: str | None = None
    ) -> tuple[list[AgencyMention], int]:
        """The agencies a sentence starts with (Sở Tài chính cân đối …) and where they end.

        Tries every prefix up to the first ':' or '.', keeps those made only of known bodies
        and collectives, and picks the one covering most text with the best scores.
        """
        best: tuple[float, list[AgencyMention], int] = (0.0, [], 0)
        for k, word in enumerate(re.finditer(r"\S+", text)):
            if k >= max_words:
                break
            end = word.start() + len(word.group().rstrip(",;:."))
            mentions = self.split(text[:end], offset, as_of, province, candidates=False)  # only known ones are kept
            if mentions and all(m.status != "unknown" for m in mentions):
                value = sum(len(m.text) * self._quality(m.text, Context(as_of, province)) for m in mentions)
                if value > best[0]:
                    best = (value, mentions, end)
            if word.group().endswith((":", ".")):
                break
        return best[1], best[2]


def _split_names(field_: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in field_.split(";") if part.strip())


def parse_lexicon(text: str) -> Lexicon:
    """Parse agencies.tsv text; templates ({tỉnh}, {tên}, {en}) are expanded per province."""
    rows = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("canonical\t"):
            continue
        cells = (line.split("\t") + [""] * 11)[:11]
        canonical, kind, scope, aliases, english, count, source, id_, valid_from, valid_to, successors = cells
        names = _split_names(aliases), _split_names(english)
        rows.append(Entry(canonical, kind, scope, *names, count=int(count or 0), source=source, id=id_,
                          valid_from=valid_from, valid_to=valid_to, successors=_split_names(successors)))  # fmt: skip
    provinces = [e for e in rows if e.kind in ("province", "city")]
    entries = []
    for entry in rows:
        if entry.kind in ("province", "city"):
            continue
        if "{" not in entry.canonical:
            entries.append(entry)
            continue
        by_name = {province.canonical: province for province in provinces}
        for province in provinces:
            entries.append(_expand(entry, province, [by_name[name] for name in province.successors]))
    return Lexicon(entries=entries, provinces=provinces)


def _level_word(place: Entry) -> str:
    """How a province's own bodies name their level: tỉnh, or thành phố for a centrally-run city."""
    return "thành phố" if place.kind == "city" else "tỉnh"


def _expand(template: Entry, province: Entry, successors: list[Entry]) -> Entry:
    """Báo {tên} for one province; it lives as long as the province, then its successor's takes over."""

    def fill(name: str, place: Entry = province) -> str:
        values = {"{tỉnh}": f"{_level_word(place)} {place.canonical}", "{tên}": place.canonical}
        values["{en}"] = strip_diacritics(place.canonical)
        for slot, value in values.items():
            name = name.replace(slot, value)
        return name

    return Entry(
        canonical=fill(template.canonical),
        kind=template.kind,
        scope=template.scope,
        aliases=tuple(fill(a) for a in template.aliases),
        english=tuple(fill(e) for e in template.english),
        province=province.canonical,
        source=template.source,
        id=f"{template.id}@{province.id}",
        valid_from=province.valid_from,
        valid_to=province.valid_to,
        successors=tuple(fill(template.canonical, place) for place in successors),
    )


@lru_cache(maxsize=4)
def default_lexicon(path: Path = DEFAULT_PATH) -> Lexicon:
    """The lexicon shipped in corpora/agencies.tsv (read once per process)."""
    try:
        return parse_lexicon(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ModelError(
            f"cannot read the agency lexicon: {exc.strerror or exc}",
            path=path,
            advice="Restore corpora/agencies.tsv from git, or rebuild it: scripts/build_agency_lexicon.py.",
        ) from exc

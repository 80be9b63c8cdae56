"""Token-right features of what happened around a token: what the vie correction and restore did
to it and to its line, odd characters and punctuation, and where its line is on the page.

The first token-right features (restore/token_right.py) describe the token as it stands; these
add what the pipeline knows of how it got there, and cues of misread punctuation that hold in
any plan (a full stop before a lower-case word, an unpaired quote, a speck read before a word).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from pipeline.restore.tokens import core_of
from pipeline.vietnamese import strip_diacritics

__all__ = ["CLIP", "CONTEXT_FEATURES", "TokenView", "clipped_logit", "context_features"]

# What correction and restore did around the token, odd characters, where its line is.
CONTEXT_FEATURES = (
    "vie_changed",  # the vie corrector changed the token (flag in-context)
    "marks_only",  # changed in its marks only (the same letters as read)
    "source_known",  # the core as read is a lexicon syllable
    "source_gap",  # log prior of the final core − that of the core as read, / 10, within ±3
    "odd_script",  # letters of no Latin script (Greek, Cyrillic) or symbols: specks read as glyphs
    "punct_run",  # two or more punctuation marks together (.., ,., ...): dots and commas misread
    "neighbour_changed",  # a neighbour was changed by correction or restore (errors come in runs)
    "line_changed",  # share of the line's other tokens changed
    "line_min_ocr",  # the lowest OCR logit of the line (6 without OCR)
    "line_tokens",  # tokens of the line, up to 20, / 20 (headings, letterhead, signatures are short)
    "rank",  # the line's rank among the first page's lines, up to 10, / 10 (1 on later pages): letterhead
    "lead_odd",  # a word after marks that open nothing (.Phường, -dụng, 'Trung, _tỉnh): a speck read as a mark
    "stop_lower",  # ends in . : ; ! ? before a lower-case word (chuyển. đổi): a stop inside a sentence
    "quote_odd",  # a single quote mark (’ ‘ ') or a double one the line leaves unpaired
)

CLIP = 6.0
_PUNCT_RUN = re.compile(r"[^\w\s]{2,}")
_OPENING = frozenset('([{“"«')  # marks a word may follow
_STOPS = frozenset(".:;!?")
_SINGLE_QUOTES = frozenset("’‘'")


def clipped_logit(p: float | None, default: float = 0.0) -> float:
    if p is None:
        return default
    return max(-CLIP, min(CLIP, math.log(max(p, 1e-3) / max(1 - p, 1e-3))))


@dataclass(frozen=True)
class TokenView:
    """What the features need of a token: its final text, whether restore changed it, its OCR
    confidence, its box (x0, y0, x1, y1) if OCR gave one, the text as read (None: unknown) and
    its flags (restore's and the vie corrector's marks)."""

    text: str
    changed: bool = False
    ocr: float | None = None
    box: tuple[int, int, int, int] | None = None
    source: str | None = None
    flags: tuple[str, ...] = ()


def _odd(c: str) -> bool:
    if c.isalpha():
        return not unicodedata.name(c, "").startswith("LATIN")
    return unicodedata.category(c) in ("So", "Co", "Cn")


def _lead_odd(text: str) -> bool:
    """Marks before the first letter or digit, one of which opens nothing."""
    lead = text[: len(text) - len(text.lstrip("".join(c for c in text if not c.isalnum())))]
    return len(lead) < len(text) and any(c not in _OPENING for c in lead)


def _starts_lower(text: str) -> bool:
    first = next((c for c in text if c.isalnum()), "")
    return first.isalpha() and first.islower()


@lru_cache(maxsize=1 << 16)
def _marks(text: str) -> tuple[str, float, float, float, bool, bool, bool, bool]:
    """What the features read of a token's text alone (cached: the same tokens recur on every
    page): its core in lower case, odd script, punctuation run, odd lead, whether it ends in a
    stop, starts lower case, has a single quote mark and a double one."""
    return (
        core_of(text).lower(),
        float(any(_odd(c) for c in text)),
        float(bool(_PUNCT_RUN.search(text))),
        float(_lead_odd(text)),
        text[-1:] in _STOPS,
        _starts_lower(text),
        any(c in _SINGLE_QUOTES for c in text),
        any(c in '“”"' for c in text),
    )


def context_features(line: Sequence[TokenView], lexicon: Mapping[str, float], rank: int | None) -> np.ndarray:
    """[tokens, len(CONTEXT_FEATURES)]: what correction and restore did to the token and its line,
    odd characters and where the line is; `rank`: the line's rank on the first page (None: later)."""
    changed = [t.text != t.source if t.source is not None else t.changed for t in line]
    others = sum(changed)
    ocr = [clipped_logit(t.ocr) for t in line if t.ocr is not None]
    text = " ".join(t.text for t in line)
    unpaired = text.count("“") != text.count("”") or text.count('"') % 2 == 1
    marks = [_marks(t.text) for t in line]
    # the same for every token of the line
    line_changed = [(others - c) / max(len(line) - 1, 1) for c in changed]
    line_min, tokens = min(ocr, default=CLIP), min(len(line), 20) / 20
    line_rank = 1.0 if rank is None else min(rank, 10) / 10
    rows = []
    for j, token in enumerate(line):
        core, odd, run, lead, stop, _, single, double = marks[j]
        read = _marks(token.source)[0] if token.source is not None else core
        prior, read_prior = lexicon.get(core, -30.0), lexicon.get(read, -30.0)
        rows.append(
            (
                float("in-context" in token.flags),  # restore/vie.FLAG
                float(changed[j] and core != read and strip_diacritics(core) == strip_diacritics(read)),
                float(read in lexicon),
                max(-3.0, min(3.0, (prior - read_prior) / 10)),
                odd,
                run,
                float(any(changed[k] for k in (j - 1, j + 1) if 0 <= k < len(line))),
                line_changed[j],
                line_min,
                tokens,
                line_rank,
                lead,
                float(stop and j + 1 < len(line) and marks[j + 1][5]),
                float(single or (unpaired and double)),
            )
        )
    return np.array(rows, dtype=float).reshape(len(line), len(CONTEXT_FEATURES))

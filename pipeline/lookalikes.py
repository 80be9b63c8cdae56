"""OCR look-alikes: the letter a non-letter glyph stands for, derived from the learned OCR channel.

An English OCR model writes Vietnamese letters it cannot read as digits and symbols (`Sở` →
`S&`, `đối` → `d6i`, `lý` → `1y`, `ê` → `€`). The channel that restore learned from aligned OCR
and clean text (corpora/restore_noise.json: for each clean character, what the OCR wrote) says
how often each glyph stood for each letter, alone or as half of a two-glyph reading (`ử` →
`t?`); this module turns that into the one look-alike
table every stage folds with (the agency matcher, the segmenter's field labels, training-data
alignment): a glyph maps to the letter it stood for in at least MAJORITY of MIN_COUNT or more
observations, marks and case folded away.

Numeral look-alikes of labels (`H.` for `II.`, `I.` for `1.`) come from another channel, the
Vietnamese model on bold headings, and live with the label logic in pipeline/labels.py.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import cache
from pathlib import Path

from pipeline.vietnamese import strip_diacritics

__all__ = ["CHANNEL", "letter_for", "to_letters"]

CHANNEL = Path(__file__).resolve().parent.parent / "corpora" / "restore_noise.json"
MIN_COUNT = 5  # observations of a glyph written for letters, below which it is noise
MAJORITY = 0.6  # share of those that must be one letter


@cache
def letter_for(channel: Path = CHANNEL) -> dict[str, str]:
    """Glyph → the folded letter it stands for (`6` → `o`, `1` → `l`, `€` → `e`, `?` → `u`)."""
    table = json.loads(channel.read_text(encoding="utf-8"))["chars"]
    alone: dict[str, Counter[str]] = {}  # a letter read as this one glyph (ở → 6)
    paired: dict[str, Counter[str]] = {}  # ... or as two, this glyph carrying the mark (ử → t?)
    for clean, contexts in table.items():
        letter = strip_diacritics(clean).lower()
        if len(letter) != 1 or not letter.isalpha():
            continue
        for outputs in contexts.values():
            for noisy, count in outputs.items():
                if len(noisy) > 2:
                    continue
                for glyph in noisy:
                    if not glyph.isalpha() and not glyph.isspace():
                        (alone if len(noisy) == 1 else paired).setdefault(glyph, Counter())[letter] += count
    derived = {}
    for glyph in alone.keys() | paired.keys():
        letters = Counter(alone.get(glyph, {}))
        itself = sum(table.get(glyph, {}).get(context, {}).get(glyph, 0) for context in table.get(glyph, {}))
        # Half of a two-glyph reading counts only for a glyph that is rarely itself: `?` after
        # a t is ử, but a colon after a u is still mostly a colon.
        if sum(paired.get(glyph, {}).values()) > itself:
            letters.update(paired[glyph])
        if not letters:
            continue
        letter, count = letters.most_common(1)[0]
        total = sum(letters.values())
        if total >= MIN_COUNT and count / total >= MAJORITY:
            derived[glyph] = letter
    return derived


@cache
def _translation() -> dict[int, str]:
    return str.maketrans(letter_for())


def to_letters(text: str) -> str:
    """`text` with every look-alike glyph replaced by its letter (same length)."""
    return text.translate(_translation())

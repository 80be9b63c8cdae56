"""Where the review queue's missed errors are: each wrong output word by token class and by how it
differs from the true word (scripts/bench_review.py writes the table into benchmarks/review.md).

A wrong output word is one difflib does not align with the same true word. Within a replaced
stretch, as many output as true words pair one to one (a *substitution*: the difference is
classified); fewer output words than true ones are *merged* (one OCR token for two true words,
`quảcủa`), more are *split* (two tokens for one word), output words with no true word are *extra*.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Sequence

from pipeline.restore.tokens import core_of
from pipeline.vietnamese import TONE_MARKS, strip_diacritics

__all__ = ["CLASSES", "DIFFERENCES", "Breakdown", "alignment", "difference", "token_class"]

CLASSES = ("word", "name", "place", "number", "code", "roman / marker", "punctuation", "mixed")
DIFFERENCES = ("tone", "letter marks", "casing", "punctuation", "other", "merged", "split", "extra")

_NUMBER = re.compile(r"[+-]?\d+(?:[.,:/-]\d+)*(?:%|‰)?")
_ROMAN_MARKER = re.compile(r"(?:[IVXLC]+|[a-zđ]|\d+(?:\.\d+)*)[.)]?")


def alignment(output: Sequence[str], truth: Sequence[str]) -> list[tuple[str, str | None]]:
    """Per output word: ('right' | 'substituted' | 'merged' | 'split' | 'extra', its true word
    when paired one to one)."""
    out: list[tuple[str, str | None]] = [("extra", None)] * len(output)
    matcher = difflib.SequenceMatcher(a=list(output), b=list(truth), autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            out[i1:i2] = [("right", w) for w in truth[j1:j2]]
        elif tag == "replace" and i2 - i1 == j2 - j1:
            out[i1:i2] = [("substituted", w) for w in truth[j1:j2]]
        elif tag == "replace":
            out[i1:i2] = [("merged" if i2 - i1 < j2 - j1 else "split", None)] * (i2 - i1)
    return out


def token_class(text: str, scored: bool, name: bool = False, place: bool = False) -> str:
    """The shape of an output token: what restore makes of it and what the review sees."""
    core = core_of(text)
    if not any(c.isalnum() for c in text):
        return "punctuation"
    if _NUMBER.fullmatch(core):
        return "number"
    if _ROMAN_MARKER.fullmatch(text) and not scored:
        return "roman / marker"
    if any(c.isdigit() for c in core) and ("/" in core or "-" in core or any(c.isupper() for c in core)):
        return "code"
    if not scored and core.isalpha() and core.isupper() and len(core) > 1:
        return "code"  # UBND, CP: protected abbreviations
    if not core.isalpha():
        return "mixed"
    return "name" if name else "place" if place else "word"


def _tones_off(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONE_MARKS))


def difference(word: str, true: str) -> str:
    """How a wrong word paired with its true word differs from it."""
    if core_of(word) == core_of(true):
        return "punctuation"
    a, b = core_of(word), core_of(true)
    if a.lower() == b.lower():
        return "casing"
    if _tones_off(a.lower()) == _tones_off(b.lower()):
        return "tone"
    if strip_diacritics(a.lower()) == strip_diacritics(b.lower()):
        return "letter marks"
    return "other"


class Breakdown:
    """Wrong words and missed wrong words by (scored, class) and by difference."""

    def __init__(self) -> None:
        self.wrong: Counter[tuple[str, str]] = Counter()
        self.missed: Counter[tuple[str, str]] = Counter()

    def add(self, scored: bool, cls: str, diff: str, missed: bool) -> None:
        for key in (("class", f"{cls} ({'scored' if scored else 'unscored'})"), ("difference", diff)):
            self.wrong[key] += 1
            self.missed[key] += missed

    def rows(self) -> list[tuple[str, str, int, int]]:
        """(what, value, wrong, missed), most missed first within each `what`."""
        keys = sorted(self.wrong, key=lambda k: (k[0], -self.missed[k], -self.wrong[k]))
        return [(what, value, self.wrong[what, value], self.missed[what, value]) for what, value in keys]

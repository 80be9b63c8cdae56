"""Mixed-case terms (IoT, eKYC, VNeID) as vie OCR misreads them, put back.

`tesseract -l vie` gives a Latin term Vietnamese marks or reads its capital I as an l (IơT, loT,
lơT for IoT). The vie corrector copies mixed-case tokens, so these stay wrong unless their
letters are read against a list of known terms: corpora/restore_terms.tsv, counted in the
training corpora and the tune plans by scripts/build_terms.py. A token is replaced only when it
is mixed-case, not itself a term, and spells exactly one term once marks are dropped and l and
I are taken for one letter.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path

from pipeline.restore.tokens import case_pattern, core_of
from pipeline.vietnamese import strip_diacritics

__all__ = ["TERMS", "Terms"]

TERMS = Path(__file__).resolve().parents[2] / "corpora" / "restore_terms.tsv"


def _key(word: str) -> str:
    return strip_diacritics(word).replace("l", "I")


class Terms:
    """Known mixed-case terms, looked up by their letters as vie OCR may have written them."""

    def __init__(self, terms: Iterable[str]) -> None:
        self.terms = frozenset(terms)
        by_key: dict[str, set[str]] = {}
        for term in self.terms:
            by_key.setdefault(_key(term), set()).add(term)
        self._by_key = {key: next(iter(found)) for key, found in by_key.items() if len(found) == 1}

    @classmethod
    def load(cls, path: Path = TERMS) -> Terms:
        with open(path, encoding="utf-8") as handle:
            next(handle)  # header
            return cls(line.split("\t", 1)[0] for line in handle if line.strip())

    def term_for(self, core: str) -> str | None:
        """The term a mixed-case core stands for (IơT → IoT), or None."""
        if core in self.terms or case_pattern(core) != "mixed":
            return None
        return self._by_key.get(_key(core))

    def repair(self, tokens: Sequence[str]) -> list[str]:
        """One line's tokens with misread terms put back, punctuation around them kept."""
        out = list(tokens)
        for i, token in enumerate(tokens):
            core = core_of(token)
            term = self.term_for(core) if core.isalpha() else None
            if term is not None:
                out[i] = token.replace(core, term, 1)
        return out

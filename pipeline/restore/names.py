"""Names in restored lines: places from the administrative-unit list, and the signer's name.

- **Places.** A run of capitalised words whose unmarked letters spell a province or district
  name (corpora/place_names.tsv, from the administrative-unit list) is that name: `Binh Duong`
  → Bình Dương, also when the run is cut by a line end (`… Binh` / `Duong, …`). Only names
  of two syllables or more, and only skeletons that one name alone has.
- **The signer.** The model knows syllables, not people: `Dang Minh Hung` came out as a
  confident, wrong *Đăng Mình Hướng*. In a name line of a signature block (after TM./KT., a
  position such as CHỦ TỊCH, or Đã ký) the family name is restored from corpora/surnames.tsv
  when its unmarked form is unambiguous, and the given names are left as read, with a low
  confidence (`NAME_CONFIDENCE`) so the review queue shows them to a person.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Protocol, TypeVar

from pipeline.lookalikes import to_letters
from pipeline.restore.tokens import Piece, case_pattern
from pipeline.signature import POSITIONS, SIGN_MARK, SIGNED
from pipeline.vietnamese import normalize, strip_diacritics

__all__ = ["NAME_CONFIDENCE", "PLACES", "SURNAMES", "name_lines", "place_runs", "surname", "unmarked", "with_names"]

CORPORA = Path(__file__).resolve().parents[2] / "corpora"
PLACES = CORPORA / "place_names.tsv"
SURNAMES = CORPORA / "surnames.tsv"
NAME_CONFIDENCE = 0.3  # a given name left as read: below every review threshold
_LONGEST = 4  # syllables of the longest place name looked for
_CLOSES = re.compile(r"[,.;:)\]”’\"!?]")  # a token ending with one of these ends a run


def _rows(path: Path) -> list[str]:
    return [line.split("\t")[0] for line in path.read_text(encoding="utf-8").splitlines() if line and line[0] != "#"]


def unmarked(core: str) -> str:
    """Letters only, no marks, lower case, OCR look-alikes read as letters (Dwong → dwong)."""
    return re.sub(r"[^a-z]", "", to_letters(strip_diacritics(core).lower()))


@cache
def _places() -> dict[tuple[str, ...], str]:
    table: dict[tuple[str, ...], set[str]] = {}
    for name in map(normalize, _rows(PLACES)):
        syllables = tuple(unmarked(s) for s in name.split())
        if len(syllables) >= 2:
            table.setdefault(syllables, set()).add(name)
    return {key: names.pop() for key, names in table.items() if len(names) == 1}


@cache
def _surnames() -> dict[str, str]:
    table: dict[str, list[str]] = {}
    for name in map(normalize, _rows(SURNAMES)):
        table.setdefault(unmarked(name), []).append(name)
    return {key: names[0] for key, names in table.items() if len(names) == 1}


def surname(core: str) -> str | None:
    return _surnames().get(unmarked(core))


def _capitalised(piece: Piece) -> bool:
    return piece.kind == "word" and sum(c.isalpha() for c in piece.core) > 1 and case_pattern(piece.core) != "lower"


def place_runs(lines: Sequence[Sequence[Piece]]) -> list[tuple[list[tuple[int, int]], str]]:
    """(positions (line, token), place name) of every place name found, runs across line ends
    included; greedy, longest name first."""
    runs: list[list[tuple[int, int]]] = [[]]
    for n, pieces in enumerate(lines):
        if not pieces:
            runs.append([])
        for i, piece in enumerate(pieces):
            if not _capitalised(piece) or piece.prefix:
                runs.append([])
            if _capitalised(piece):
                runs[-1].append((n, i))
                if _CLOSES.search(piece.suffix):
                    runs.append([])
            else:
                runs.append([])
    found = []
    for run in runs:
        start = 0
        while start < len(run) - 1:
            for length in range(min(_LONGEST, len(run) - start), 1, -1):
                key = tuple(unmarked(lines[n][i].core) for n, i in run[start : start + length])
                if key in _places():
                    found.append((run[start : start + length], _places()[key]))
                    start += length
                    break
            else:
                start += 1
    return found


def _folded(text: str) -> str:
    return " ".join(re.sub(r"[^a-z ]", " ", to_letters(strip_diacritics(text).lower())).split())


def _is_position(text: str) -> bool:
    folded = _folded(text)
    return any(folded == p or folded.endswith(" " + p) for p in POSITIONS)


def _plain(text: str) -> str:
    """Lower case without marks, punctuation kept: what SIGN_MARK and SIGNED read."""
    return to_letters(strip_diacritics(text).lower()) if text else ""


def _cue(text: str) -> bool:
    return bool(SIGN_MARK.match(_plain(text)) or SIGNED.match(_plain(text)) or _is_position(text))


def name_lines(lines: Sequence[Sequence[Piece]]) -> dict[int, int]:
    """Line → index of its first name token, for lines that hold a signer's name: 2 to 5
    capitalised words after a signature mark, a position or "Đã ký" within the 3 lines before,
    or after "Đã ký:" on the line itself."""
    found: dict[int, int] = {}
    texts = [" ".join(p.text for p in pieces) for pieces in lines]
    for n, pieces in enumerate(lines):
        signed = SIGNED.match(_plain(texts[n]))
        start = len(_plain(texts[n])[: signed.end()].split()) if signed else 0
        words = pieces[start:]
        if not 2 <= len(words) <= 5 or not all(_capitalised(p) and not p.prefix for p in words):
            continue
        if _cue(texts[n]) and not signed:
            continue  # the position or the mark itself (PHÓ CHỦ TỊCH), not a name
        if signed or any(_cue(t) for t in texts[max(0, n - 3) : n] if t.strip()):
            found[n] = start
    return found


class _Restored(Protocol):
    text: str
    confidence: float
    kind: str


T = TypeVar("T", bound=_Restored)


def _cased(piece: Piece, syllable: str) -> str:
    return syllable.upper() if case_pattern(piece.core) == "upper" else syllable


def with_names(lines: Sequence[Sequence[Piece]], restored: list[list[T]]) -> list[list[T]]:
    """The restored tokens of consecutive lines (dataclasses with text, confidence, kind),
    with place names given their names and the signer's name handled as the module says."""
    for positions, name in place_runs(lines):
        for (n, i), syllable in zip(positions, name.split(), strict=True):
            text = normalize(lines[n][i].output(_cased(lines[n][i], syllable)))
            restored[n][i] = replace(restored[n][i], text=text, confidence=1.0, kind="place")
    for n, start in name_lines(lines).items():
        for i in range(start, len(lines[n])):
            piece = lines[n][i]
            family = surname(piece.core) if i == start else None
            if family:  # unambiguous without its marks: Nguyen → Nguyễn, Dang → Đặng
                text = normalize(piece.output(_cased(piece, family)))
                restored[n][i] = replace(restored[n][i], text=text, confidence=1.0, kind="word")
            else:
                restored[n][i] = replace(restored[n][i], text=piece.text, confidence=NAME_CONFIDENCE, kind="name")
    return restored

"""Token alignment of an OCR line with its clean text, for training the restorer.

`align_tokens` pairs every noisy whitespace token with the clean text it stands for: one clean
token, two clean tokens joined by one space when OCR lost the space between them (a merge:
`donvi` ↔ `đơn vị`), or "" for punctuation debris OCR added (`.`, `—`). Lines it cannot align
confidently (a word split in two, a lost word, a token too garbled to recognise) give None.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from rapidfuzz.distance import Levenshtein

from pipeline.lookalikes import to_letters
from pipeline.restore.tokens import Piece, split_token
from pipeline.vietnamese import normalize, strip_diacritics

__all__ = ["align_tokens", "core_targets", "folded"]

MAX_DISTANCE = 0.5  # normalised edit distance of folded cores above which a pair is doubtful
DOUBT_COST = 1.0  # a doubtful pair (tir ↔ từ) is accepted between good ones ...
DOUBTS_PER_TOKENS = 8  # ... at most one per this many noisy tokens (and at least one per line)
MERGE_COST = 0.45  # a lost space is rarer than a garbled letter
BAND = 6  # alignment paths stay this close to the diagonal (a few merges and debris tokens)
LOST_COST = 0.5  # a clean word missing from the noisy line (makes the line fail, like a split)
DEBRIS_COST = 0.3  # a punctuation-only token on one side only


# ư with a tone (ứ ừ ử ữ ự) and ủ are read as two characters: st? = sử, tir = từ, cifu = cứu
_HOOKED_U = re.compile(r"it|if|ir|iv|tt|tf|tr|ti|ii|il|ud|uw")


@lru_cache(maxsize=65536)
def folded(token: str) -> str:
    """A token's letters for comparison: marks and case dropped, garbage read as letters."""
    if any(c.islower() for c in token):  # I inside a lower-case word is an l (Igi = lợi)
        token = token.replace("I", "l")
    return to_letters(strip_diacritics(token).lower())  # ở → 6, ê → €, ử → t? (pipeline/lookalikes.py)


def _core(token: str) -> str:
    return "".join(c for c in folded(token) if c.isalnum())


def _distance(noisy: str, clean: str) -> float:
    a, b = _core(noisy), _core(clean)
    if not a and not b:
        return 0.0
    d = Levenshtein.normalized_distance(a, b)
    if d > MAX_DISTANCE / 2:  # try reading one 'it', 'tr', 'iv'... as ư/ứ/ử
        for p in range(len(a) - 1):
            if _HOOKED_U.match(a, p):
                d = min(d, Levenshtein.normalized_distance(a[:p] + "u" + a[p + 2 :], b))
    return d


def _debris(token: str) -> bool:
    return not any(c.isalnum() for c in token)


def align_tokens(noisy_line: str, clean_line: str) -> list[tuple[str, str]] | None:
    """(noisy token, clean text) for every noisy token, or None if the line is not trustworthy."""
    noisy, clean = noisy_line.split(), normalize(clean_line).split()
    n, m = len(noisy), len(clean)
    inf = math.inf
    cost = [[inf] * (m + 1) for _ in range(n + 1)]
    back: list[list[tuple[int, int, bool] | None]] = [[None] * (m + 1) for _ in range(n + 1)]
    cost[0][0] = 0.0

    def relax(i: int, j: int, di: int, dj: int, c: float, doubt: bool = False) -> None:
        if cost[i][j] + c < cost[i + di][j + dj]:
            cost[i + di][j + dj] = cost[i][j] + c
            back[i + di][j + dj] = (di, dj, doubt)

    for i in range(n + 1):
        # only near the diagonal: lines differ by a few merges, splits and debris tokens at most
        centre = i * m // max(n, 1)
        for j in range(max(0, centre - BAND), min(m, centre + BAND) + 1):
            if cost[i][j] == inf:
                continue
            if i < n and j < m:
                d = _distance(noisy[i], clean[j])
                doubt = d > MAX_DISTANCE and not (_debris(noisy[i]) and _debris(clean[j]))
                relax(i, j, 1, 1, d + DOUBT_COST * doubt, doubt)
                for di, dj in ((1, 2), (2, 1)):  # a merge, or a split (which makes the line fail)
                    if i + di <= n and j + dj <= m:
                        a, b = " ".join(noisy[i : i + di]), " ".join(clean[j : j + dj])
                        if _debris(a) or any(_debris(t) for t in (*noisy[i : i + di], *clean[j : j + dj])):
                            continue
                        d2 = _distance(a, b)
                        if d2 <= MAX_DISTANCE:
                            relax(i, j, di, dj, d2 + MERGE_COST)
            if i < n and _debris(noisy[i]):
                relax(i, j, 1, 0, DEBRIS_COST)
            if j < m:
                relax(i, j, 0, 1, DEBRIS_COST if _debris(clean[j]) else LOST_COST)
    pairs: list[tuple[str, str]] = []
    doubts = 0
    i, j = n, m
    while i or j:
        step = back[i][j]
        if step is None:
            return None
        di, dj, doubt = step
        if di > 1 or (dj and not di and not _debris(clean[j - 1])):
            return None  # a split or a lost word: not one target per noisy token
        doubts += doubt
        if di:
            pairs.append((noisy[i - 1], " ".join(clean[j - dj : j])))
        i, j = i - di, j - dj
    if doubts > max(1, n // DOUBTS_PER_TOKENS):
        return None
    return pairs[::-1]


def core_targets(noisy_line: str, clean_line: str) -> list[tuple[Piece, str | None]] | None:
    """Each noisy token as a Piece with the lower-case text its core should become.

    The target is None where it cannot be expressed as a core replacement: the punctuation
    around the word differs in kind (a merge across `trì:`), or the token is debris.
    Protected pieces get their own core as target.
    """
    pairs = align_tokens(noisy_line, clean_line)
    if pairs is None:
        return None
    out: list[tuple[Piece, str | None]] = []
    prev = ""
    for i, (token, target) in enumerate(pairs):
        piece = split_token(token, first=i == 0, prev_core=prev)
        prev = piece.core
        out.append((piece, _target_core(target)))
    return out


def _target_core(target: str) -> str | None:
    if not target:
        return None
    parts = [split_token(t) for t in target.split(" ")]
    if len(parts) == 2 and (parts[0].suffix or parts[1].prefix):
        return None  # the lost space sat next to punctuation: not a plain two-syllable merge
    if any(not p.core for p in parts):
        return None
    return " ".join(p.core for p in parts).lower()

"""The OCR channel: log P(noisy piece | clean character), read backwards from the learned noise
model, and the beam search that turns a noisy core into the letter skeletons it may stand for."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Container, Mapping
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

from pipeline.restore.noise import NoiseModel
from pipeline.vietnamese import strip_diacritics

__all__ = ["Channel", "ChannelSettings", "skeleton"]

# the OCR channel
STRIP_SHARE = 0.1  # plain mark loss mixed into the OCR channel, so unaccented input restores too
IDENTITY_FLOOR = 0.05  # an input letter may always be right as it is ...
VIETNAMESE_IDENTITY = 0.5  # ... and a letter English OCR never outputs (ư, ạ, đ) almost surely is
REVERSE_MIN = 0.003  # rarer confusions are not read backwards (the edit fallback may find them)
DELETE_MIN = 0.004  # letters OCR drops at least this often may be restored (ợ, ớ, c → '')
INSERT_LOGP = math.log(1e-4)  # a noisy character that no clean one produced (junk)
DELETE_FLOOR = math.log(1e-4)
SIMILAR_FLOOR = math.log(5e-3)  # an unseen change that keeps the letter (ó for ố)
SUB_FLOOR = math.log(1e-5)
BEAM, MARGIN, HYPOTHESES = 24, 12.0, 24  # skeleton prefixes per position, within MARGIN nats of the best


@dataclass(frozen=True)
class ChannelSettings:
    """How a noise table is read as a channel. The defaults are the English-model OCR channel's;
    the vie channel (restore/vie.py) reads its own from its JSON: no plain mark loss, and an
    unseen mark change far rarer, since `tesseract -l vie` keeps its letters."""

    strip_share: float = STRIP_SHARE
    identity_floor: float = IDENTITY_FLOOR
    vietnamese_identity: float = VIETNAMESE_IDENTITY
    reverse_min: float = REVERSE_MIN
    delete_min: float = DELETE_MIN
    insert_logp: float = INSERT_LOGP
    delete_floor: float = DELETE_FLOOR
    similar_floor: float = SIMILAR_FLOOR
    sub_floor: float = SUB_FLOOR


@lru_cache(maxsize=65536)
def skeleton(text: str) -> str:
    """Letters without any mark, lower-case (đ → d): what OCR keeps best."""
    return strip_diacritics(text).lower()


class Channel:
    """log P(noisy piece | clean char) from the noise model's context-free statistics, case-pooled.

    Cases are merged because cores are lower-cased first (Đ → P becomes đ → p, l → I becomes l → i).
    """

    def __init__(self, noise: NoiseModel, settings: ChannelSettings | None = None) -> None:
        self.settings = s = settings or ChannelSettings()
        # outputs lower-cased, cases pooled; but Đ is read as P or B far more often than đ is read
        # as p or b, and a lower-cased core cannot tell them apart: đ takes the larger share
        pooled: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        capital: dict[str, int] = defaultdict(int)
        for char, contexts in noise.chars.items():
            if len(char.lower()) != 1:
                continue
            for out, n in contexts.get("", {}).items():
                if not any(c.isspace() for c in out):
                    pooled[char.lower()][out.lower()] += n
                    if char == "Đ":
                        capital[out.lower()] += n
        self.emit: dict[str, dict[str, float]] = {}
        for char, counts in pooled.items():
            total = sum(counts.values())
            shares = {o: n / total for o, n in counts.items()}
            if char == "đ" and capital:
                big = sum(capital.values())
                shares = {o: max(p, capital.get(o, 0) / big) for o, p in shares.items()}
            self.emit[char] = self._probs(char, shares)
        # read backwards: noisy piece -> skeleton letter -> best log P(piece | a char of that letter)
        self.reverse: dict[str, dict[str, float]] = defaultdict(dict)
        self.deletions: dict[str, float] = {}
        for char, outs in self.emit.items():
            letter = skeleton(char)
            for out, lp in outs.items():
                # a symbol read for a letter (| [ for l) costs no branching on ordinary letters
                if lp < math.log(s.reverse_min if out.isalnum() else s.reverse_min / 10):
                    continue
                if not letter.isalpha() or (not out and lp < math.log(s.delete_min)):
                    continue
                table = self.reverse[out] if out else self.deletions
                if lp > table.get(letter, -math.inf):
                    table[letter] = lp
        # filled as scoring meets them
        self.columns: dict[str, _Column] = {}  # noisy piece -> its column (read by the generator)
        self._clean_chars: dict[str, tuple[float, tuple[tuple[str, float], ...]]] = {}  # see _clean_char

    def _probs(self, char: str, shares: dict[str, float]) -> dict[str, float]:
        s = self.settings
        probs = {o: (1 - s.strip_share) * p for o, p in shares.items()}
        plain = skeleton(char)
        if s.strip_share:
            probs[plain] = probs.get(plain, 0.0) + s.strip_share
        floor = s.vietnamese_identity if ord(char) > 0xFF and char.isalpha() else s.identity_floor
        probs[char] = max(probs.get(char, 0.0), floor)
        return {o: math.log(p) for o, p in probs.items()}

    def _table(self, char: str) -> dict[str, float]:
        table = self.emit.get(char)
        if table is None:  # a character the noise model never saw: itself or its bare letter
            table = self.emit[char] = self._probs(char, {})
        return table

    def logp(self, char: str, piece: str) -> float:
        """log P(piece | clean char), with floors for changes never observed."""
        lp = self._table(char).get(piece)
        if lp is not None:
            return lp
        s = self.settings
        if not piece:
            return s.delete_floor
        if len(piece) == 1:
            return s.similar_floor if skeleton(piece) == skeleton(char) else s.sub_floor
        return s.sub_floor + s.insert_logp * (len(piece) - 1)

    def column(self, piece: str) -> _Column:
        """logp(char, piece) for every clean char, memoised: candidate scoring asks for the same
        few noisy pieces over and over, so each (char, piece) is worked out once per channel."""
        column = self.columns.get(piece)
        if column is None:
            column = self.columns[piece] = _Column(piece, self.logp)
        return column

    def aligned(self, text: str, pieces: tuple[str, ...]) -> float:
        """log P of the noisy pieces given text, one piece per character."""
        total = 0.0
        column = self.column
        for c, p in zip(text, pieces, strict=True):
            total += column(p)[c]
        return total

    def identity(self, text: str) -> float:
        floor = self.settings.similar_floor
        return sum(self._table(c).get(c, floor) for c in text)

    def score(self, noisy: str, clean: str) -> float:
        """log P(noisy | clean), best alignment: each clean char emits 0-3 noisy chars, junk allowed.

        Row by row (noisy chars read), each cell the best of its moves (junk, lost char, one, two
        or three noisy chars for a clean one): the same sums as pushing each cell forwards, hence
        the same floats.
        """
        n, m = len(noisy), len(clean)
        insert_logp = self.settings.insert_logp
        known = self._clean_chars
        dels = []
        # moves reading two or three noisy chars for one clean char, by the row they end on
        # (most chars have none, and most rows then skip the check)
        jumps: list[list[tuple[int, int, float]]] | None = None
        for j, c in enumerate(clean):
            lost, multi = known.get(c) or self._clean_char(c)
            dels.append(lost)
            for piece, lp in multi:
                at = noisy.find(piece)
                while at >= 0:
                    if jumps is None:
                        jumps = [[] for _ in range(n + 1)]
                    jumps[at + len(piece)].append((j, len(piece), lp))
                    at = noisy.find(piece, at + 1)
        row = [0.0]
        left = 0.0
        for lost in dels:
            left += lost
            row.append(left)
        rows = [row]
        columns, column = self.columns, self.column
        for i in range(1, n + 1):
            up = row
            piece = noisy[i - 1]
            lps = columns.get(piece)
            subs = map((column(piece) if lps is None else lps).__getitem__, clean)
            left = up[0] + insert_logp
            row = [left]
            bonus: dict[int, float] = {}  # column j -> best jump into (i, j + 1)
            if jumps is not None:
                for j, size, lp in jumps[i]:
                    x = rows[i - size][j] + lp
                    if j not in bonus or x > bonus[j]:
                        bonus[j] = x
            # cells left to right: from above (junk), from the left (a lost char), diagonally
            # (up is one longer than the rest: its last cell is only ever above)
            cells = zip(islice(up, 1, None), up, dels, subs, strict=False)
            for j, (above, diagonal, lost, sub) in enumerate(cells):
                best = above + insert_logp
                x = left + lost
                if x > best:
                    best = x
                x = diagonal + sub
                if x > best:
                    best = x
                if bonus:
                    x = bonus.get(j, best)
                    if x > best:
                        best = x
                row.append(best)
                left = best
            rows.append(row)
        return row[m]

    def _clean_char(self, char: str) -> tuple[float, tuple[tuple[str, float], ...]]:
        """log P(char lost), and the pieces of two or three noisy chars it emits (most emit none)."""
        table = self._table(char)
        multi = tuple((o, lp) for o, lp in table.items() if 2 <= len(o) <= 3)
        found = self._clean_chars[char] = (table.get("", self.settings.delete_floor), multi)
        return found

    def hypotheses(
        self, noisy: str, prefixes: Mapping[str, Mapping[str, str]], complete: Container[str]
    ) -> list[tuple[str, tuple[str, ...], float]]:
        """Skeletons the noisy core may come from: (skeleton, noisy piece per letter, junk cost).

        A beam over the noisy string reads each piece backwards through the confusion table,
        keeping only skeleton prefixes that some lexicon entry has (prefixes: each prefix → its
        next letter → the longer prefix); junk characters and one lost letter are allowed.
        CandidateGenerator keeps one restore.beam.SkeletonBeam instead, which shares the work
        between cores.
        """
        from pipeline.restore.beam import SkeletonBeam  # it builds on this module

        return SkeletonBeam(self, prefixes, complete).hypotheses(noisy)


class _Column(dict[str, float]):
    """Clean char → log P(piece | char) for one noisy piece, each worked out on first use."""

    __slots__ = ("logp", "piece")

    def __init__(self, piece: str, logp: Callable[[str, str], float]) -> None:
        super().__init__()
        self.piece, self.logp = piece, logp

    def __missing__(self, char: str) -> float:
        lp = self[char] = self.logp(char, self.piece)
        return lp

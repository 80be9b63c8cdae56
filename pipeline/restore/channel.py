"""The OCR channel: log P(noisy piece | clean character), read backwards from the learned noise
model, and the beam search that turns a noisy core into the letter skeletons it may stand for."""

from __future__ import annotations

import heapq
import math
from collections import defaultdict
from collections.abc import Container
from dataclasses import dataclass
from functools import lru_cache

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
_WORST = (-math.inf,)


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

    def aligned(self, text: str, pieces: tuple[str, ...]) -> float:
        """log P of the noisy pieces given text, one piece per character."""
        total = 0.0
        emit = self.emit
        for c, p in zip(text, pieces, strict=True):
            table = emit.get(c)
            lp = table.get(p) if table is not None else None
            total += lp if lp is not None else self.logp(c, p)
        return total

    def identity(self, text: str) -> float:
        floor = self.settings.similar_floor
        return sum(self._table(c).get(c, floor) for c in text)

    def score(self, noisy: str, clean: str) -> float:
        """log P(noisy | clean), best alignment: each clean char emits 0-3 noisy chars, junk allowed."""
        n, m = len(noisy), len(clean)
        ninf = -math.inf
        insert_logp, delete_floor = self.settings.insert_logp, self.settings.delete_floor
        table = [[ninf] * (m + 1) for _ in range(n + 1)]
        table[0][0] = 0.0
        emits = [self._table(c) for c in clean]
        subs = [[e[x] if x in e else self.logp(c, x) for x in noisy] for c, e in zip(clean, emits, strict=True)]
        dels = [e.get("", delete_floor) for e in emits]
        for i in range(n + 1):
            row = table[i]
            below = table[i + 1] if i < n else None
            for j in range(m + 1):
                d = row[j]
                if d == ninf:
                    continue
                if below is not None and d + insert_logp > below[j]:
                    below[j] = d + insert_logp
                if j == m:
                    continue
                if d + dels[j] > row[j + 1]:
                    row[j + 1] = d + dels[j]
                if below is None:
                    continue
                if d + subs[j][i] > below[j + 1]:
                    below[j + 1] = d + subs[j][i]
                emit = emits[j]
                for size in (2, 3):
                    if i + size <= n:
                        lp = emit.get(noisy[i : i + size])
                        if lp is not None and d + lp > table[i + size][j + 1]:
                            table[i + size][j + 1] = d + lp
        return table[n][m]

    def hypotheses(
        self, noisy: str, prefixes: set[str], complete: Container[str]
    ) -> list[tuple[str, tuple[str, ...], float]]:
        """Skeletons the noisy core may come from: (skeleton, noisy piece per letter, junk cost).

        A beam over the noisy string reads each piece backwards through the confusion table,
        keeping only skeleton prefixes that some lexicon entry has; junk characters and one
        lost letter are allowed.
        """
        n = len(noisy)
        insert_logp, similar_floor = self.settings.insert_logp, self.settings.similar_floor
        options = []  # per position: (size, piece, skeleton letter, log P)
        for i in range(n):
            opts = [
                (size, noisy[i : i + size], letter, lp)
                for size in range(1, min(3, n - i) + 1)
                for letter, lp in self.reverse.get(noisy[i : i + size], {}).items()
            ]
            if noisy[i].isalpha() and noisy[i] not in self.reverse:
                opts.append((1, noisy[i], skeleton(noisy[i]), similar_floor))
            options.append(opts)
        # position -> skeleton prefix -> (score, pieces, junk cost, letters lost)
        states: list[dict[str, tuple[float, tuple[str, ...], float, int]]] = [{} for _ in range(n + 1)]
        states[0][""] = (0.0, (), 0.0, 0)
        deletions = self.deletions.items()
        for i in range(n + 1):
            here = states[i]
            if not here:
                continue
            floor = max(v[0] for v in here.values()) - MARGIN
            for skel, (sc, pieces, junk, lost) in list(here.items()):
                if lost or sc < floor:
                    continue
                for letter, lp in deletions:
                    key = skel + letter
                    if key in prefixes and sc + lp > here.get(key, _WORST)[0]:
                        here[key] = (sc + lp, (*pieces, ""), junk, 1)
            if i == n:
                break
            beam = heapq.nlargest(BEAM, here.items(), key=lambda kv: kv[1][0])
            for skel, (sc, pieces, junk, lost) in beam:
                if sc < floor:
                    break
                for size, piece, letter, lp in options[i]:
                    key, there = skel + letter, states[i + size]
                    if key in prefixes and sc + lp > there.get(key, _WORST)[0]:
                        there[key] = (sc + lp, (*pieces, piece), junk, lost)
                there = states[i + 1]
                if sc + insert_logp > there.get(skel, _WORST)[0]:
                    there[skel] = (sc + insert_logp, pieces, junk + insert_logp, lost)
        ends = [(skel, state) for skel, state in states[n].items() if skel in complete]
        if not ends:
            return []
        floor = max(state[0] for _, state in ends) - MARGIN
        final = heapq.nlargest(HYPOTHESES, (e for e in ends if e[1][0] >= floor), key=lambda kv: kv[1][0])
        return [(skel, pieces, junk) for skel, (_, pieces, junk, _) in final]

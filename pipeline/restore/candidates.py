"""Candidate outputs for one token core: the closed set the restorer chooses from.

For a (lower-cased) noisy core the set holds the core itself (`copy`), lexicon entries whose
letters the OCR channel can turn into it (`word`: d6i → đối/đội/đồi, ctia → của, S& → sở) and
pairs of lexicon entries for two syllables read as one token (`merge`: véindi → với nội).
Each candidate carries log P(noisy | text) under the learned OCR channel plus log P(text) from
the lexicon counts; candidates are ranked by their sum. Results are cached per core.
"""

from __future__ import annotations

import heapq
import math
import re
from collections import defaultdict
from collections.abc import Container
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pipeline.restore.noise import NoiseModel
from pipeline.vietnamese import normalize, strip_diacritics

__all__ = ["Candidate", "CandidateGenerator", "Channel", "skeleton"]

REPO = Path(__file__).resolve().parents[2]
LEXICON = REPO / "corpora" / "restore_lexicon.tsv"
NOISE = REPO / "corpora" / "restore_noise.json"

Kind = Literal["copy", "word", "merge"]

# priors and penalties (natural logs)
OOV_LOGP = math.log(2e-7)  # a copied core that is not in the lexicon (a name, a foreign word)
MERGE_LOGP = math.log(2e-3)  # a space OCR lost between two syllables (fitted rate ≈ 0.0017)
QUESTION_LOGP = math.log(0.2)  # a final '?' that is a real question mark, not ử/ữ/ứ (st? = sử)
SEPARATOR_SPACE = math.log(0.5)  # a '.', ':', '-' or apostrophe inside a token that was a space
SEPARATOR_KEEP = {".": math.log(0.2), ":": math.log(0.2), "-": math.log(0.5), "'": math.log(0.1), "’": math.log(0.1)}
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
# search sizes
BEAM, MARGIN, HYPOTHESES = 24, 12.0, 24  # skeleton prefixes per position, within MARGIN nats of the best
SINGLE_KEEP = 32  # one-syllable readings kept per core
EDIT_SEEDS, EDIT_SCORED = 2, 12  # one-edit neighbours of the best skeletons, at most this many scored ...
EDIT_WHEN_FEWER, EDIT_BELOW = 3, math.log(1e-6)  # ... when fewer readings than this score above that
MERGE_MIN_LEN, MERGE_PARTS, MERGE_KEEP = 4, 6, 6  # merges: token length, candidates per half, kept
MERGE_WHEN_BELOW = -12.0  # merges are searched only when no one-syllable reading scores above this
COMPOUND_PARTS = 5  # candidates per part of a compound core
CACHE_LIMIT = 20_000  # cores per cache (each cache is simply emptied when full)
_VOWELS = set("aeiouy")
_VOWELISH = re.compile(r"[aeiouy6&@¢€¥40?àáảãạèéẻẽẹìíỉĩịòóỏõọùúủũụỳýỷỹỵâăêôơư]|t[rt]")  # vowels, misreadings
_WORST = (-math.inf,)
# tổ-chức, đồng/người, TP.HCM, b)trích; an apostrophe only after a letter other than u/o
# (u’ and o’ are a misread ư and ơ: tru’ong = trương)
_SEPARATOR = re.compile(r"(?<=[^\W_])([-/.,;:()]|(?<![uoUO])['’])(?=[^\W_])")


@lru_cache(maxsize=65536)
def skeleton(text: str) -> str:
    """Letters without any mark, lower-case (đ → d): what OCR keeps best."""
    return strip_diacritics(text).lower()


class Channel:
    """log P(noisy piece | clean char) from the noise model's context-free statistics, case-pooled.

    Cases are merged because cores are lower-cased first (Đ → P becomes đ → p, l → I becomes l → i).
    """

    def __init__(self, noise: NoiseModel) -> None:
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
                if lp < math.log(REVERSE_MIN if out.isalnum() else REVERSE_MIN / 10):
                    continue
                if not letter.isalpha() or (not out and lp < math.log(DELETE_MIN)):
                    continue
                table = self.reverse[out] if out else self.deletions
                if lp > table.get(letter, -math.inf):
                    table[letter] = lp

    @staticmethod
    def _probs(char: str, shares: dict[str, float]) -> dict[str, float]:
        probs = {o: (1 - STRIP_SHARE) * p for o, p in shares.items()}
        plain = skeleton(char)
        probs[plain] = probs.get(plain, 0.0) + STRIP_SHARE
        floor = VIETNAMESE_IDENTITY if ord(char) > 0xFF and char.isalpha() else IDENTITY_FLOOR
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
        if not piece:
            return DELETE_FLOOR
        if len(piece) == 1:
            return SIMILAR_FLOOR if skeleton(piece) == skeleton(char) else SUB_FLOOR
        return SUB_FLOOR + INSERT_LOGP * (len(piece) - 1)

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
        return sum(self._table(c).get(c, SIMILAR_FLOOR) for c in text)

    def score(self, noisy: str, clean: str) -> float:
        """log P(noisy | clean), best alignment: each clean char emits 0-3 noisy chars, junk allowed."""
        n, m = len(noisy), len(clean)
        ninf = -math.inf
        table = [[ninf] * (m + 1) for _ in range(n + 1)]
        table[0][0] = 0.0
        emits = [self._table(c) for c in clean]
        subs = [[e[x] if x in e else self.logp(c, x) for x in noisy] for c, e in zip(clean, emits, strict=True)]
        dels = [e.get("", DELETE_FLOOR) for e in emits]
        for i in range(n + 1):
            row = table[i]
            below = table[i + 1] if i < n else None
            for j in range(m + 1):
                d = row[j]
                if d == ninf:
                    continue
                if below is not None and d + INSERT_LOGP > below[j]:
                    below[j] = d + INSERT_LOGP
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
        options = []  # per position: (size, piece, skeleton letter, log P)
        for i in range(n):
            opts = [
                (size, noisy[i : i + size], letter, lp)
                for size in range(1, min(3, n - i) + 1)
                for letter, lp in self.reverse.get(noisy[i : i + size], {}).items()
            ]
            if noisy[i].isalpha() and noisy[i] not in self.reverse:
                opts.append((1, noisy[i], skeleton(noisy[i]), SIMILAR_FLOOR))
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
                if sc + INSERT_LOGP > there.get(skel, _WORST)[0]:
                    there[skel] = (sc + INSERT_LOGP, pieces, junk + INSERT_LOGP, lost)
        ends = [(skel, state) for skel, state in states[n].items() if skel in complete]
        if not ends:
            return []
        floor = max(state[0] for _, state in ends) - MARGIN
        final = heapq.nlargest(HYPOTHESES, (e for e in ends if e[1][0] >= floor), key=lambda kv: kv[1][0])
        return [(skel, pieces, junk) for skel, (_, pieces, junk, _) in final]


@dataclass(frozen=True, slots=True)
class Candidate:
    """One possible output for a core: lower-case text and its scores (natural logs)."""

    text: str
    channel: float  # log P(noisy core | text)
    prior: float  # log P(text) from lexicon counts (a constant for an out-of-lexicon copy)
    kind: Kind

    @property
    def logp(self) -> float:
        return self.channel + self.prior


class CandidateGenerator:
    """Lexicon + OCR channel → ranked candidate sets for token cores."""

    def __init__(self, counts: dict[str, int], channel: Channel) -> None:
        self.channel = channel
        total = sum(counts.values()) + len(counts)
        self.prior = {t: math.log((c + 1) / total) for t, c in counts.items()}
        self._by_skeleton: dict[str, list[str]] = defaultdict(list)
        self._prefixes: set[str] = set()
        self._deletes: dict[str, set[str]] = defaultdict(set)  # skeleton minus one letter -> skeletons
        for text in sorted(counts, key=lambda t: -counts[t]):
            key = skeleton(text)
            self._by_skeleton[key].append(text)
        for key in self._by_skeleton:
            self._prefixes.update(key[:i] for i in range(len(key) + 1))
            for i in range(len(key)):
                self._deletes[key[:i] + key[i + 1 :]].add(key)
        self.skeletons = self._by_skeleton.keys()  # letter skeletons of the lexicon ('doi', 'ubnd')
        self._single_cache: dict[tuple[str, bool], list[Candidate]] = {}
        self._cache: dict[tuple[str, int], list[Candidate]] = {}

    @classmethod
    def load(cls, lexicon: str | Path = LEXICON, noise: str | Path = NOISE) -> CandidateGenerator:
        """From corpora/restore_lexicon.tsv and corpora/restore_noise.json (or given paths)."""
        counts: dict[str, int] = {}
        with open(lexicon, encoding="utf-8") as handle:
            next(handle)  # header
            for line in handle:
                text, count, _kind = line.rstrip("\n").split("\t")
                counts[text] = counts.get(text, 0) + int(count)
        return cls(counts, Channel(NoiseModel.load(noise)))

    # ------------------------------------------------------------------ public

    def candidates(self, core: str, k: int = 24) -> list[Candidate]:
        """At most k candidates for core, best first; the lower-cased core itself is always one."""
        key = normalize(core).lower()
        cached = self._cache.get((key, k))
        if cached is not None:
            return cached
        if _SEPARATOR.search(key):
            ranked, copy = self._compound(key, k)
        else:
            ranked, copy = self._single(key)[: max(k, MERGE_KEEP)], self._copy(key)
            # a token that reads well as one syllable is not searched for a lost space
            if len(key) >= MERGE_MIN_LEN and (not ranked or ranked[0].logp < MERGE_WHEN_BELOW):
                ranked = ranked + self._merges(key)
            if len(key) > 1 and key[-1] == "?" and key[-2].isalpha():
                asked = self._single(key[:-1])[:k]
                ranked += [Candidate(c.text + "?", c.channel + QUESTION_LOGP, c.prior, c.kind) for c in asked]
            ranked = sorted(ranked + self._acronyms(key), key=lambda c: -c.logp)
        out = _with_copy(ranked, copy, k)
        if len(self._cache) > CACHE_LIMIT:
            self._cache.clear()
        self._cache[(key, k)] = out
        return out

    def score(self, core: str, text: str) -> Candidate:
        """The candidate text would be for core, whether or not it made the set (for training)."""
        key = normalize(core).lower()
        if text == key:
            return self._copy(key)
        if " " in text:
            left, right = text.split(" ", 1)
            prior = self._prior(left) + self._prior(right)
            return Candidate(text, self.channel.score(key, left + right) + MERGE_LOGP, prior, "merge")
        return Candidate(text, self.channel.score(key, text), self._prior(text), "word")

    # ------------------------------------------------------------------ internals

    def _prior(self, text: str) -> float:
        return self.prior.get(text, OOV_LOGP)

    def _copy(self, key: str) -> Candidate:
        if key in self.prior:
            return Candidate(key, self.channel.score(key, key), self.prior[key], "copy")
        return Candidate(key, self.channel.identity(key), OOV_LOGP, "copy")

    def _single(self, key: str, edits: bool = True) -> list[Candidate]:
        """Lexicon entries for a core read as one syllable, best first (cached).

        edits: also score entries one letter edit away from the best readings, when the
        confusion table alone finds few good ones (slow, so merge halves skip it).
        """
        cached = self._single_cache.get((key, edits))
        if cached is not None:
            return cached
        best: dict[str, float] = {}
        hypotheses = self.channel.hypotheses(key, self._prefixes, self._by_skeleton)
        for skel, pieces, extra in hypotheses:
            for text in self._by_skeleton.get(skel, ()):
                score = extra + self.channel.aligned(text, pieces)
                if score > best.get(text, -math.inf):
                    best[text] = score
        good = sum(s + self.prior[t] > EDIT_BELOW for t, s in best.items())
        if edits and good < EDIT_WHEN_FEWER:
            for text, score in self._edit_neighbours(key, [h[0] for h in hypotheses[:EDIT_SEEDS]], best):
                best[text] = score
        prior = self.prior
        top = heapq.nlargest(SINGLE_KEEP, best.items(), key=lambda kv: kv[1] + prior[kv[0]])
        out = [Candidate(t, s, prior[t], "word") for t, s in top]
        if len(self._single_cache) > CACHE_LIMIT:
            self._single_cache.clear()
        self._single_cache[(key, edits)] = out
        return out

    def _edit_neighbours(self, key: str, seeds: list[str], seen: dict[str, float]) -> list[tuple[str, float]]:
        """Lexicon entries one letter edit away from the best skeleton hypotheses, DP-scored."""
        skeletons: set[str] = set()
        for seed in [*seeds, skeleton(key)]:
            skeletons |= self._deletes.get(seed, set())  # a letter lost
            for i in range(len(seed)):
                shorter = seed[:i] + seed[i + 1 :]
                if shorter in self._by_skeleton:  # a letter added
                    skeletons.add(shorter)
                skeletons |= self._deletes.get(shorter, set())  # a letter changed
        texts = [t for s in skeletons for t in self._by_skeleton[s] if t not in seen]
        texts = heapq.nlargest(EDIT_SCORED, texts, key=self.prior.__getitem__)
        return [(t, self.channel.score(key, t)) for t in texts]

    def _acronyms(self, key: str) -> list[Candidate]:
        """A vowel-less core is an acronym; its d/p/b may be Đ's the lexicon lacks (NSĐP, CTĐT)."""
        if len(key) > 10 or any(skeleton(c) in _VOWELS or not c.isalpha() for c in key):
            return []
        spots = [i for i, c in enumerate(key) if c in "dpb"][:4]
        texts = {key[:i] + "đ" + key[i + 1 :] for i in spots}
        if key.count("d") > 1:
            texts.add(key.replace("d", "đ"))
        return [Candidate(t, self.channel.score(key, t), self._prior(t), "word") for t in texts if t not in self.prior]

    def _merges(self, key: str) -> list[Candidate]:
        """Two lexicon entries read as one token (cuacac → của các), best few."""
        out: list[Candidate] = []
        for i in range(1, len(key)):
            if not (_VOWELISH.search(key[:i]) and _VOWELISH.search(key[i:])):  # every syllable has a vowel
                continue
            lefts = self._single(key[:i], edits=False)[:MERGE_PARTS]
            rights = self._single(key[i:], edits=False)[:MERGE_PARTS]
            out += [
                Candidate(f"{a.text} {b.text}", a.channel + b.channel + MERGE_LOGP, a.prior + b.prior, "merge")
                for a in lefts
                for b in rights
            ]
        unique = {c.text: c for c in sorted(out, key=lambda c: c.logp)}  # best of each text wins
        return heapq.nlargest(MERGE_KEEP, unique.values(), key=lambda c: c.logp)

    def _compound(self, key: str, k: int) -> tuple[list[Candidate], Candidate]:
        """A core with inner separators (tổ-chức, đồng/người, cua.ngudi): parts restored apart.

        A '.', ':', '-' or apostrophe between letters is often a space OCR misread, so one of them
        may become a space (cua.ngudi → của người). Returns the ranked set and the copy.
        """
        parts = _SEPARATOR.split(key)
        beam: list[tuple[str, float, float, bool]] = [("", 0.0, 0.0, False)]  # text, channel, prior, spaced
        copy = Candidate(key, 0.0, 0.0, "copy")
        for j, part in enumerate(parts):
            if j % 2:  # a separator
                keep = [(t + part, c + SEPARATOR_KEEP.get(part, 0.0), p, sp) for t, c, p, sp in beam]
                spaced = [(t + " ", c + SEPARATOR_SPACE, p, True) for t, c, p, sp in beam if not sp]
                beam = keep + spaced if part in SEPARATOR_KEEP else keep  # one space at most: a merge
                continue
            part_copy = self._copy(part)
            copy = Candidate(key, copy.channel + part_copy.channel, copy.prior + part_copy.prior, "copy")
            words = _with_copy(self._single(part)[:COMPOUND_PARTS], part_copy, COMPOUND_PARTS)
            beam = heapq.nlargest(
                k,
                ((t + w.text, c + w.channel, p + w.prior, sp) for t, c, p, sp in beam for w in words),
                key=lambda x: x[1] + x[2],
            )
        ranked = [Candidate(t, c, p, "merge" if sp else "word") for t, c, p, sp in beam]
        return ranked, copy


def _with_copy(ranked: list[Candidate], copy: Candidate, k: int) -> list[Candidate]:
    """Top k of ranked with the copy candidate in it (replacing the last one if needed)."""
    out = [c for c in ranked if c.text != copy.text][: k - 1]
    out.append(copy)
    return sorted(out, key=lambda c: -c.logp)

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
from operator import add, itemgetter
from pathlib import Path
from typing import Literal

from pipeline.restore.beam import SkeletonBeam
from pipeline.restore.channel import Channel, skeleton
from pipeline.restore.noise import NoiseModel
from pipeline.restore.tokens import SIGNATURE_ABBREVIATIONS
from pipeline.vietnamese import normalize

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
# tổ-chức, đồng/người, TP.HCM, b)trích; an apostrophe only after a letter other than u/o
# (u’ and o’ are a misread ư and ơ: tru’ong = trương)
_SEPARATOR = re.compile(r"(?<=[^\W_])([-/.,;:()]|(?<![uoUO])['’])(?=[^\W_])")


# a core's one-syllable readings: entries, channel scores, priors, their sums, how many are good, edit
# seeds, the skeletons reached
_Readings = tuple[list[str], list[float], list[float], list[float], int, list[str], frozenset[str]]


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
        self._prefixes: dict[str, dict[str, str]] = {}  # skeleton prefix -> next letter -> longer prefix
        self._deletes: dict[str, set[str]] = defaultdict(set)  # skeleton minus one letter -> skeletons
        for text in sorted(counts, key=lambda t: -counts[t]):
            key = skeleton(text)
            self._by_skeleton[key].append(text)
        for key in self._by_skeleton:
            self._prefixes.setdefault(key, {})
            for i in range(len(key)):
                self._prefixes.setdefault(key[:i], {})[key[i]] = key[: i + 1]
                self._deletes[key[:i] + key[i + 1 :]].add(key)
        self.skeletons = self._by_skeleton.keys()  # letter skeletons of the lexicon ('doi', 'ubnd')
        self._beam = SkeletonBeam(channel, self._prefixes, self._by_skeleton)
        self._single_cache: dict[tuple[str, bool], list[Candidate]] = {}
        self._cache: dict[tuple[str, int], list[Candidate]] = {}
        # cores with few good readings: their edit seeds and the skeletons their readings have
        self._few: dict[str, tuple[list[str], frozenset[str]]] = {}
        self._aligned_cache: dict[tuple[str, tuple[str, ...]], list[float]] = {}  # Channel.aligned per entry
        # per skeleton: its entries by position (lexicon only, so shared with with_channel's copies)
        self._entries_cache: dict[str, tuple[tuple[str, ...], tuple[tuple[str, ...], ...], tuple[float, ...]]] = {}

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

    def with_channel(self, channel: Channel) -> CandidateGenerator:
        """The same lexicon read through another channel (the vie OCR one): the indexes are
        shared, not rebuilt, and the caches are new."""
        other = object.__new__(CandidateGenerator)
        other.__dict__.update(self.__dict__)
        other.channel = channel
        other._single_cache, other._cache, other._few, other._aligned_cache = {}, {}, {}, {}
        other._beam = SkeletonBeam(channel, self._prefixes, self._by_skeleton)
        return other

    def same_letters(self, text: str) -> list[str]:
        """Lexicon entries spelt with text's letters, whatever their marks (chi → chi, chì, chỉ, chị)."""
        return self._by_skeleton.get(skeleton(text), [])

    def known(self, text: str) -> bool:
        return text in self.prior

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
            single = len(ranked)
            # a token that reads well as one syllable is not searched for a lost space
            if len(key) >= MERGE_MIN_LEN and (not ranked or ranked[0].logp < MERGE_WHEN_BELOW):
                ranked = ranked + self._merges(key)
            if len(key) > 1 and key[-1] == "?" and key[-2].isalpha():
                asked = self._single(key[:-1])[:k]
                ranked += [Candidate(c.text + "?", c.channel + QUESTION_LOGP, c.prior, c.kind) for c in asked]
            ranked += self._acronyms(key)
            if len(ranked) > single:  # the one-syllable readings alone come ranked already
                ranked = sorted(ranked, key=lambda c: -c.logp)
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
        cache = self._single_cache
        cached = cache.get((key, edits))
        if cached is not None:
            return cached
        if len(cache) > CACHE_LIMIT:
            cache.clear()
            self._few.clear()
        plain = cache.get((key, False))
        if plain is None:
            texts, scores, priors, logps, good, seeds, skeletons = self._readings(key)
            cache[(key, False)] = plain = self._top(texts, scores, priors, logps)
            if good >= EDIT_WHEN_FEWER:  # the same set with edits or without
                cache[(key, True)] = plain
                return plain
            self._few[key] = seeds, skeletons  # for a later call with edits (a merge half that is a core)
        if not edits:
            return plain
        seeds, skeletons = self._few[key]
        neighbours = self._edit_neighbours(key, seeds, skeletons)
        out = plain
        if neighbours:
            # The best of readings + neighbours are the best of the best readings + neighbours;
            # plain lists equal readings in the order reached, neighbours come after them all.
            prior = self.prior
            pool = [*plain, *(Candidate(t, score, prior[t], "word") for t, score in neighbours)]
            out = sorted(pool, key=_logp, reverse=True)[:SINGLE_KEEP]
        cache[(key, True)] = out
        return out

    @staticmethod
    def _top(texts: list[str], scores: list[float], priors: list[float], logps: list[float]) -> list[Candidate]:
        """The SINGLE_KEEP best readings; the first of equal scores first: the order the hypotheses
        reached the entries (sorted is heapq.nlargest's documented equivalent, faster this short)."""
        top = sorted(range(len(logps)), key=logps.__getitem__, reverse=True)[:SINGLE_KEEP]
        return [Candidate(texts[i], scores[i], priors[i], "word") for i in top]

    def _readings(self, key: str) -> _Readings:
        """Every lexicon entry a skeleton hypothesis of key reaches, with its best channel score,
        in the order first reached; its score plus prior; how many of those pass EDIT_BELOW;
        the best skeletons (edit seeds) and all those reached."""
        hypotheses = self._beam.hypotheses(key)
        column, columns = self.channel.column, self.channel.columns
        known, aligned = self._entries_cache, self._aligned_cache
        if len(aligned) > CACHE_LIMIT:
            aligned.clear()
        found: dict[str, list[float]] = {}  # skeleton -> scores of its entries
        for skel, pieces, extra in hypotheses:
            # a third of the (skeleton, pieces) pairs recur between cores (junk read apart, halves)
            totals = aligned.get((skel, pieces))
            if totals is None:
                entries, chars, _ = known.get(skel) or self._entries(skel)
                # Channel.aligned for all the skeleton's entries at once, position by position:
                # the same additions in the same order (the first log P stands for 0.0 + it)
                totals = [0.0] * len(entries)
                for j, (piece, at) in enumerate(zip(pieces, chars, strict=True)):
                    lps = columns.get(piece)
                    lps = map((column(piece) if lps is None else lps).__getitem__, at)
                    totals = list(lps) if j == 0 else list(map(add, totals, lps))
                aligned[(skel, pieces)] = totals
            scores = [extra + t for t in totals]
            old = found.get(skel)
            found[skel] = scores if old is None else list(map(max, old, scores))
        texts: list[str] = []
        values: list[float] = []
        priors: list[float] = []
        for skel, scores in found.items():
            entries, _, entry_priors = self._entries(skel)
            texts += entries
            values += scores
            priors += entry_priors
        logps = list(map(add, values, priors))
        good = sum(map(EDIT_BELOW.__lt__, logps))
        return texts, values, priors, logps, good, [h[0] for h in hypotheses[:EDIT_SEEDS]], frozenset(found)

    def _entries(self, skel: str) -> tuple[tuple[str, ...], tuple[tuple[str, ...], ...], tuple[float, ...]]:
        """A skeleton's lexicon entries, their characters position by position, their priors."""
        found = self._entries_cache.get(skel)
        if found is None:
            texts = tuple(self._by_skeleton.get(skel, ()))
            chars = tuple(zip(*texts, strict=True)) if texts else ()
            found = self._entries_cache[skel] = (texts, chars, tuple(self.prior[t] for t in texts))
        return found

    def _edit_neighbours(self, key: str, seeds: list[str], seen: Container[str]) -> list[tuple[str, float]]:
        """Lexicon entries one letter edit away from the best skeleton hypotheses, DP-scored;
        none of the skeletons seen (the hypotheses', whose entries are scored already)."""
        skeletons: set[str] = set()
        for seed in [*seeds, skeleton(key)]:
            skeletons |= self._deletes.get(seed, set())  # a letter lost
            for i in range(len(seed)):
                shorter = seed[:i] + seed[i + 1 :]
                if shorter in self._by_skeleton:  # a letter added
                    skeletons.add(shorter)
                skeletons |= self._deletes.get(shorter, set())  # a letter changed
        # The most frequent EDIT_SCORED entries of these skeletons (the first of equal ones first).
        # A skeleton's entries are listed most frequent first, so none beyond its first
        # EDIT_SCORED can make it, nor any of a skeleton whose first entry is beaten by the first
        # entries of EDIT_SCORED others; the rest keep their order.
        by_skeleton, prior = self._by_skeleton, self.prior
        kept = sorted(s for s in skeletons if s not in seen)  # a set's order changes with the hash seed
        if len(kept) > EDIT_SCORED:
            firsts = [prior[by_skeleton[s][0]] for s in kept]
            best = sorted(range(len(kept)), key=firsts.__getitem__, reverse=True)[:EDIT_SCORED]
            kept = [kept[i] for i in sorted(best)]
        texts = [t for s in kept for t in by_skeleton[s][:EDIT_SCORED]]
        texts = sorted(texts, key=prior.__getitem__, reverse=True)[:EDIT_SCORED]  # = heapq.nlargest
        return [(t, self.channel.score(key, t)) for t in texts]

    def _acronyms(self, key: str) -> list[Candidate]:
        """A vowel-less core is an acronym; its d/p/b may be Đ's the lexicon lacks (NSĐP, CTĐT)."""
        if len(key) > 10 or any(skeleton(c) in _VOWELS or not c.isalpha() for c in key):
            return []
        spots = [i for i, c in enumerate(key) if c in "dpb"][:4]
        texts = {key[:i] + "đ" + key[i + 1 :] for i in spots}
        if key.count("d") > 1:
            texts.add(key.replace("d", "đ"))
        score, prior = self.channel.score, self._prior
        return [Candidate(t, score(key, t), prior(t), "word") for t in sorted(texts) if t not in self.prior]

    def _merges(self, key: str) -> list[Candidate]:
        """Two lexicon entries read as one token (cuacac → của các), best few."""
        out: list[tuple[str, float, float, float]] = []  # text, channel, prior, their sum (Candidate.logp)
        for i in range(1, len(key)):
            if not (_VOWELISH.search(key[:i]) and _VOWELISH.search(key[i:])):  # every syllable has a vowel
                continue
            lefts = self._single(key[:i], edits=False)[:MERGE_PARTS]
            rights = self._single(key[i:], edits=False)[:MERGE_PARTS]
            for a in lefts:
                for b in rights:
                    channel, prior = a.channel + b.channel + MERGE_LOGP, a.prior + b.prior
                    out.append((f"{a.text} {b.text}", channel, prior, channel + prior))
        unique = {m[0]: m for m in sorted(out, key=itemgetter(3))}  # best of each text wins
        best = sorted(unique.values(), key=itemgetter(3), reverse=True)[:MERGE_KEEP]  # = heapq.nlargest
        return [Candidate(text, channel, prior, "merge") for text, channel, prior, _ in best]

    def _compound(self, key: str, k: int) -> tuple[list[Candidate], Candidate]:
        """A core with inner separators (tổ-chức, đồng/người, cua.ngudi): parts restored apart.

        A '.', ':', '-' or apostrophe between letters is often a space OCR misread, so one of them
        may become a space (cua.ngudi → của người). Returns the ranked set and the copy.
        """
        parts = _SEPARATOR.split(key)
        beam: list[tuple[str, float, float, bool]] = [("", 0.0, 0.0, False)]  # text, channel, prior, spaced
        copy = Candidate(key, 0.0, 0.0, "copy")
        # "TM.UY BAN", "KT.CHU TICH": a signature mark glued to the next word stays as written.
        signature = len(parts) > 1 and parts[0].upper() in SIGNATURE_ABBREVIATIONS and parts[1] == "."
        for j, part in enumerate(parts):
            if j % 2:  # a separator
                keep = [(t + part, c + SEPARATOR_KEEP.get(part, 0.0), p, sp) for t, c, p, sp in beam]
                spaced = [(t + " ", c + SEPARATOR_SPACE, p, True) for t, c, p, sp in beam if not sp]
                merge_ok = part in SEPARATOR_KEEP and not (signature and j == 1)
                beam = keep + spaced if merge_ok else keep  # one space at most: a merge
                continue
            part_copy = self._copy(part)
            copy = Candidate(key, copy.channel + part_copy.channel, copy.prior + part_copy.prior, "copy")
            if signature and j == 0:
                words = [part_copy]
            else:
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


def _logp(candidate: Candidate) -> float:
    return candidate.logp

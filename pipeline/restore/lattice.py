"""Restore a line by choosing, per token, one candidate so that the whole line scores best.

Each word token's candidates (from CandidateGenerator, or a neural Restorer's candidates with
its probabilities) carry a score; the syllable LM of restore/ngram.py scores the sequence. The
decoder is an exact second-order Viterbi over (previous unit, unit) states, beam-limited; a
protected token has one candidate and passes through unchanged, so nothing is invented or
dropped. `NgramRestorer` is the n-gram model alone, `RescoredRestorer` rescores a neural model.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.restore.candidates import Candidate, CandidateGenerator
from pipeline.restore.ngram import BOS, LM_FILE, NGRAM_DIR, NONE, UNK, NgramLM, punct_units, token_units
from pipeline.restore.tokens import Piece, join, render, split_line
from pipeline.vietnamese import normalize

if TYPE_CHECKING:
    from pipeline.restore.restorer import Restorer

__all__ = ["SETTINGS_FILE", "DecoderSettings", "NgramRestorer", "RescoredRestorer", "Slot", "make_slot", "viterbi"]


@dataclass
class Slot:
    """One token of the lattice: per-candidate scores and LM unit ids, prepared for Viterbi."""

    scores: np.ndarray  # [K] weighted channel / model log-probs (+ penalties)
    length: np.ndarray  # [K] number of units
    first: np.ndarray  # [K] first unit (NONE if none)
    second: np.ndarray  # [K] second unit (NONE if fewer)
    inner: np.ndarray  # [K] log-prob of units 3.. given the ones before (context-free part)
    last: np.ndarray  # [K, 2] last two units (for candidates with 2+ units)


def make_slot(lm: NgramLM, units: Sequence[Sequence[int]], scores: Sequence[float]) -> Slot:
    k = len(units)
    length = np.array([len(u) for u in units], dtype=np.int64)
    pad = [[*u, NONE, NONE] for u in units]
    inner = np.zeros(k)
    for c, u in enumerate(units):
        if len(u) > 2:
            arr = np.asarray(u, dtype=np.int64)
            inner[c] = lm.logprob(arr[:-2], arr[1:-1], arr[2:]).sum()
    last = [list(u[-2:]) if len(u) >= 2 else [NONE, NONE] for u in units]
    return Slot(
        np.asarray(scores, dtype=np.float64),
        length,
        np.array([p[0] for p in pad], dtype=np.int64),
        np.array([p[1] for p in pad], dtype=np.int64),
        inner,
        np.array(last, dtype=np.int64).reshape(k, 2),
    )


def viterbi(lm: NgramLM, slots: Sequence[Slot], lm_weight: float = 1.0, start: int = NONE, beam: int = 48) -> list[int]:
    """Index of the chosen candidate of every slot: best sum of slot scores + lm_weight × LM."""
    v = lm.size
    xs, ys, best = np.array([NONE]), np.array([start]), np.zeros(1)
    backs: list[tuple[np.ndarray, np.ndarray]] = []
    for slot in slots:
        k = len(slot.scores)
        s_idx, c_idx = np.divmod(np.arange(len(best) * k), k)  # every (state, candidate) pair
        x, y = xs[s_idx], ys[s_idx]
        length, first = slot.length[c_idx], slot.first[c_idx]
        lm_score = slot.inner[c_idx].copy()
        one, two = length >= 1, length >= 2
        if one.any():
            lm_score[one] += lm.logprob(x[one], y[one], first[one])
        if two.any():
            lm_score[two] += lm.logprob(y[two], first[two], slot.second[c_idx][two])
        total = best[s_idx] + slot.scores[c_idx] + lm_weight * lm_score
        nx = np.where(length == 0, x, np.where(length == 1, y, slot.last[c_idx, 0]))
        ny = np.where(length == 0, y, np.where(length == 1, first, slot.last[c_idx, 1]))
        key = nx * v + ny
        order = np.lexsort((-total, key))
        head = np.ones(len(order), bool)
        head[1:] = key[order][1:] != key[order][:-1]
        keep = order[head]  # the best path into each (unit, unit) state
        if len(keep) > beam:
            keep = keep[np.argpartition(-total[keep], beam)[:beam]]
        xs, ys, best = nx[keep], ny[keep], total[keep]
        backs.append((s_idx[keep], c_idx[keep]))
    path, state = [], int(np.argmax(best)) if len(best) else 0
    for prev, choice in reversed(backs):
        path.append(int(choice[state]))
        state = int(prev[state])
    return path[::-1]


# ----------------------------------------------------------------------------- restorers

SETTINGS_FILE = "decoder.json"  # next to the LM: tuned by scripts/build_restore_ngram.py
_ONE_DIGIT = re.compile(r"[^\W\d_]*\d[^\W\d_]*")  # one digit among letters: d6i, 1y, T6 (not 10-11%, F-15)
_GARBAGE = frozenset("&@¢€¥$#|[{?")


@dataclass
class DecoderSettings:
    """Weights of the lattice scores (tuned on held-back train lines by build_restore_ngram.py)."""

    channel_weight: float = 1.0  # × log P(noisy | candidate), n-gram alone
    lm_weight: float = 1.0
    unk_penalty: float = -6.0  # per <unk> unit: a garbled or unknown copy is one of many unknowns
    candidates: int = 10  # best candidates per token kept in the lattice (plus the copy)
    copy_bonus: float = 0.0  # × share of the line's words with letters English OCR never writes (ư, ạ, đ)
    model_weight: float = 1.0  # × log P_model(candidate), rescoring a neural restorer
    rescore_lm_weight: float = 0.3
    rescore_copy_bonus: float = 0.0  # as copy_bonus, when rescoring a neural restorer
    min_model_prob: float = 1e-4
    beam: int = 48

    @classmethod
    def load(cls, path: Path) -> DecoderSettings:
        return cls(**json.loads(path.read_text(encoding="utf-8"))) if path.exists() else cls()


def _start(pieces: Sequence[Piece]) -> int:
    """<s> when the line opens with a capitalised word (likely a sentence start), else no context."""
    words = [p for p in pieces if p.kind == "word"]
    return BOS if words and words[0].core[:1].isupper() else NONE


def _units(lm: NgramLM, piece: Piece, text: str, copy: bool) -> list[int]:
    """LM units of a candidate; a garbled copy (d6i, 1y, s&) is an unknown word, not a number."""
    if copy and ((_ONE_DIGIT.fullmatch(text) and not text.isdigit()) or any(c in _GARBAGE for c in text)):
        return lm.ids(["<unk>", *punct_units(piece.suffix)])
    return lm.text_ids(piece.prefix + text + piece.suffix)


class NgramRestorer:
    """The n-gram model alone: CandidateGenerator channel scores + LM, one Viterbi per line."""

    def __init__(self, lm: NgramLM, generator: CandidateGenerator, settings: DecoderSettings | None = None) -> None:
        self.lm, self.generator = lm, generator
        self.settings = settings or DecoderSettings()
        self._cache: dict[Piece, tuple[list[Candidate], Slot]] = {}

    @classmethod
    def load(cls, directory: Path = NGRAM_DIR, generator: CandidateGenerator | None = None) -> NgramRestorer:
        settings = DecoderSettings.load(directory / SETTINGS_FILE)
        return cls(NgramLM.load(directory / LM_FILE), generator or CandidateGenerator.load(), settings)

    def _slot(self, piece: Piece) -> tuple[list[Candidate], Slot]:
        cached = self._cache.get(piece)
        if cached is not None:
            return cached
        s = self.settings
        if piece.kind != "word":
            cands = [Candidate(piece.core.lower(), 0.0, 0.0, "copy")]
            units = [self.lm.ids(token_units(piece.output()))]
        else:
            ranked = self.generator.candidates(piece.core, 24)
            copy = next(c for c in ranked if c.kind == "copy")
            cands = ranked[: s.candidates] + ([copy] if copy not in ranked[: s.candidates] else [])
            units = [_units(self.lm, piece, c.text, c.kind == "copy") for c in cands]
        pairs = zip(cands, units, strict=True)
        scores = [s.channel_weight * c.channel + s.unk_penalty * u.count(UNK) for c, u in pairs]
        out = (cands, make_slot(self.lm, units, scores))
        if len(self._cache) > 100_000:
            self._cache.clear()
        self._cache[piece] = out
        return out

    def restore_pieces(self, pieces: Sequence[Piece]) -> list[str]:
        """New text of every token (a merge becomes two words in one token).

        A line already written in Vietnamese letters (not English-model OCR, which cannot
        produce them) is mostly right as it is: its copies get a bonus in proportion.
        """
        lattice = [self._slot(p) for p in pieces]
        bonus = self.settings.copy_bonus * _vietnamese_share(pieces)
        slots = [s for _, s in lattice]
        if bonus:
            copies = [np.array([c.kind == "copy" for c in cands]) for cands, _ in lattice]
            slots = [dataclasses.replace(s, scores=s.scores + bonus * c) for s, c in zip(slots, copies, strict=True)]
        path = viterbi(self.lm, slots, self.settings.lm_weight, _start(pieces), self.settings.beam)
        return render(
            pieces,
            [
                cands[choice].text if p.kind == "word" else None
                for p, (cands, _), choice in zip(pieces, lattice, path, strict=True)
            ],
        )

    def restore_line(self, line: str) -> str:
        pieces = split_line(line)
        return join(line, self.restore_pieces(pieces)) if pieces else line


class RescoredRestorer:
    """A neural restorer's per-token candidate probabilities rescored with the LM by Viterbi."""

    def __init__(self, restorer: Restorer, lm: NgramLM, settings: DecoderSettings | None = None) -> None:
        self.restorer, self.lm = restorer, lm
        self.settings = settings or DecoderSettings()

    def restore_tokens(self, lines: Sequence[Sequence[str]]) -> list[list[str]]:
        """New text of every whitespace token of every line."""
        return [self.decode(line) for line in self.restorer.candidate_probs(lines)]

    def decode(self, line: Sequence[tuple[Piece, list[Candidate], np.ndarray]]) -> list[str]:
        """Token texts from one line of Restorer.candidate_probs output."""
        choices = rescore_choices(self.lm, self.settings, line)
        chosen = [  # cased like Restorer's own output (render), to isolate the LM's effect
            (cands[c].text if cands[c].kind != "copy" else piece.core.lower()) if piece.kind == "word" else None
            for (piece, cands, _), c in zip(line, choices, strict=True)
        ]
        return [normalize(text) for text in render([piece for piece, _, _ in line], chosen)]


def rescore_choices(
    lm: NgramLM, s: DecoderSettings, line: Sequence[tuple[Piece, list[Candidate], np.ndarray]]
) -> list[int]:
    """Per token, the index of the candidate that the model's probabilities and the LM together
    prefer (Viterbi over the line); 0 for tokens that are not words."""
    slots, kept = [], []
    bonus = s.rescore_copy_bonus * _vietnamese_share([piece for piece, _, _ in line])
    for piece, cands, probs in line:
        keep = [0]
        if piece.kind != "word":
            units = [lm.ids(token_units(piece.output()))]
        else:
            keep = [int(i) for i in np.argsort(-probs)[: s.candidates] if probs[i] >= s.min_model_prob]
            keep = keep or [int(np.argmax(probs))]
            copy = next((i for i, c in enumerate(cands) if c.kind == "copy"), None)
            if bonus and copy is not None and copy not in keep:
                keep.append(copy)  # a line written in Vietnamese letters may keep a word the model doubts
            units = [_units(lm, piece, cands[i].text, cands[i].kind == "copy") for i in keep]
        logp = [
            s.model_weight * math.log(max(float(probs[i]), 1e-12)) + bonus * (cands[i].kind == "copy") for i in keep
        ]
        slots.append(make_slot(lm, units, logp))
        kept.append(keep)
    path = viterbi(lm, slots, s.rescore_lm_weight, _start([p for p, _, _ in line]), s.beam)
    return [keep[choice] for keep, choice in zip(kept, path, strict=True)]


def _vietnamese_share(pieces: Sequence[Piece]) -> float:
    """Share of word tokens with a letter beyond Latin-1 (ư ơ ă đ ạ ả ...)."""
    words = [p.core for p in pieces if p.kind == "word"]
    return sum(any(ord(c) > 0xFF and c.isalpha() for c in w) for w in words) / len(words) if words else 0.0

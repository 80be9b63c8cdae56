"""Restore a line by choosing, per token, one candidate so that the whole line scores best.

Each word token's candidates (from CandidateGenerator, or a neural Restorer's candidates with
its probabilities) carry a score; the syllable LM of restore/ngram.py scores the sequence. The
decoder (restore/viterbi.py) is an exact second-order Viterbi over (previous unit, unit)
states, beam-limited; a protected token has one candidate and passes through unchanged, so nothing is invented or
dropped. `NgramRestorer` is the n-gram model alone, `RescoredRestorer` rescores a neural model.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from pipeline.restore.candidates import Candidate, CandidateGenerator
from pipeline.restore.ngram import BOS, LM_FILE, NGRAM_DIR, NONE, UNK, NgramLM, punct_units, token_units
from pipeline.restore.tokens import Piece, join, render, split_line
from pipeline.restore.viterbi import Slot, make_slot, viterbi, viterbi_lines
from pipeline.vietnamese import normalize

if TYPE_CHECKING:
    from pipeline.restore.restorer import Restorer

__all__ = [
    "SETTINGS_FILE",
    "DecoderSettings",
    "NgramRestorer",
    "RescoredRestorer",
    "Slot",
    "line_lattice",
    "make_slot",
    "rescore_choices",
    "rescore_lines",
    "viterbi",
    "viterbi_lines",
]


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
            slots = [s.with_bonus(bonus, [c.kind == "copy" for c in cands]) for cands, s in lattice]
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
    return rescore_lines(lm, s, [line])[0]


def rescore_lines(
    lm: NgramLM, s: DecoderSettings, lines: Sequence[Sequence[tuple[Piece, list[Candidate], np.ndarray]]]
) -> list[list[int]]:
    """rescore_choices of each line; the lines decoded together (viterbi_lines), by similar
    lengths in chunks of bounded size (its per-position table is lines × longest line)."""
    order = sorted(range(len(lines)), key=lambda i: len(lines[i]))
    out: list[list[int]] = [[] for _ in lines]
    chunk: list[int] = []
    for i in order:
        if chunk and (len(chunk) + 1) * len(lines[i]) > _CHUNK_CELLS:
            _rescore_chunk(lm, s, lines, chunk, out)
            chunk = []
        chunk.append(i)
    if chunk:
        _rescore_chunk(lm, s, lines, chunk, out)
    return out


_CHUNK_CELLS = 1 << 17  # lines × longest line per decoding: some 20,000 tokens of OCR lines


def line_lattice(
    lm: NgramLM,
    s: DecoderSettings,
    line: Sequence[tuple[Piece, Sequence[Candidate], np.ndarray]],
    best: Iterator[tuple[list[int], list[float]]] | None = None,
) -> tuple[list[Slot], list[list[int]]]:
    """The slots rescoring builds for one line of (piece, candidates, probs): the candidates kept (the
    model's best, and the copy on a line written in Vietnamese letters), their scores and LM units;
    and, per slot, the candidate index of each. The Viterbi and the posterior read the same lattice.
    `best`: _model_best of the words of this line and the lines after it, made at once by a caller
    that builds many lattices (the line takes its words' from it)."""
    slots, kept = [], []
    bonus = s.rescore_copy_bonus * _vietnamese_share([piece for piece, _, _ in line])
    if best is None:
        best = _model_best(s, [probs for piece, _, probs in line if piece.kind == "word"])
    for piece, cands, probs in line:
        if piece.kind != "word":
            keep, chosen = [0], [probs.item(0)]
            units = [lm.ids(token_units(piece.output()))]
        else:
            keep, chosen = next(best)
            if bonus:
                copy = next((i for i, c in enumerate(cands) if c.kind == "copy"), None)
                if copy is not None and copy not in keep:
                    keep.append(copy)  # a line written in Vietnamese letters may keep a word the model doubts
                    chosen.append(probs.item(copy))
            units = [_units(lm, piece, cands[i].text, cands[i].kind == "copy") for i in keep]
        logp = [
            s.model_weight * math.log(max(p, 1e-12)) + bonus * (cands[i].kind == "copy")
            for i, p in zip(keep, chosen, strict=True)
        ]
        slots.append(make_slot(lm, units, logp))
        kept.append(keep)
    return slots, kept


def _model_best(s: DecoderSettings, probs: Sequence[np.ndarray]) -> Iterator[tuple[list[int], list[float]]]:
    """Per array of candidate probabilities, the indices of its s.candidates best that reach
    s.min_model_prob (else of its best alone), and their probabilities as floats. Arrays of one
    length and type are sorted as the rows of one (a row is sorted as the array alone would be,
    ties included): per token, the numpy calls were most of the lattice's time."""
    found: list[tuple[list[int], list[float]]] = [([], [])] * len(probs)
    groups: dict[tuple[int, np.dtype], list[int]] = {}
    for n, p in enumerate(probs):
        groups.setdefault((len(p), p.dtype), []).append(n)
    for members in groups.values():
        table = np.stack([probs[n] for n in members])
        order = np.argsort(-table, axis=1)[:, : s.candidates]
        high = np.take_along_axis(table, order, axis=1) >= s.min_model_prob
        rows = zip(order.tolist(), high.tolist(), table.argmax(axis=1).tolist(), table.tolist(), strict=True)
        for n, (ranked, ok, top, values) in zip(members, rows, strict=True):
            keep = [i for i, good in zip(ranked, ok, strict=True) if good] or [top]
            found[n] = (keep, [values[i] for i in keep])
    return iter(found)


def _rescore_chunk(
    lm: NgramLM,
    s: DecoderSettings,
    lines: Sequence[Sequence[tuple[Piece, list[Candidate], np.ndarray]]],
    chunk: list[int],
    out: list[list[int]],
) -> None:
    """Decode lines[i] for i in chunk into out[i]."""
    lattices, kept_lines = [], []
    best = _model_best(s, [probs for i in chunk for piece, _, probs in lines[i] if piece.kind == "word"])
    for line in (lines[i] for i in chunk):
        slots, kept = line_lattice(lm, s, line, best)
        lattices.append(slots)
        kept_lines.append(kept)
    starts = [_start([p for p, _, _ in lines[i]]) for i in chunk]
    paths = viterbi_lines(lm, lattices, s.rescore_lm_weight, starts, s.beam)
    for i, kept, path in zip(chunk, kept_lines, paths, strict=True):
        out[i] = [keep[choice] for keep, choice in zip(kept, path, strict=True)]


def _vietnamese_share(pieces: Sequence[Piece]) -> float:
    """Share of word tokens with a letter beyond Latin-1 (ư ơ ă đ ạ ả ...)."""
    words = [p.core for p in pieces if p.kind == "word"]
    return sum(any(ord(c) > 0xFF and c.isalpha() for c in w) for w in words) / len(words) if words else 0.0

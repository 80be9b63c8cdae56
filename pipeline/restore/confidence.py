"""The word-right model: the probability that a token's final text is right.

The network's probability of its choice alone does not separate right from wrong words (almost
every restored word got ~0.96 once calibrated, benchmarks/review.md). This model combines what
restore knows of every word token when it decides it (`Evidence`, a hook of Restorer):

- the network: its probability of the final text, the margin to the best other candidate,
  whether the final text is its argmax and whether the restorer chose it;
- the n-gram LM: a local posterior of the final text among the token's candidates given the
  final texts of its neighbours (network + LM, as the rescoring weighs them), and the LM's alone;
  and the lattice marginal of the final text, its neighbours summed out by forward–backward over
  the rescoring lattice (restore/posterior.py);
- the channel and the lexicon: log P(read | final), the lexicon prior, whether the token as
  read and its final text are known syllables, glyphs that are no letters, length;
- tesseract's confidence when the word was OCR'd (vie scans), and the kind of outcome (kept,
  changed, merge, a signer's given name, a place name).

A logistic regression over these features, then an isotonic map of its probability to the
share of right words, one per way in (`ocr`: vie OCR tokens, `text`: restored text), fitted on
the tune split of the rendered development plans by scripts/fit_word_right.py and stored as
JSON beside the model (word_right.json). Evaluated with numpy: no scikit-learn at runtime.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from pipeline.restore.candidates import OOV_LOGP
from pipeline.restore.lattice import DecoderSettings, _start, _units, _vietnamese_share
from pipeline.restore.ngram import NONE, NgramLM, token_units
from pipeline.restore.paths import MODEL_DIR
from pipeline.restore.posterior import _group_logsumexp
from pipeline.restore.restorer import Evidence
from pipeline.vietnamese import has_diacritics

__all__ = ["FEATURES", "WORD_RIGHT_FILE", "WordRight", "default_word_right", "final_index", "line_features"]

log = logging.getLogger(__name__)

WORD_RIGHT_FILE = "word_right.json"
_ALTERNATIVES = 8  # candidates weighed in the local posterior besides the final one and the copy
_FLOOR = 1e-6  # network probabilities below this count as this (logs stay finite)

FEATURES = (
    "log_p",  # log of the network's probability of the final text
    "log_margin",  # log p(final) − log p(best other candidate)
    "net_argmax",  # the final text is the network's argmax
    "restorer_choice",  # the final text is what the restorer (network + LM) chose
    "log_post",  # local posterior among the candidates: network + LM (+ copy bonus), as rescoring weighs them
    "log_lm_post",  # local posterior by the LM alone
    "channel",  # log P(read | final) / 10, floored at −3
    "prior",  # lexicon log prior of the final text / 10, floored at −3
    "changed",  # the final text is not the token as read
    "merge",  # two syllables from one token
    "glyphs",  # the token as read has characters that are no letters (d6i, S&)
    "read_known",  # the token as read is a lexicon syllable
    "final_known",  # the final text is a lexicon syllable (or two)
    "marked",  # the token as read carries Vietnamese marks
    "length",  # letters of the core, up to 12, / 12
    "short",  # one or two letters
    "candidates",  # log of the number of candidates
    "vie_share",  # share of the line's words with letters beyond Latin-1
    "name",  # a signer's given name, left as read (restore/names.py)
    "place",  # a place name from the administrative-unit list
    "ocr",  # tesseract's confidence (0 without)
    "ocr_logit",  # its logit, clipped to ±6
    "lattice_logit",  # logit of the lattice marginal (restore/posterior.py: neighbours summed out), ±14
)


def final_index(evidence: Evidence, text: str | None = None) -> int:
    """Index of the candidate that is the final text: the candidate equal to `text` (lower
    case), the copy when `text` is the token as read, else the restorer's choice."""
    if text is not None:
        wanted = text.lower()
        for i, candidate in enumerate(evidence.candidates):
            if candidate.text == wanted and (candidate.kind != "copy" or wanted == evidence.piece.core.lower()):
                return i
        if wanted == evidence.piece.core.lower():
            return next((i for i, c in enumerate(evidence.candidates) if c.kind == "copy"), evidence.choice)
    return evidence.choice


def _units_of(lm: NgramLM, ev: Evidence, index: int) -> list[int]:
    if ev.piece.kind != "word":
        return lm.ids(token_units(ev.piece.output()))
    candidate = ev.candidates[index]
    return _units(lm, ev.piece, candidate.text, candidate.kind == "copy")


def local_posteriors(
    lm: NgramLM, settings: DecoderSettings, line: Sequence[Evidence], finals: Sequence[int]
) -> list[tuple[float, float]]:
    """Per token, (log posterior of its final candidate by network + LM, by the LM alone) among
    its best candidates, its neighbours fixed to their final texts; (0, 0) for non-words."""
    units = [_units_of(lm, ev, f) for ev, f in zip(line, finals, strict=True)]
    start = _start([ev.piece for ev in line])
    bonus = settings.rescore_copy_bonus * _vietnamese_share([ev.piece for ev in line])
    rights: list[list[int]] = [[] for _ in line]
    following: list[int] = []
    for j in range(len(line) - 1, -1, -1):
        rights[j] = following[:2]
        following = (units[j] + following)[:2]
    left = [NONE, start]
    # Every candidate's units between the two units before it and the two after, one after the
    # other in `flat`: its trigrams are the windows of three ending past the first two (cut out
    # by numpy, not appended id by id).
    flat: list[int] = []
    ends: list[int] = []
    tokens: list[tuple[int, list[int]]] = []  # (token, its candidates weighed: the final one first)
    for j, (ev, f) in enumerate(zip(line, finals, strict=True)):
        if ev.piece.kind == "word" and len(ev.candidates) > 1:
            order = np.argsort(-ev.probs)[:_ALTERNATIVES].tolist()
            copy = next((i for i, c in enumerate(ev.candidates) if c.kind == "copy"), f)
            chosen = [f, *(i for i in dict.fromkeys([*order, copy]) if i != f)]
            for i in chosen:
                flat += left
                flat += units[j] if i == f else _units_of(lm, ev, i)
                flat += rights[j]
                ends.append(len(flat))
            tokens.append((j, chosen))
        left = [*left, *units[j]][-2:]
    out = [(0.0, 0.0)] * len(line)
    if not tokens:
        return out
    end = np.array(ends, np.int64)
    size = np.diff(end, prepend=0) - 2  # trigrams per candidate
    segments = np.repeat(np.arange(len(end)), size)
    last = np.arange(len(segments)) - np.repeat(np.cumsum(size) - size, size) + np.repeat(end - size, size)
    lm_scores = np.zeros(len(end))
    if len(last):
        ids = np.array(flat, np.int64)
        lp = lm.logprob(ids[last - 2], ids[last - 1], ids[last])
        lm_scores = np.bincount(segments, weights=lp, minlength=len(end))
    # Network + LM of every weighed candidate, then per token (a run of rows, its final candidate
    # first) the log posterior of its first row: one numpy pass over the line, not one per token.
    net = [
        settings.model_weight * math.log(max(p, 1e-12)) + bonus * (line[j].candidates[i].kind == "copy")
        for j, chosen in tokens
        for i, p in zip(chosen, line[j].probs[chosen].tolist(), strict=True)
    ]
    total = np.array(net) + settings.rescore_lm_weight * lm_scores
    counts = [len(chosen) for _, chosen in tokens]
    firsts, groups = np.cumsum([0, *counts[:-1]]), np.repeat(np.arange(len(tokens)), counts)
    posterior = total[firsts] - _group_logsumexp(total, groups, len(tokens))
    lm_posterior = lm_scores[firsts] - _group_logsumexp(lm_scores, groups, len(tokens))
    for (j, _), a, b in zip(tokens, posterior.tolist(), lm_posterior.tolist(), strict=True):
        out[j] = (a, b)
    return out


def line_features(
    line: Sequence[Evidence],
    finals: Sequence[int],
    posteriors: Sequence[tuple[float, float]],
    ocr: Sequence[float | None],
    names: Sequence[bool],
    places: Sequence[bool],
    lattice: Sequence[float] | None = None,
) -> np.ndarray:
    """[tokens, len(FEATURES)] features of a line's tokens (rows of non-words are zeros);
    `lattice`: the log lattice marginal of each final text (posterior.lattice_posteriors)."""
    share = _vietnamese_share([ev.piece for ev in line])
    rows = np.zeros((len(line), len(FEATURES)))
    for j, ev in enumerate(line):
        if ev.piece.kind != "word":
            continue
        f = finals[j]
        p = np.maximum(ev.probs.astype(float), _FLOOR)
        others = np.delete(p, f)
        final = ev.candidates[f]
        copy = next((c for c in ev.candidates if c.kind == "copy"), None)
        core = ev.piece.core
        letters = sum(c.isalpha() for c in core)
        conf = ocr[j]
        logit = 0.0 if conf is None else math.log(max(conf, 1e-3) / max(1 - conf, 1e-3))
        rows[j] = (
            math.log(p[f]),
            math.log(p[f]) - math.log(others.max()) if len(others) else 14.0,
            float(f == int(np.argmax(p))),
            float(f == ev.choice),
            posteriors[j][0],
            posteriors[j][1],
            max(final.channel, -30.0) / 10,
            max(final.prior, -30.0) / 10,
            float(final.kind != "copy"),
            float(final.kind == "merge"),
            float(any(not c.isalpha() for c in core)),
            float(copy is not None and copy.prior > OOV_LOGP + 1e-9),
            float(final.prior > OOV_LOGP + 1e-9 if final.kind != "merge" else final.prior > 2 * OOV_LOGP + 1e-9),
            float(has_diacritics(core)),
            min(letters, 12) / 12,
            float(letters <= 2),
            math.log(len(ev.candidates)),
            share,
            float(names[j]),
            float(places[j]),
            0.0 if conf is None else conf,
            max(-6.0, min(6.0, logit)),
            0.0 if lattice is None else _marginal_logit(lattice[j]),
        )
    rows[:, 1] = np.clip(rows[:, 1], -14.0, 14.0)
    return rows


def _marginal_logit(log_p: float) -> float:
    """log p − log(1 − p), clipped to ±14 (p = 1 to float precision is common on clear words)."""
    return max(-14.0, min(14.0, log_p - math.log(max(-math.expm1(log_p), 1e-12))))


@dataclass(frozen=True)
class _Map:
    mean: np.ndarray
    scale: np.ndarray
    coef: np.ndarray
    intercept: float
    knots: tuple[np.ndarray, np.ndarray]  # isotonic map of the logistic probability


@dataclass(frozen=True)
class WordRight:
    """Logistic regression + isotonic map per way in ('ocr', 'text')."""

    maps: dict[str, _Map]
    name: str = "none"
    features: tuple[str, ...] = FEATURES

    def __call__(self, rows: np.ndarray, way: str) -> np.ndarray:
        """Probability that each row's word is right (rows of FEATURES: the model's columns used)."""
        m = self.maps[way]
        x = np.asarray(rows, dtype=float)
        if self.features != FEATURES:
            x = x[..., [FEATURES.index(f) for f in self.features]]
        z = ((x - m.mean) / m.scale) @ m.coef + m.intercept
        return np.interp(1.0 / (1.0 + np.exp(-z)), m.knots[0], m.knots[1])

    @classmethod
    def load(cls, path: Path) -> WordRight:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not set(data["features"]) <= set(FEATURES):  # a model fitted without a newer feature still runs
            raise ValueError(f"{path}: fitted on other features; refit with scripts/fit_word_right.py")
        return cls.load_dict(data)

    @classmethod
    def load_dict(cls, data: dict[str, Any]) -> WordRight:
        """From the parsed JSON (scripts/fit_word_right.py writes it)."""
        maps = {
            way: _Map(
                np.array(m["mean"], dtype=float),
                np.array(m["scale"], dtype=float),
                np.array(m["coef"], dtype=float),
                float(m["intercept"]),
                (np.array(m["iso_x"], dtype=float), np.array(m["iso_y"], dtype=float)),
            )
            for way, m in data["maps"].items()
        }
        return cls(maps, name=str(data["id"]), features=tuple(data.get("features", FEATURES)))


@cache
def default_word_right(directory: Path = MODEL_DIR) -> WordRight | None:
    """The shipped model, or None (restore then keeps the calibrated network probability)."""
    path = directory / WORD_RIGHT_FILE
    if not path.exists():
        return None
    try:
        return WordRight.load(path)
    except ValueError as exc:
        log.warning("%s: the calibrated network probability is used instead", exc)
        return None

"""The rescored lattice posterior: per token, the probability of each candidate summed over every
path of the line, by forward–backward over the decoder's lattice.

The local posterior of confidence.py fixes a token's neighbours to their final texts, so a tone
choice the neighbours were themselves chosen to agree with looks certain. Here the neighbours
are summed out: P(candidate at t | line) ∝ Σ over paths through it of exp(path score), the path
score being exactly what the rescoring Viterbi maximises (slot scores = model_weight × network
log-prob + copy bonus, + rescore_lm_weight × the trigram LM), over the same (previous unit,
unit) states. The forward pass keeps the states the Viterbi keeps (its max-product scores, the
same beam), so the sums run over the Viterbi's pruned lattice and its max-product score is the
Viterbi's best (tests/test_restore_posterior.py). The LM lookups are viterbi.py's own helpers,
and a page's lines run together position by position, as viterbi_lines decodes them.

Each line is its own lattice started as rescoring starts a line: the restorer rescoring running
text across line ends is not followed here (a line's first tokens miss the previous line's end).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from pipeline.restore.lattice import _CHUNK_CELLS, DecoderSettings, _start, line_lattice
from pipeline.restore.ngram import NONE, NgramLM
from pipeline.restore.restorer import Evidence
from pipeline.restore.viterbi import (
    MANY_PAIRS,
    Slot,
    _best_into,
    _lm_scores,
    _States,
    _Table,
    beam_per_line,
    decode_parts,
)

__all__ = ["Marginals", "forward_backward", "forward_backward_lines", "lattice_posteriors"]

_FLOOR = math.log(1e-6)  # log marginal of a final text off the lattice (not among the kept candidates)


@dataclass(frozen=True)
class Marginals:
    """log P(candidate | line) per slot and candidate (−inf: every path through it was pruned),
    log of the sum over all kept paths, and the best path's score (max-product)."""

    log_marginals: list[np.ndarray]
    log_z: float
    best: float


def _group_logsumexp(values: np.ndarray, groups: np.ndarray, n: int) -> np.ndarray:
    """Per group 0..n-1, log Σ exp(values) of its members (−inf for a group without any)."""
    top = np.full(n, -np.inf)
    np.maximum.at(top, groups, values)
    safe = np.where(np.isfinite(top), top, 0.0)  # a group's own shift: lines of other lengths differ by far
    total = np.bincount(groups, weights=np.exp(values - safe[groups]), minlength=n)
    with np.errstate(divide="ignore"):
        return safe + np.log(total)


def forward_backward(
    lm: NgramLM, slots: Sequence[Slot], lm_weight: float = 1.0, start: int = NONE, beam: int = 48
) -> Marginals:
    """Marginals of every slot's candidates under slot scores + lm_weight × LM (viterbi()'s
    objective), the states pruned as viterbi() prunes them."""
    return forward_backward_lines(lm, [slots], lm_weight, [start], beam)[0]


def forward_backward_lines(
    lm: NgramLM, lines: Sequence[Sequence[Slot]], lm_weight: float, starts: Sequence[int], beam: int
) -> list[Marginals]:
    """forward_backward() of each line, the lines run together position by position (as
    viterbi_lines decodes them: numpy's per-call overhead is paid once per position, not per line).

    As viterbi_lines does, a line is cut where its LM state is the same on every path (two units
    the tokens fix) and its parts run side by side: every path passes that one state, so a path's
    score is the sum of its parts' and the sum over paths the product of the parts' sums; each
    part's marginals are the line's (to float rounding), its log Z and best add up. A line of a
    page has a few such points (numbers, codes, words kept as read): fewer positions to step."""
    parts, found = decode_parts(_forward_backward, lm, lines, lm_weight, starts, beam)
    marginals: list[list[np.ndarray]] = [[] for _ in lines]
    log_z, best = [0.0] * len(lines), [0.0] * len(lines)
    for (i, *_), part in zip(parts, found, strict=True):
        marginals[i] += part.log_marginals
        log_z[i] += part.log_z
        best[i] += part.best
    return [Marginals(*line) for line in zip(marginals, log_z, best, strict=True)]


def _forward_backward(
    lm: NgramLM,
    lines: Sequence[Sequence[Slot]],
    lm_weight: float,
    xs_start: Sequence[int],
    ys_start: Sequence[int],
    beam: int,
) -> list[Marginals]:
    """The marginals of lines run together, each from its context (x, y)."""
    table = _Table(lm, lines)
    v, n = table.v, table.lines
    xs, ys = np.array(xs_start, np.int64).reshape(n), np.array(ys_start, np.int64).reshape(n)
    states = _States(np.arange(n, dtype=np.int64), xs, ys, np.zeros(n), *lm.context_part(xs, ys))
    alpha = np.zeros(n)  # log Σ over the paths into each state
    log_z, best = np.zeros(n), np.zeros(n)  # an empty line: its one path, of score 0
    lengths = np.array([len(slots) for slots in lines], np.int64)
    alphas: list[np.ndarray] = []
    state_lines: list[np.ndarray] = []
    # per position, the pairs that reach a kept state: (from state, candidate row, score, to state)
    edges: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for t in range(table.length):
        count = table.count[t][states.line]  # 0 for the states of lines already ended: they stop here
        s_idx = np.repeat(np.arange(len(count)), count)
        within = np.arange(len(s_idx)) - np.repeat(np.cumsum(count) - count, count)
        c = np.repeat(table.offset[t][states.line], count) + within
        lm_score, yw_context, yw_stored = _lm_scores(lm, table, t, states, s_idx, within, c, len(s_idx) >= MANY_PAIRS)
        score = table.scores[c] + lm_weight * lm_score
        total = states.best[s_idx] + score
        size, pair_line = table.size[c], states.line[s_idx]
        nx = np.where(size == 0, states.x[s_idx], np.where(size == 1, states.y[s_idx], table.last[c, 0]))
        ny = np.where(size == 0, states.y[s_idx], np.where(size == 1, table.first[c], table.last[c, 1]))
        key = (pair_line * v + nx) * v + ny
        # viterbi's states: by key (so by line), then each line's beam
        keep, _ = beam_per_line(_best_into(key, total), pair_line, total, n, beam)
        by_key = np.argsort(key[keep])
        sorted_keys = key[keep][by_key]
        at = np.minimum(np.searchsorted(sorted_keys, key), max(len(keep) - 1, 0))
        live = np.flatnonzero(sorted_keys[at] == key) if len(keep) else np.zeros(0, np.int64)
        dest = by_key[at[live]]
        alphas.append(alpha)
        state_lines.append(states.line)
        edges.append((s_idx[live], c[live], score[live], dest))
        alpha = _group_logsumexp(alpha[s_idx[live]] + score[live], dest, len(keep))
        k_size, k_c, k_s = size[keep], c[keep], s_idx[keep]
        # a state's context is a function of its (x, y): any pair into it carries the same
        context = np.where(
            k_size == 0, states.context[k_s], np.where(k_size == 1, yw_context[keep], table.last_context[k_c])
        )
        stored = np.where(
            k_size == 0, states.stored[k_s], np.where(k_size == 1, yw_stored[keep], table.last_stored[k_c])
        )
        states = _States(pair_line[keep], nx[keep], ny[keep], total[keep], context, stored)
        ending = np.flatnonzero(lengths == t + 1)
        if len(ending):
            z = _group_logsumexp(alpha, states.line, n)
            top = np.full(n, -np.inf)
            np.maximum.at(top, states.line, states.best)
            log_z[ending], best[ending] = z[ending], top[ending]
    # Backward: β of a state = log Σ over the paths out of it to its line's end (0 at the end).
    marginal = np.full(len(table.scores), -np.inf)
    candidate_line = np.concatenate(
        [np.repeat(np.arange(n), table.count[t]) for t in range(table.length)] or [np.zeros(0, np.int64)]
    )
    beta = np.zeros(len(alpha))
    for t in range(table.length - 1, -1, -1):
        s_idx, c, score, dest = edges[t]
        out = score + beta[dest]
        first = int(table.offset[t][table.count[t] > 0].min())  # position t's candidates: one block of rows
        rows = slice(first, first + int(table.count[t].sum()))
        found = _group_logsumexp(alphas[t][s_idx] + out, c - first, rows.stop - first)
        marginal[rows] = found - log_z[candidate_line[rows]]
        beta = _group_logsumexp(out, s_idx, len(alphas[t]))
        beta[lengths[state_lines[t]] == t] = 0.0  # the states of lines that ended at t - 1
    return [
        Marginals(
            [marginal[table.offset[t, i] : table.offset[t, i] + table.count[t, i]] for t in range(len(slots))],
            float(log_z[i]),
            float(best[i]),
        )
        for i, slots in enumerate(lines)
    ]


def lattice_posteriors(
    lm: NgramLM, settings: DecoderSettings, lines: Sequence[Sequence[Evidence]], finals: Sequence[Sequence[int]]
) -> list[list[float]]:
    """Per line and token, the log lattice marginal of its final candidate (rescoring's lattice of
    each line alone, started as rescoring starts it; the lines run together): 0 for non-words,
    log 1e-6 for a final text rescoring did not keep (or below that)."""
    lattices = [line_lattice(lm, settings, [(ev.piece, ev.candidates, ev.probs) for ev in line]) for line in lines]
    starts = [_start([ev.piece for ev in line]) for line in lines]
    found: list[Marginals | None] = [None] * len(lines)
    chunks: list[list[int]] = [[]]
    # by similar lengths, in chunks of bounded size (the table is lines × longest line), as rescore_lines
    for i in sorted(range(len(lines)), key=lambda i: len(lines[i])):
        if chunks[-1] and (len(chunks[-1]) + 1) * len(lines[i]) > _CHUNK_CELLS:
            chunks.append([])
        chunks[-1].append(i)
    for chunk in filter(None, chunks):
        slots, chunk_starts = [lattices[k][0] for k in chunk], [starts[k] for k in chunk]
        part = forward_backward_lines(lm, slots, settings.rescore_lm_weight, chunk_starts, settings.beam)
        for k, marginals in zip(chunk, part, strict=True):
            found[k] = marginals
    out = []
    for line, chosen, (_, kept), marginals in zip(lines, finals, lattices, found, strict=True):
        assert marginals is not None
        values = []
        for ev, f, keep, marginal in zip(line, chosen, kept, marginals.log_marginals, strict=True):
            value = float(marginal[keep.index(f)]) if f in keep else _FLOOR
            values.append(0.0 if ev.piece.kind != "word" else min(0.0, max(_FLOOR, value)))
        out.append(values)
    return out

"""The lattice's decoder: an exact second-order Viterbi over (previous unit, unit) states, beam-limited.

Each token (a `Slot`) has a few candidates with a score and LM units; the best path maximises the
sum of the scores + lm_weight × the syllable LM's log-prob of the units. `viterbi_lines` decodes
several lines together, position by position, each step vectorised over all their (state,
candidate) pairs: a token of one line has a few dozen pairs, too few for numpy's per-call
overhead, which was most of the time of the per-token decoder this replaced. The LM lookups
shared between pairs are made once: a state's context is carried from the step that made it
(the bigram was looked up there) and, with many pairs, what depends only on a state's last unit
and the candidate once per (line, unit) group; a trigram is looked up only where its context
is stored (estimate() keeps the context of every trigram it keeps).

Per line the states are kept in the order, every tie is broken the way, and the sums are made
in the order of the replaced decoder (one lexsort per token, argpartition for the beam): the
paths are the same to the last bit (tests/test_restore_viterbi.py keeps it as the reference).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np

from pipeline.restore.ngram import NONE, NgramLM

_Part = TypeVar("_Part")  # what a decoder gives for one part of a line

__all__ = ["Slot", "cut_lines", "decode_parts", "make_slot", "viterbi", "viterbi_lines"]

# From this many (state, candidate) pairs at a position, numpy's sorting and the shared lookups
# per (line, y) group pay (a token of one line has some 70 pairs; 64 lines some 4,000).
MANY_PAIRS = 600


@dataclass(frozen=True)
class Slot:
    """One token of the lattice: per candidate, its score and LM units (plain tuples: a token
    has a few candidates)."""

    scores: tuple[float, ...]  # weighted channel / model log-probs (+ penalties)
    units: tuple[tuple[int, ...], ...]  # LM unit ids
    inner: tuple[float, ...]  # log-prob of units 3.. given the ones before (context-free part)

    def with_bonus(self, bonus: float, flags: Sequence[bool]) -> Slot:
        """The slot with `bonus` added to the flagged candidates' scores (+ 0.0 to the others:
        the sums stay bit-identical to adding a bonus × flag array)."""
        return dataclasses.replace(self, scores=tuple(s + bonus * f for s, f in zip(self.scores, flags, strict=True)))


def make_slot(lm: NgramLM, units: Sequence[Sequence[int]], scores: Sequence[float]) -> Slot:
    kept = tuple(map(tuple, units))  # map, not generators: a slot per token, some 10 µs each
    return Slot(tuple(map(float, scores)), kept, tuple(map(lm.inner_logprob, kept)))


def viterbi(lm: NgramLM, slots: Sequence[Slot], lm_weight: float = 1.0, start: int = NONE, beam: int = 48) -> list[int]:
    """Index of the chosen candidate of every slot: best sum of slot scores + lm_weight × LM."""
    return viterbi_lines(lm, [slots], lm_weight, [start], beam)[0]


def viterbi_lines(
    lm: NgramLM,
    lines: Sequence[Sequence[Slot]],
    lm_weight: float,
    starts: Sequence[int],
    beam: int,
) -> list[list[int]]:
    """viterbi() of each line (each started from the context (<none>, start)), decoded together.

    Where a line's LM state is the same on every path (two units in a row that the tokens fix:
    a number and a word kept as read, a code), the best path through it is the best path to it
    and the best path from it: the line is cut there and its parts decoded side by side, as many
    lines are. A page read as running text is one long line, whose positions would otherwise be
    stepped one by one; the paths are the same (up to float rounding of exact ties)."""
    parts, decoded = decode_parts(_decode, lm, lines, lm_weight, starts, beam)
    paths: list[list[int]] = [[] for _ in lines]
    for (i, *_), path in zip(parts, decoded, strict=True):
        paths[i] += path
    return paths


def decode_parts(
    decode: Callable[[NgramLM, list[Sequence[Slot]], float, list[int], list[int], int], list[_Part]],
    lm: NgramLM,
    lines: Sequence[Sequence[Slot]],
    lm_weight: float,
    starts: Sequence[int],
    beam: int,
) -> tuple[list[tuple[int, int, int, int, int]], list[_Part]]:
    """The lines cut where their LM state is fixed (cut_lines), and `decode` (the Viterbi's, the
    forward–backward's) run over the parts side by side: (the parts, decode's result of each)."""
    parts = cut_lines(lines, starts)
    pieces = [lines[i][begin:end] for i, begin, end, *_ in parts]
    return parts, decode(lm, pieces, lm_weight, [x for *_, x, _ in parts], [y for *_, y in parts], beam)


def cut_lines(lines: Sequence[Sequence[Slot]], starts: Sequence[int]) -> list[tuple[int, int, int, int, int]]:
    """The parts of the lines between the points where the LM state (x, y) is the same on every
    path (two units in a row that the tokens fix), in order: (line, first slot, end, x, y), (x, y)
    the context the part starts from (the line's own start for its first part)."""
    parts: list[tuple[int, int, int, int, int]] = []
    for i, slots in enumerate(lines):
        begin, context, fixed = 0, (NONE, starts[i]), []
        for t, slot in enumerate(slots):
            fixed = [*fixed, *slot.units[0]][-2:] if len(slot.units) == 1 else []
            if len(fixed) == 2 and t + 1 < len(slots):
                parts.append((i, begin, t + 1, *context))
                begin, context = t + 1, (fixed[0], fixed[1])
        parts.append((i, begin, len(slots), *context))
    return parts


def _decode(
    lm: NgramLM,
    lines: Sequence[Sequence[Slot]],
    lm_weight: float,
    xs_start: Sequence[int],
    ys_start: Sequence[int],
    beam: int,
) -> list[list[int]]:
    """The Viterbi of lines decoded together, each from its context (x, y)."""
    table = _Table(lm, lines)
    n = table.lines
    xs, ys = np.array(xs_start, np.int64).reshape(n), np.array(ys_start, np.int64).reshape(n)
    states = _States(np.arange(n, dtype=np.int64), xs, ys, np.zeros(n), *lm.context_part(xs, ys))
    backs: list[tuple[list[int], list[int]]] = []
    finals: dict[int, tuple[int, int]] = {}  # line → (position, state) where its best path ends
    ending: dict[int, list[int]] = {}  # position → the lines whose last token it is
    for i, slots in enumerate(lines):
        ending.setdefault(len(slots) - 1, []).append(i)
    for t in range(table.length):
        if states.line[0] == states.line[-1]:  # one line left (or decoded alone)
            states, back, per_line = _step_one(lm, table, t, states, int(states.line[0]), lm_weight, beam)
        else:
            states, back, per_line = _step(lm, table, t, states, table.count[t][states.line], lm_weight, beam)
        backs.append(back)
        if t in ending:
            bounds = np.concatenate(([0], np.cumsum(per_line))).tolist()
            for i in ending[t]:
                a, b = bounds[i], bounds[i + 1]
                finals[i] = (t, a + int(np.argmax(states.best[a:b])))  # the first of equal bests
    paths = []
    for i in range(n):
        path: list[int] = []
        if i in finals:
            t, state = finals[i]
            for prev, choice in reversed(backs[: t + 1]):
                path.append(choice[state])
                state = prev[state]
        paths.append(path[::-1])
    return paths


class _Table:
    """The candidates of every line's slots, position-major (position t of all lines, then t + 1):
    one numpy array per field, and per position where each line's candidates are."""

    def __init__(self, lm: NgramLM, lines: Sequence[Sequence[Slot]]) -> None:
        v, n = lm.size, len(lines)
        self.length = max((len(slots) for slots in lines), default=0)
        self.offset = np.zeros((self.length, n), np.int64)
        self.count = np.zeros((self.length, n), np.int64)
        self.one_unit: set[tuple[int, int]] = set()  # (position, line) whose candidates are one unit each
        scores: list[float] = []
        inner: list[float] = []
        units: list[tuple[int, ...]] = []
        for t in range(self.length):
            for i, slots in enumerate(lines):
                if t < len(slots):
                    slot = slots[t]
                    self.offset[t, i], self.count[t, i] = len(scores), len(slot.scores)
                    if all(len(u) == 1 for u in slot.units):
                        self.one_unit.add((t, i))
                    scores += slot.scores
                    inner += slot.inner
                    units += slot.units
        self.scores, self.inner = np.array(scores, np.float64), np.array(inner, np.float64)
        self.size = np.array([len(u) for u in units], np.int64)
        self.first = np.array([u[0] if u else NONE for u in units], np.int64)
        self.second = np.array([u[1] if len(u) > 1 else NONE for u in units], np.int64)
        self.last = np.array([u[-2:] if len(u) > 1 else (NONE, NONE) for u in units], np.int64).reshape(-1, 2)
        # log P(second | first) below the trigram (the same after every state) and the backoff
        # weight of the last two units (with whether stored): the context after the candidate
        self.lower = lm.bigram_part(self.first, self.second)[0]
        self.last_context, self.last_stored = lm.context_part(self.last[:, 0], self.last[:, 1])
        self.lines, self.v = n, v


@dataclass
class _States:
    """The states of all lines, each line's together and in order: line, units (x, y), best
    score into them, and the backoff weight of the context (x, y) with whether it is stored."""

    line: np.ndarray
    x: np.ndarray
    y: np.ndarray
    best: np.ndarray
    context: np.ndarray
    stored: np.ndarray


_Step = tuple[_States, tuple[list[int], list[int]], np.ndarray]


def _step(lm: NgramLM, table: _Table, t: int, states: _States, count: np.ndarray, weight: float, beam: int) -> _Step:
    """Position t, vectorised over every (state, candidate) pair of every line: the new states
    (per line sorted by key, the beam's best kept as argpartition keeps them), their
    back-pointers (state, candidate) and their number per line."""
    v, n = table.v, table.lines
    s_idx = np.repeat(np.arange(len(count)), count)  # every (state, candidate) pair
    many = len(s_idx) >= MANY_PAIRS
    within = np.arange(len(s_idx)) - np.repeat(np.cumsum(count) - count, count)
    c = np.repeat(table.offset[t][states.line], count) + within
    x, y, size, first = states.x[s_idx], states.y[s_idx], table.size[c], table.first[c]
    lm_score, yw_context, yw_stored = _lm_scores(lm, table, t, states, s_idx, within, c, many)
    total = states.best[s_idx] + table.scores[c] + weight * lm_score
    nx = np.where(size == 0, x, np.where(size == 1, y, table.last[c, 0]))
    ny = np.where(size == 0, y, np.where(size == 1, first, table.last[c, 1]))
    pair_line = states.line[s_idx]
    key = (pair_line * v + nx) * v + ny  # the new state, within its line
    keep = _best_into(key, total)
    keep, per_line = beam_per_line(keep, pair_line, total, n, beam)
    k_size, k_c, k_s = size[keep], c[keep], s_idx[keep]
    # The context (x, y) of each new state, for the next step: the bigram (y, first) was just
    # looked up, a candidate's last two units once in the table.
    context = np.where(
        k_size == 0, states.context[k_s], np.where(k_size == 1, yw_context[keep], table.last_context[k_c])
    )
    stored = np.where(k_size == 0, states.stored[k_s], np.where(k_size == 1, yw_stored[keep], table.last_stored[k_c]))
    new = _States(pair_line[keep], nx[keep], ny[keep], total[keep], context, stored)
    return new, (k_s.tolist(), within[keep].tolist()), per_line


def _step_one(lm: NgramLM, table: _Table, t: int, states: _States, line: int, weight: float, beam: int) -> _Step:
    """_step when all the states are of one line: the same arithmetic in fewer numpy calls."""
    v = table.v
    k = int(table.count[t, line])
    s_idx, within = np.divmod(np.arange(len(states.x) * k), k)
    c = within + int(table.offset[t, line])
    x, y, size, first = states.x[s_idx], states.y[s_idx], table.size[c], table.first[c]
    lower, yw, yw_stored = lm.bigram_part(y, first)
    yw_context = np.where(yw_stored, lm.bow2[yw], 0.0)
    p1 = lm.trigram_part(x, y, first, states.context[s_idx], lower, states.stored[s_idx])
    if (t, line) in table.one_unit:  # the common token: every candidate one unit, state (y, first)
        total = states.best[s_idx] + table.scores[c] + weight * (table.inner[c] + p1)
        keep = _best_into(y * v + first, total)
        if len(keep) > beam:
            keep = keep[np.argpartition(-total[keep], beam)[:beam]]
        k_s = s_idx[keep]
        new = _States(states.line[k_s], y[keep], first[keep], total[keep], yw_context[keep], yw_stored[keep])
        return new, (k_s.tolist(), within[keep].tolist()), _one_line(table.lines, line, len(keep))
    lm_score = table.inner[c] + np.where(size >= 1, p1, 0.0)  # (inner + P(first)) + P(second)
    two = np.flatnonzero(size >= 2)
    if len(two):
        ct = c[two]
        lm_score[two] += lm.trigram_part(
            y[two], first[two], table.second[ct], yw_context[two], table.lower[ct], yw_stored[two]
        )
    total = states.best[s_idx] + table.scores[c] + weight * lm_score
    nx = np.where(size == 0, x, np.where(size == 1, y, table.last[c, 0]))
    ny = np.where(size == 0, y, np.where(size == 1, first, table.last[c, 1]))
    keep = _best_into(nx * v + ny, total)
    if len(keep) > beam:
        keep = keep[np.argpartition(-total[keep], beam)[:beam]]
    k_size, k_c, k_s = size[keep], c[keep], s_idx[keep]
    context = np.where(
        k_size == 0, states.context[k_s], np.where(k_size == 1, yw_context[keep], table.last_context[k_c])
    )
    stored = np.where(k_size == 0, states.stored[k_s], np.where(k_size == 1, yw_stored[keep], table.last_stored[k_c]))
    new = _States(states.line[k_s], nx[keep], ny[keep], total[keep], context, stored)
    return new, (k_s.tolist(), within[keep].tolist()), _one_line(table.lines, line, len(keep))


def _one_line(lines: int, line: int, count: int) -> np.ndarray:
    per_line = np.zeros(lines, np.int64)
    per_line[line] = count
    return per_line


def _lm_scores(
    lm: NgramLM,
    table: _Table,
    t: int,
    states: _States,
    s_idx: np.ndarray,
    within: np.ndarray,
    c: np.ndarray,
    many: bool,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per pair: the LM log-prob of the candidate's units after the state, summed as the replaced
    decoder did, (inner + P(first)) + P(second); and the backoff weight of (y, first) with whether
    it is stored. With many pairs, what depends only on a state's y and the candidate is looked
    up once per (line, y) group of states."""
    v = table.v
    y, size, first = states.y[s_idx], table.size[c], table.first[c]
    if many:
        group, state_group = np.unique(states.line * v + states.y, return_inverse=True)
        g_line, g_y = np.divmod(group, v)
        g_count = table.count[t][g_line]
        g_start = np.cumsum(g_count) - g_count
        gy = np.repeat(g_y, g_count)
        gc = np.repeat(table.offset[t][g_line] - g_start, g_count) + np.arange(len(gy))
        pick = g_start[state_group.reshape(-1)[s_idx]] + within  # the pair's group row
    else:
        gy, gc, pick = y, c, None
    g_first, g_size = table.first[gc], table.size[gc]
    lower, yw, yw_stored = lm.bigram_part(gy, g_first)
    yw_context = np.where(yw_stored, lm.bow2[yw], 0.0)
    second = np.zeros(len(gc))
    two = np.flatnonzero(g_size >= 2)
    if len(two):
        ct = gc[two]
        second[two] = lm.trigram_part(
            gy[two], g_first[two], table.second[ct], yw_context[two], table.lower[ct], yw_stored[two]
        )
    if pick is not None:
        lower, second, yw_context, yw_stored = lower[pick], second[pick], yw_context[pick], yw_stored[pick]
    p1 = lm.trigram_part(states.x[s_idx], y, first, states.context[s_idx], lower, states.stored[s_idx])
    lm_score = table.inner[c] + np.where(size >= 1, p1, 0.0)
    two = size >= 2
    lm_score[two] += second[two]
    return lm_score, yw_context, yw_stored


def _best_into(key: np.ndarray, total: np.ndarray) -> np.ndarray:
    """Per distinct key, the pair with the best total (of equal totals the first), by key."""
    if len(key) < MANY_PAIRS:
        order = np.lexsort((-total, key))  # stable: equal totals keep the flat order
        sorted_key = key[order]
        head = np.ones(len(order), bool)
        head[1:] = sorted_key[1:] != sorted_key[:-1]
        return order[head]
    # The same pairs from one stable sort by key alone and a per-key max: lexsort's second sort,
    # by total, was a third of a many-line step (the keys come in sorted runs, which a stable
    # sort merges in a fraction of that), its fewer numpy calls worth it only for few pairs.
    order = np.argsort(key, kind="stable")  # equal keys keep the flat order
    sorted_key, sorted_total = key[order], total[order]
    head = np.ones(len(order), bool)
    head[1:] = sorted_key[1:] != sorted_key[:-1]
    group = np.cumsum(head) - 1
    hit = np.flatnonzero(sorted_total == np.maximum.reduceat(sorted_total, np.flatnonzero(head))[group])
    first = np.ones(len(hit), bool)  # of a key's pairs at its best, the first
    first[1:] = group[hit[1:]] != group[hit[:-1]]
    return order[hit[first]]


def beam_per_line(
    keep: np.ndarray, pair_line: np.ndarray, total: np.ndarray, n: int, beam: int
) -> tuple[np.ndarray, np.ndarray]:
    """The kept states (sorted by line, as _best_into leaves them) cut to each line's `beam` best
    by `total`, and how many each line keeps: lines decoded together keep their own beams."""
    per_line = np.array([len(keep)]) if n == 1 else np.bincount(pair_line[keep], minlength=n)
    if len(keep) > beam and per_line.max(initial=0) > beam:
        bounds = np.concatenate(([0], np.cumsum(per_line))).tolist()
        parts = []
        for i in range(n):
            segment = keep[bounds[i] : bounds[i + 1]]
            if len(segment) > beam:
                segment = segment[np.argpartition(-total[segment], beam)[:beam]]
            parts.append(segment)
        keep = np.concatenate(parts)
        per_line = np.minimum(per_line, beam)
    return keep, per_line

"""The lattice decoder (restore/viterbi.py) against the per-token numpy decoder it replaced, kept
here as the reference: the same paths, to the last tie, on random lattices over a tiny LM and
on the shipped model's real rescoring of English-model OCR."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from pipeline.restore import viterbi as module
from pipeline.restore.lattice import (
    DecoderSettings,
    _model_best,
    _start,
    _units,
    _vietnamese_share,
    rescore_choices,
    rescore_lines,
)
from pipeline.restore.ngram import BOS, NONE, SPECIALS, NgramCounts, NgramLM, line_units, token_units
from pipeline.restore.viterbi import make_slot, viterbi, viterbi_lines
from pipeline.vietnamese import normalize

ROOT = Path(__file__).resolve().parents[1]
OCR_TEXT = ROOT / "samples" / "archive" / "text" / "ke-hoach-2316-ocr-eng.txt"
SEEDS = ROOT.parent / "shared" / "seeds"  # read there when present, never copied

# ----------------------------------------------------------------------------- the reference


def _old_logprob(lm: NgramLM, x: np.ndarray, y: np.ndarray, w: np.ndarray) -> np.ndarray:
    """NgramLM.logprob as it was: three lookups per query."""

    def lookup(keys: np.ndarray, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        idx = np.minimum(np.searchsorted(keys, query), len(keys) - 1)
        return idx, keys[idx] == query

    v = lm.size
    i3, hit3 = lookup(lm.k3, (x * v + y) * v + w)
    i2, hit2 = lookup(lm.k2, y * v + w)
    ic, hitc = lookup(lm.k2, x * v + y)
    lower = np.where(hit2, lm.lp2[i2], lm.bow1[y] + lm.lp1[w])
    backed = np.where(hitc, lm.bow2[ic], 0.0) + lower
    return np.where(hit3, lm.lp3[i3], backed)


def _old_viterbi(
    lm: NgramLM,
    lattice: Sequence[tuple[Sequence[Sequence[int]], Sequence[float]]],
    weight: float,
    start: int,
    beam: int,
) -> list[int]:
    """The replaced decoder: per token, numpy over its (state, candidate) pairs."""
    v = lm.size
    xs, ys, best = np.array([NONE]), np.array([start]), np.zeros(1)
    backs = []
    for units, scores in lattice:
        k = len(units)
        length = np.array([len(u) for u in units], dtype=np.int64)
        pad = np.array([[*u, NONE, NONE][:2] for u in units], dtype=np.int64).reshape(k, 2)
        inner = np.zeros(k)
        for c, u in enumerate(units):
            if len(u) > 2:
                arr = np.asarray(u, dtype=np.int64)
                inner[c] = _old_logprob(lm, arr[:-2], arr[1:-1], arr[2:]).sum()
        last = np.array([list(u[-2:]) if len(u) >= 2 else [NONE, NONE] for u in units], dtype=np.int64).reshape(k, 2)
        s_idx, c_idx = np.divmod(np.arange(len(best) * k), k)
        x, y = xs[s_idx], ys[s_idx]
        size, first, second = length[c_idx], pad[c_idx, 0], pad[c_idx, 1]
        lm_score = inner[c_idx].copy()
        one, two = size >= 1, size >= 2
        if one.any():
            lm_score[one] += _old_logprob(lm, x[one], y[one], first[one])
        if two.any():
            lm_score[two] += _old_logprob(lm, y[two], first[two], second[two])
        total = best[s_idx] + np.asarray(scores, dtype=np.float64)[c_idx] + weight * lm_score
        nx = np.where(size == 0, x, np.where(size == 1, y, last[c_idx, 0]))
        ny = np.where(size == 0, y, np.where(size == 1, first, last[c_idx, 1]))
        key = nx * v + ny
        order = np.lexsort((-total, key))
        head = np.ones(len(order), bool)
        head[1:] = key[order][1:] != key[order][:-1]
        keep = order[head]
        if len(keep) > beam:
            keep = keep[np.argpartition(-total[keep], beam)[:beam]]
        xs, ys, best = nx[keep], ny[keep], total[keep]
        backs.append((s_idx[keep], c_idx[keep]))
    path, state = [], int(np.argmax(best)) if len(best) else 0
    for prev, choice in reversed(backs):
        path.append(int(choice[state]))
        state = int(prev[state])
    return path[::-1]


def _old_rescore(lm: NgramLM, s: DecoderSettings, line: list) -> list[int]:
    """rescore_choices as it was, on the reference decoder."""
    lattice, kept = [], []
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
                keep.append(copy)
            units = [_units(lm, piece, cands[i].text, cands[i].kind == "copy") for i in keep]
        logp = [
            s.model_weight * math.log(max(float(probs[i]), 1e-12)) + bonus * (cands[i].kind == "copy") for i in keep
        ]
        lattice.append((units, logp))
        kept.append(keep)
    path = _old_viterbi(lm, lattice, s.rescore_lm_weight, _start([p for p, _, _ in line]), s.beam)
    return [keep[choice] for keep, choice in zip(kept, path, strict=True)]


# ----------------------------------------------------------------------------- random lattices

SENTENCES = [
    "Sở Thông tin và Truyền thông là đơn vị chủ trì.",
    "Đơn vị chủ trì báo cáo kết quả thực hiện năm 2019.",
    "Các sở, ban, ngành phối hợp với đơn vị chủ trì.",
    "Ủy ban nhân dân tỉnh giao Sở Tài chính chủ trì.",
    "Thông tin đối ngoại năm 2019 của tỉnh có nhiều kết quả.",
]


@pytest.fixture(scope="module")
def tiny_lm() -> NgramLM:
    units = [line_units(s) for s in SENTENCES]
    vocab = [*SPECIALS, *sorted({u for line in units for u in line} - set(SPECIALS))]
    counts = NgramCounts(len(vocab))
    for line in units:
        counts.add([vocab.index(u) for u in line])
    return NgramLM.estimate(counts, vocab, min2=1, min3=1)


def _random_lattice(lm: NgramLM, rng: random.Random) -> list[tuple[list[list[int]], list[float]]]:
    """Tokens of 1-8 candidates of 0-4 units; some candidates repeated with the same score (ties)."""
    lattice = []
    for _ in range(rng.randint(0, 12)):
        units, scores = [], []
        for _ in range(rng.randint(1, 8)):
            if units and rng.random() < 0.2:  # an exact tie: the same units and score again
                units.append(list(units[-1]))
                scores.append(scores[-1])
                continue
            units.append([rng.randrange(lm.size) for _ in range(rng.choice((0, 1, 1, 1, 2, 2, 3, 4)))])
            scores.append(rng.choice((0.0, -1.0, round(-rng.random() * 5, 3))))
        lattice.append((units, scores))
    return lattice


@pytest.mark.parametrize("beam", [1, 2, 3, 48])
def test_the_decoder_equals_the_reference_on_random_lattices(tiny_lm: NgramLM, beam: int) -> None:
    rng = random.Random(beam)
    lattices = [_random_lattice(tiny_lm, rng) for _ in range(150)]
    starts = [rng.choice((BOS, NONE)) for _ in lattices]
    expected = [_old_viterbi(tiny_lm, lat, 0.7, start, beam) for lat, start in zip(lattices, starts, strict=True)]
    slots = [[make_slot(tiny_lm, units, scores) for units, scores in lat] for lat in lattices]
    alone = [viterbi(tiny_lm, s, 0.7, start, beam) for s, start in zip(slots, starts, strict=True)]
    assert alone == expected
    together = viterbi_lines(tiny_lm, slots, 0.7, starts, beam)  # many pairs a position: the grouped lookups
    assert together == expected


@pytest.mark.parametrize("beam", [1, 3, 48])
def test_a_long_line_cut_where_its_state_is_fixed_decodes_as_the_reference(
    tiny_lm: NgramLM, beam: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Running text: long lines where tokens kept as read (one candidate) fix the LM state here and there.
    rng = random.Random(100 + beam)
    lattices = []
    for _ in range(30):
        lattice = [tok for _ in range(6) for tok in _random_lattice(tiny_lm, rng)]
        for k in range(0, len(lattice), 3):
            lattice[k] = ([[rng.randrange(tiny_lm.size)]], [0.0])  # kept as read: one unit
        lattices.append(lattice)
    starts = [rng.choice((BOS, NONE)) for _ in lattices]
    expected = [_old_viterbi(tiny_lm, lat, 0.7, start, beam) for lat, start in zip(lattices, starts, strict=True)]
    slots = [[make_slot(tiny_lm, units, scores) for units, scores in lat] for lat in lattices]
    cuts = sum(
        len(a.units) == len(b.units) == 1 and len(a.units[0]) == len(b.units[0]) == 1
        for line in slots
        for a, b in itertools.pairwise(line)
    )
    decoded: list[int] = []  # lines per batch the decoder gets
    decode = module._decode

    def counted(lm: NgramLM, parts: list, *rest: object) -> list[list[int]]:
        decoded.append(len(parts))
        return decode(lm, parts, *rest)

    monkeypatch.setattr(module, "_decode", counted)
    assert viterbi_lines(tiny_lm, slots, 0.7, starts, beam) == expected
    assert len(decoded) == 1 and decoded[0] >= len(slots) + cuts >= len(slots) + 10  # cut, one batch of parts


def test_both_ways_of_grouping_the_lookups_agree(tiny_lm: NgramLM, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    lattices = [_random_lattice(tiny_lm, rng) for _ in range(40)]
    slots = [[make_slot(tiny_lm, units, scores) for units, scores in lat] for lat in lattices]
    starts = [BOS] * len(slots)
    grouped = viterbi_lines(tiny_lm, slots, 1.0, starts, 4)
    monkeypatch.setattr(module, "MANY_PAIRS", 10**9)
    assert viterbi_lines(tiny_lm, slots, 1.0, starts, 4) == grouped


def test_the_best_into_each_state_is_lexsorts_on_random_keys_with_ties() -> None:
    # Few pairs take lexsort itself, many the stable sort and per-key max: the same pairs, in key order.
    rng = np.random.default_rng(13)
    for size in [0, 1, 5, 80, module.MANY_PAIRS - 1, module.MANY_PAIRS, 3000] * 20:
        key = rng.integers(0, max(1, size // int(rng.integers(1, 12))), size)
        total = rng.integers(-6, 1, size) * rng.choice((1.0, 0.25))  # many equal totals
        total[rng.random(size) < 0.05] = -np.inf
        order = np.lexsort((-total, key))
        head = np.ones(len(order), bool)
        head[1:] = key[order][1:] != key[order][:-1]
        assert np.array_equal(module._best_into(key, total), order[head])


def test_the_model_best_candidates_are_those_a_sort_per_token_keeps() -> None:
    # Arrays of one length are sorted as rows of one: the same indices, equal probabilities included.
    rng = np.random.default_rng(5)
    s = DecoderSettings()
    probs = []
    for _ in range(600):
        k = int(rng.choice((1, 2, 9, 16, 17, 24)))
        p = rng.dirichlet(np.full(k, 0.3)).astype(rng.choice((np.float32, np.float64)))
        if k > 3 and rng.random() < 0.5:
            p[rng.integers(0, k, 3)] = p[0]  # ties
        if rng.random() < 0.1:
            p[:] = s.min_model_prob / 2  # none reaches the floor: the best alone
        probs.append(p)
    for p, (keep, chosen) in zip(probs, _model_best(s, probs), strict=True):
        expected = [int(i) for i in np.argsort(-p)[: s.candidates] if p[i] >= s.min_model_prob]
        assert keep == (expected or [int(np.argmax(p))])
        assert chosen == p[keep].tolist()


# ----------------------------------------------------------------------------- real rescoring


def _real_lines(seeds: Path | None) -> list[list[str]]:
    texts = [OCR_TEXT.read_text(encoding="utf-8")]
    if seeds is not None:
        texts += [p.read_text(encoding="utf-8") for p in sorted(seeds.glob("00[14]_*.txt"))]
    return [line.split() for text in texts for line in normalize(text).splitlines() if line.split()]


def test_rescoring_real_ocr_chooses_as_the_reference() -> None:
    from pipeline.restore.restorer import Restorer

    restorer = Restorer.load(threads=1)
    assert restorer.rescorer is not None
    lm, settings = restorer.rescorer
    found = restorer.candidate_probs(_real_lines(SEEDS if SEEDS.is_dir() else None))
    expected = [_old_rescore(lm, settings, line) for line in found]
    assert rescore_lines(lm, settings, found) == expected  # the batch together
    assert [rescore_choices(lm, settings, line) for line in found[:60]] == expected[:60]  # line by line
    run = [token for line in found[:40] for token in line]  # running text: one long sequence
    assert rescore_choices(lm, settings, run) == _old_rescore(lm, settings, run)


def test_the_shipped_lm_stores_the_context_of_every_trigram() -> None:
    """What lets the decoder look a trigram up only where its context is stored."""
    from pipeline.restore.paths import MODEL_DIR

    lm = NgramLM.load(MODEL_DIR / "ngram" / "lm.npz")
    contexts = np.unique(lm.k3 // lm.size)
    assert np.isin(contexts, lm.k2).all()

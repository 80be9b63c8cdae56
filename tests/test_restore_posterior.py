"""Forward–backward over the rescoring lattice (restore/posterior.py): its max-product score is
the Viterbi's best, its marginals are the brute-force sums over every path, on random lattices
over a tiny LM and on the shipped model's rescoring of real English-model OCR."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest
from conftest import lm_from_sentences

from pipeline.restore import posterior
from pipeline.restore.lattice import _start, line_lattice, rescore_lines
from pipeline.restore.ngram import BOS, NONE, NgramLM
from pipeline.restore.posterior import forward_backward, forward_backward_lines, lattice_posteriors
from pipeline.restore.viterbi import Slot, make_slot, viterbi
from pipeline.vietnamese import normalize

TOL = 1e-9  # the sums in another order (a wrong path or state set is off by far more)
ROOT = Path(__file__).resolve().parents[1]
OCR_TEXT = ROOT / "samples" / "archive" / "text" / "ke-hoach-2316-ocr-eng.txt"

SENTENCES = [
    "phát triển kinh tế xã hội của tỉnh",
    "kế hoạch phát triển kinh tế năm 2025",
    "đổi mới và phát triển bền vững",
    "tổng hợp kết quả thực hiện kế hoạch",
    "chuyển đổi số trong cơ quan nhà nước",
]


@pytest.fixture(scope="module")
def tiny_lm() -> NgramLM:
    return lm_from_sentences(SENTENCES)


def _random_slots(lm: NgramLM, rng: random.Random, tokens: int, candidates: int) -> list[Slot]:
    slots = []
    for _ in range(rng.randint(0, tokens)):
        n = rng.randint(1, candidates)
        units = [[rng.randrange(lm.size) for _ in range(rng.choice((0, 1, 1, 1, 2, 3)))] for _ in range(n)]
        slots.append(make_slot(lm, units, [round(-rng.random() * 5, 3) for _ in range(n)]))
    return slots


def _path_score(lm: NgramLM, slots: Sequence[Slot], path: Sequence[int], weight: float, start: int) -> float:
    """Slot scores + weight × the LM's log-prob of the path's units after (<none>, start), summed in
    float64."""
    seq = [NONE, start, *(u for slot, c in zip(slots, path, strict=True) for u in slot.units[c])]
    lm_part = 0.0
    if len(seq) > 2:
        arr = np.array(seq, np.int64)
        lm_part = float(lm.logprob(arr[:-2], arr[1:-1], arr[2:]).astype(np.float64).sum())
    return sum(slot.scores[c] for slot, c in zip(slots, path, strict=True)) + weight * lm_part


@pytest.mark.parametrize("beam", [1, 2, 3, 48])
def test_max_product_is_the_viterbi_best(tiny_lm: NgramLM, beam: int) -> None:
    rng = random.Random(beam)
    for _ in range(150):
        slots = _random_slots(tiny_lm, rng, 12, 8)
        start = rng.choice((BOS, NONE))
        found = forward_backward(tiny_lm, slots, 0.7, start, beam)
        path = viterbi(tiny_lm, slots, 0.7, start, beam)
        assert found.best == pytest.approx(_path_score(tiny_lm, slots, path, 0.7, start), abs=TOL)
        for slot, marginal in zip(slots, found.log_marginals, strict=True):  # every kept path passes one candidate
            assert len(marginal) == len(slot.scores)
            assert float(np.exp(marginal).sum()) == pytest.approx(1.0, abs=1e-9)
        assert found.log_z >= found.best - 1e-9


def test_lines_run_together_as_each_alone(tiny_lm: NgramLM, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(11)
    lines = [_random_slots(tiny_lm, rng, 12, 8) for _ in range(80)]
    starts = [rng.choice((BOS, NONE)) for _ in lines]
    alone = [forward_backward(tiny_lm, slots, 0.9, start, 3) for slots, start in zip(lines, starts, strict=True)]
    for many in (True, False):  # the lookups grouped per (line, unit) or not
        monkeypatch.setattr(posterior, "MANY_PAIRS", 600 if many else 10**9)
        together = forward_backward_lines(tiny_lm, lines, 0.9, starts, 3)
        for a, b in zip(alone, together, strict=True):
            assert b.best == pytest.approx(a.best, abs=1e-9) and b.log_z == pytest.approx(a.log_z, abs=1e-9)
            for x, y in zip(a.log_marginals, b.log_marginals, strict=True):
                assert np.allclose(x, y, atol=1e-9)


@pytest.mark.parametrize("beam", [1, 3, 48])
def test_lines_cut_where_their_state_is_fixed_have_the_marginals_of_the_whole(
    tiny_lm: NgramLM, beam: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Long lines where tokens kept as read (one candidate of one unit) fix the LM state here and there.
    rng = random.Random(200 + beam)
    lines = []
    for _ in range(30):
        slots = _random_slots(tiny_lm, rng, 40, 6)
        for k in range(0, len(slots), 3):
            slots[k] = make_slot(tiny_lm, [[rng.randrange(tiny_lm.size)]], [round(-rng.random(), 3)])
        lines.append(slots)
    starts = [rng.choice((BOS, NONE)) for _ in lines]
    whole = posterior._forward_backward(tiny_lm, lines, 0.8, [NONE] * len(lines), starts, beam)  # no cut
    batches: list[int] = []  # lines per batch run
    run = posterior._forward_backward

    def counted(lm: NgramLM, parts: list, *rest: object) -> list:
        batches.append(len(parts))
        return run(lm, parts, *rest)

    monkeypatch.setattr(posterior, "_forward_backward", counted)
    cut = forward_backward_lines(tiny_lm, lines, 0.8, starts, beam)
    assert batches[0] >= len(lines) + 10  # cut, and the parts run as one batch
    for a, b in zip(whole, cut, strict=True):
        assert b.log_z == pytest.approx(a.log_z, abs=TOL) and b.best == pytest.approx(a.best, abs=TOL)
        assert len(a.log_marginals) == len(b.log_marginals)
        for x, y in zip(a.log_marginals, b.log_marginals, strict=True):
            assert np.array_equal(np.isinf(x), np.isinf(y))  # the same candidates pruned
            assert np.allclose(x, y, atol=TOL)


def test_marginals_are_the_sums_over_every_path(tiny_lm: NgramLM) -> None:
    rng = random.Random(3)
    for _ in range(60):
        slots = _random_slots(tiny_lm, rng, 5, 4)
        start = rng.choice((BOS, NONE))
        found = forward_backward(tiny_lm, slots, 1.3, start, beam=10**6)  # nothing pruned: exact
        paths = list(itertools.product(*(range(len(s.scores)) for s in slots)))
        scores = np.array([_path_score(tiny_lm, slots, p, 1.3, start) for p in paths])
        top = scores.max()
        log_z = top + math.log(float(np.exp(scores - top).sum()))
        assert found.log_z == pytest.approx(log_z, abs=TOL)
        assert found.best == pytest.approx(top, abs=TOL)
        for t, slot in enumerate(slots):
            for c in range(len(slot.scores)):
                through = np.array([p[t] == c for p in paths])
                expected = float(np.log(np.exp(scores[through] - log_z).sum()))
                assert found.log_marginals[t][c] == pytest.approx(expected, abs=TOL)


def test_an_empty_line_has_no_marginals(tiny_lm: NgramLM) -> None:
    found = forward_backward(tiny_lm, [], 1.0, BOS, 48)
    assert found.log_marginals == [] and found.best == 0.0 and found.log_z == 0.0


def test_real_ocr_lines_keep_the_rescoring_lattice_and_its_best() -> None:
    from pipeline.restore.restorer import Evidence, Restorer

    restorer = Restorer.load(threads=1)
    assert restorer.rescorer is not None
    lm, settings = restorer.rescorer
    text = normalize(OCR_TEXT.read_text(encoding="utf-8"))
    lines = [line.split() for line in text.splitlines() if line.split()][:40]
    found = restorer.candidate_probs(lines)
    choices = rescore_lines(lm, settings, found)
    for line, chosen in zip(found, choices, strict=True):
        slots, kept = line_lattice(lm, settings, line)
        start = _start([piece for piece, _, _ in line])
        path = viterbi(lm, slots, settings.rescore_lm_weight, start, settings.beam)
        assert [keep[c] for keep, c in zip(kept, path, strict=True)] == chosen  # the same lattice
        marginals = forward_backward(lm, slots, settings.rescore_lm_weight, start, settings.beam)
        best = _path_score(lm, slots, path, settings.rescore_lm_weight, start)
        assert marginals.best == pytest.approx(best, abs=TOL)
        evidence = [Evidence(piece, cands, probs, c) for (piece, cands, probs), c in zip(line, chosen, strict=True)]
        (posteriors,) = lattice_posteriors(lm, settings, [evidence], [chosen])
        assert all(math.log(1e-6) <= p <= 0.0 for p in posteriors)
        words = [p for (piece, _, _), p in zip(line, posteriors, strict=True) if piece.kind == "word"]
        assert not words or max(words) > math.log(0.5)  # the chosen words are mostly likely ones


# ----------------------------------------------------------------------------- the feature


def test_the_lattice_logit_is_a_feature_and_older_models_still_run() -> None:
    from pipeline.restore.confidence import FEATURES, WordRight, _marginal_logit
    from pipeline.restore.token_right import TOKEN_FEATURES, TokenRight

    assert FEATURES[-1] == "lattice_logit"
    assert _marginal_logit(math.log(0.5)) == pytest.approx(0.0)
    assert _marginal_logit(0.0) == 14.0 and _marginal_logit(math.log(1e-9)) == -14.0
    older = FEATURES[:-1]  # a word-right model fitted before the lattice feature: it ignores that column
    n = len(older)
    maps = {"mean": [0.0] * n, "scale": [1.0] * n, "coef": [1.0] * n, "intercept": 0.0}
    maps |= {"iso_x": [0.0, 1.0], "iso_y": [0.0, 1.0]}
    model = WordRight.load_dict({"id": "old", "features": list(older), "maps": {"text": maps}})
    rows = np.zeros((2, len(FEATURES)))
    rows[1, -1] = 5.0
    assert model(rows, "text").tolist() == [0.5, 0.5]
    # a token-right tree split on its column k of a list of fewer features splits on that feature's column now
    old_tokens = [f for f in TOKEN_FEATURES if f not in ("scored", "word_lattice_logit")]
    k = old_tokens.index("ocr_logit")
    assert k != TOKEN_FEATURES.index("ocr_logit")
    tree = {"feature": [k, -1, -1], "threshold": [0.0, 0, 0], "left": [1, 1, 2], "right": [2, 1, 2]}
    tree["value"] = [0.0, -3.0, 3.0]
    way = {"base": 0.0, "trees": [tree], "iso_x": [0.0, 1.0], "iso_y": [0.0, 1.0]}
    tokens = TokenRight.load_dict({"features": old_tokens, "maps": {"ocr": way}})
    x = np.zeros((2, len(TOKEN_FEATURES)))
    x[1, TOKEN_FEATURES.index("ocr_logit")] = 1.0
    assert tokens(x, "ocr") == pytest.approx([1 / (1 + math.exp(3)), 1 / (1 + math.exp(-3))])

"""The word-right model (pipeline/restore/confidence.py): features, scorer, shipped coefficients."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import lm_from_sentences

from pipeline.document import Line, Page, Token
from pipeline.restore.api import get_restorer, restore_page
from pipeline.restore.candidates import OOV_LOGP, Candidate
from pipeline.restore.confidence import (
    FEATURES,
    WORD_RIGHT_FILE,
    WordRight,
    default_word_right,
    final_index,
    line_features,
    local_posteriors,
)
from pipeline.restore.lattice import DecoderSettings
from pipeline.restore.paths import MODEL_DIR
from pipeline.restore.restorer import Evidence
from pipeline.restore.tokens import split_token
from pipeline.review.attention import LOW

F = {name: i for i, name in enumerate(FEATURES)}


def _evidence(token: str, candidates: list[tuple[str, str, float, float]], probs: list[float], choice: int) -> Evidence:
    """candidates: (text, kind, channel, prior)."""
    cands = [Candidate(text, channel, prior, kind) for text, kind, channel, prior in candidates]  # type: ignore[arg-type]
    return Evidence(split_token(token), cands, np.array(probs), choice)


TRIEN = _evidence(
    "triến",
    [("triển", "word", -2.0, -6.0), ("triến", "copy", -0.1, OOV_LOGP), ("triền", "word", -3.0, -9.0)],
    [0.7, 0.2, 0.1],
    0,
)
KHAI = _evidence("khai", [("khai", "copy", 0.0, -5.0), ("khái", "word", -3.0, -9.0)], [0.99, 0.01], 0)


def test_the_final_index_is_the_candidate_of_the_final_text_or_the_copy_or_the_choice() -> None:
    assert final_index(TRIEN) == 0  # the restorer's choice
    assert final_index(TRIEN, "triến") == 1  # a vie word left as read: the copy
    assert final_index(TRIEN, "Triển") == 0
    assert final_index(TRIEN, "somewhere else") == 0


def test_features_describe_the_final_text() -> None:
    rows = line_features([TRIEN, KHAI], [1, 0], [(-3.0, -4.0), (0.0, 0.0)], [0.95, None], [False, False], [False, True])
    assert rows.shape == (2, len(FEATURES))
    kept, khai = rows
    assert kept[F["log_p"]] == pytest.approx(math.log(0.2))
    assert kept[F["log_margin"]] == pytest.approx(math.log(0.2) - math.log(0.7))
    assert kept[F["net_argmax"]] == 0 and kept[F["restorer_choice"]] == 0
    assert (kept[F["log_post"]], kept[F["log_lm_post"]]) == (-3.0, -4.0)
    assert kept[F["changed"]] == 0 and kept[F["read_known"]] == 0 and kept[F["final_known"]] == 0
    assert kept[F["marked"]] == 1 and kept[F["glyphs"]] == 0
    assert kept[F["ocr"]] == 0.95 and kept[F["ocr_logit"]] == pytest.approx(math.log(0.95 / 0.05))
    assert khai[F["read_known"]] == 1 and khai[F["final_known"]] == 1 and khai[F["place"]] == 1
    assert khai[F["ocr"]] == 0 and khai[F["ocr_logit"]] == 0
    glyphs = line_features(
        [_evidence("d6i", [("d6i", "copy", 0.0, OOV_LOGP)], [1.0], 0)], [0], [(0, 0)], [None], [False], [False]
    )
    assert glyphs[0, F["glyphs"]] == 1


def test_the_local_posterior_prefers_what_the_lm_saw_between_the_neighbours() -> None:
    lm = lm_from_sentences(["kế hoạch triển khai thực hiện"] * 5 + ["triền sông"])
    line = [
        _evidence("hoạch", [("hoạch", "copy", 0.0, -5.0)], [1.0], 0),
        _evidence("triến", [("triển", "word", -2.0, -6.0), ("triến", "copy", -0.1, OOV_LOGP)], [0.5, 0.5], 0),
        KHAI,
    ]
    settings = DecoderSettings(rescore_lm_weight=1.0)
    right = local_posteriors(lm, settings, line, [0, 0, 0])
    wrong = local_posteriors(lm, settings, line, [0, 1, 0])
    assert right[1][0] > math.log(0.5) > wrong[1][0]
    assert right[1][1] > wrong[1][1]
    assert right[0] == (0.0, 0.0)  # one candidate: nothing to weigh


def test_the_local_posterior_is_the_softmax_over_each_tokens_best_candidates_between_its_neighbours() -> None:
    # The definition, token by token: the final candidate, the network's 8 best and the copy,
    # each scored by network + LM over the trigrams from the two units before it to the two
    # after (the neighbours at their final texts); up to float rounding of the sums.
    from pipeline.restore.confidence import _units_of
    from pipeline.restore.lattice import _start, _vietnamese_share
    from pipeline.restore.ngram import NONE

    words = "kế hoạch triển khai thực hiện năm của nhà ở triền sông các xã phường".split()
    lm = lm_from_sentences(["kế hoạch triển khai thực hiện năm 2025", "nhà ở của các xã, phường", "triền sông"])
    settings = DecoderSettings(rescore_lm_weight=0.8, rescore_copy_bonus=0.5)
    rng = np.random.default_rng(7)
    for _ in range(20):
        line, finals = [], []
        for token in rng.choice([*words, "2025", ",", "xã,"], size=12):
            n = int(rng.integers(1, 12))
            texts = [str(token).strip(","), *rng.choice(words, size=n - 1)]
            cands = [(t, "copy" if k == 0 else "word", -1.0, -5.0) for k, t in enumerate(texts)]
            probs = rng.dirichlet(np.ones(n))
            line.append(_evidence(str(token), cands, list(probs), int(np.argmax(probs))))
            finals.append(int(rng.integers(0, n)))
        found = local_posteriors(lm, settings, line, finals)
        units = [_units_of(lm, ev, f) for ev, f in zip(line, finals, strict=True)]
        bonus = settings.rescore_copy_bonus * _vietnamese_share([ev.piece for ev in line])
        for j, ev in enumerate(line):
            if ev.piece.kind != "word" or len(ev.candidates) == 1:
                assert found[j] == (0.0, 0.0)
                continue
            left = [NONE, _start([e.piece for e in line]), *(u for k in range(j) for u in units[k])][-2:]
            right = [u for k in range(j + 1, len(line)) for u in units[k]][:2]
            copy = next(i for i, c in enumerate(ev.candidates) if c.kind == "copy")
            best = [int(i) for i in np.argsort(-ev.probs)[:8]]
            weighed = [finals[j], *(i for i in dict.fromkeys([*best, copy]) if i != finals[j])]
            lm_part, total = [], []
            for i in weighed:
                seq = np.array([*left, *_units_of(lm, ev, i), *right], np.int64)
                lm_part.append(float(lm.logprob(seq[:-2], seq[1:-1], seq[2:]).astype(float).sum()))
                net = settings.model_weight * math.log(max(float(ev.probs[i]), 1e-12)) + bonus * (i == copy)
                total.append(net + settings.rescore_lm_weight * lm_part[-1])
            expected = (total[0] - float(np.logaddexp.reduce(total)), lm_part[0] - float(np.logaddexp.reduce(lm_part)))
            assert found[j] == pytest.approx(expected, abs=1e-9)


def test_the_scorer_is_a_logistic_regression_then_an_isotonic_map() -> None:
    n = len(FEATURES)
    coef = [0.0] * n
    coef[F["log_p"]] = 2.0
    maps = {
        "mean": [0.0] * n, "scale": [1.0] * n, "coef": coef, "intercept": 0.0,
        "iso_x": [0.0, 0.5, 1.0], "iso_y": [0.0, 0.4, 1.0],
    }  # fmt: skip
    model = WordRight.load_dict({"id": "word-right-test", "features": list(FEATURES), "maps": {"text": maps}})
    rows = np.zeros((3, n))
    rows[:, F["log_p"]] = [-10.0, 0.0, 10.0]
    p = model(rows, "text")
    assert p[1] == pytest.approx(0.4)  # sigmoid(0) = 0.5 → 0.4
    assert p[0] < p[1] < p[2] and 0.0 <= p[0] and p[2] <= 1.0


def test_the_shipped_coefficients_load() -> None:
    assert (MODEL_DIR / WORD_RIGHT_FILE).is_file(), "models/restore/word_right.json ships beside the model"
    model = default_word_right()
    assert model is not None and model.name.startswith("word-right-")
    assert set(model.maps) == {"ocr", "text"}
    assert set(model.features) <= set(FEATURES)  # a model fitted before a feature was added runs without it
    for m in model.maps.values():
        assert len(m.coef) == len(m.mean) == len(m.scale) == len(model.features)
        assert np.all(np.diff(m.knots[1]) >= 0) and 0.0 <= m.knots[1].min() and m.knots[1].max() <= 1.0


def test_a_tone_swapped_word_in_a_confident_line_is_less_likely_right_than_its_neighbours() -> None:
    words = "Kế hoạch triến khai thực hiện chương trình phát triển kinh tế của tỉnh".split()
    for number in (1, 2):  # the first page's lines (letterheads) and any other
        page = Page(
            number=number,
            source="ocr",
            lines=[Line(tokens=[Token(text=w, source_text=w, ocr_confidence=0.95) for w in words])],
        )
        restored = restore_page(page, below=0.6, restorer=get_restorer())
        tokens = restored.lines[0].tokens
        assert [t.text for t in tokens] == words  # confident words keep their text ...
        p = {t.text: t.restore_confidence for t in tokens}
        assert all(v is not None for v in p.values())  # ... and every word gets a probability
        # without the vie correction, the word-right model's: the least likely word, and queued
        assert p["triến"] < min(LOW.ocr, *(v for w, v in p.items() if w != "triến"))  # type: ignore[type-var]
        # convert corrects it first, and the token-right model judges the corrected page
        corrected = restore_page(page, below=0.6, restorer=get_restorer(), correct=True).lines[0].tokens
        assert [t.text for t in corrected] == [w.replace("triến", "triển") for w in words]
        assert all(t.restore_confidence is not None for t in corrected)


def test_word_scores_can_be_turned_off_for_bulk_runs(tmp_path) -> None:
    from pipeline.api import convert
    from pipeline.options import Options

    path = tmp_path / "ocr.txt"
    path.write_text("Pon vi chu tri: S& Thong tin va Truyén thong; thoi gian thuc hién: nam 2025.\n", encoding="utf-8")
    scored = convert(path, Options(restore="always"))
    assert scored.provenance.models["restore_calibration"].startswith("word-right")
    plain = convert(path, Options(restore="always", score_words=False))
    assert not plain.provenance.models["restore_calibration"].startswith("word-right")
    assert [t.text for *_, t in scored.tokens()] == [t.text for *_, t in plain.tokens()]  # the text is the same

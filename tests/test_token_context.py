"""Token-right context features (pipeline/restore/token_context.py): what correction and restore did
around a token, misread punctuation, where the line is; how pages and the fitting script pass them."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from pipeline.document import Line, Page, Token
from pipeline.restore.token_context import CONTEXT_FEATURES, TokenView, context_features
from pipeline.restore.token_right import STATIC_FEATURES, line_features, page_inputs, views

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

C = {name: i for i, name in enumerate(CONTEXT_FEATURES)}
LEXICON = {w: -5.0 for w in "kế hoạch triển khai đổi số chuyển các sở tỉnh".split()} | {"kể": -9.0}


def _features(line: list[TokenView], rank: int | None = None) -> list[dict[str, float]]:
    rows = context_features(line, LEXICON, rank)
    return [{name: float(row[i]) for name, i in C.items()} for row in rows]


def test_what_correction_and_restore_did() -> None:
    line = [
        TokenView("kế", source="kể", flags=("restored", "in-context")),  # the vie corrector: marks only
        TokenView("hoạch", source="hoach", flags=("restored",)),  # restore
        TokenView("triển", source="triển"),
        TokenView("khai", source="xyz"),
    ]
    f = _features(line)
    assert [r["vie_changed"] for r in f] == [1.0, 0.0, 0.0, 0.0]
    assert [r["marks_only"] for r in f] == [1.0, 1.0, 0.0, 0.0]
    assert [r["source_known"] for r in f] == [1.0, 0.0, 1.0, 0.0]
    assert f[0]["source_gap"] == 0.4 and f[2]["source_gap"] == 0.0 and f[3]["source_gap"] == 2.5
    assert [r["neighbour_changed"] for r in f] == [1.0, 1.0, 1.0, 0.0]
    assert f[2]["line_changed"] == 1.0 and f[0]["line_changed"] == 2 / 3


def test_without_the_text_as_read_the_changed_flag_counts() -> None:
    f = _features([TokenView("kế", changed=True), TokenView("hoạch")])
    assert f[1]["neighbour_changed"] == 1.0 and f[0]["source_known"] == 1.0 and f[0]["marks_only"] == 0.0


def test_odd_characters_and_punctuation() -> None:
    words = ["Сở", "tỉnh...", ".Phường", "-dụng", "(chi", "“học", "chuyển.", "đổi", "tịch’", "số:", "Các"]
    f = _features([TokenView(w) for w in words])
    by = {w: r for w, r in zip(words, f, strict=True)}
    assert by["Сở"]["odd_script"] == 1.0 and by["đổi"]["odd_script"] == 0.0  # a Cyrillic С
    assert by["tỉnh..."]["punct_run"] == 1.0 and by["chuyển."]["punct_run"] == 0.0
    assert by[".Phường"]["lead_odd"] == by["-dụng"]["lead_odd"] == 1.0
    assert by["(chi"]["lead_odd"] == by["“học"]["lead_odd"] == by["đổi"]["lead_odd"] == 0.0
    assert by["chuyển."]["stop_lower"] == 1.0  # before đổi
    assert by["số:"]["stop_lower"] == 0.0  # before Các
    assert by["tịch’"]["quote_odd"] == 1.0 and by["“học"]["quote_odd"] == 1.0  # “ without ” in the line
    assert _features([TokenView("“học"), TokenView("tập”")])[0]["quote_odd"] == 0.0


def test_line_shape_and_rank() -> None:
    line = [TokenView("kế", ocr=0.2), TokenView("hoạch", ocr=0.99), TokenView("khai")]
    f = _features(line, rank=3)
    assert f[2]["line_min_ocr"] == np.log(0.2 / 0.8) and f[2]["line_tokens"] == 3 / 20
    assert f[0]["rank"] == 0.3 and _features(line, rank=25)[0]["rank"] == 1.0 and _features(line)[0]["rank"] == 1.0
    assert _features([TokenView("kế")])[0]["line_min_ocr"] == 6.0  # no OCR


def test_line_features_end_with_the_context_features() -> None:
    rows = line_features([TokenView("kế", source="kể", flags=("in-context",))], LEXICON, 0)
    assert rows.shape == (1, len(STATIC_FEATURES)) and STATIC_FEATURES[-len(CONTEXT_FEATURES) :] == CONTEXT_FEATURES
    assert rows[0, STATIC_FEATURES.index("vie_changed")] == 1.0 and rows[0, STATIC_FEATURES.index("rank")] == 0.0


def test_pages_pass_the_text_as_read_flags_and_rank() -> None:
    token = Token(text="kế", source_text="kể", flags=["restored", "in-context"], ocr_confidence=0.9)
    assert views([token]) == [TokenView("kế", True, 0.9, None, "kể", ("restored", "in-context"))]
    lines = [Line(tokens=[]), Line(tokens=[token]), Line(tokens=[token])]
    rank = STATIC_FEATURES.index("rank") + 2  # after scored and word_right_logit
    first = page_inputs(Page(number=1, source="ocr", lines=lines), {}, LEXICON)
    later = page_inputs(Page(number=2, source="ocr", lines=lines), {}, LEXICON)
    assert [x[rank] for *_, x in first] == [0.0, 0.1]  # empty lines do not count
    assert [x[rank] for *_, x in later] == [1.0, 1.0]


def test_fit_script_rebuilds_lines_ranks_and_folds_from_its_cache() -> None:
    import fit_word_right as fit
    import word_right_rows as rows_of

    found = {
        "raw_text": np.array(["kế", "hoạch", "kế", "triển"]),
        "raw_source": np.array(["kể", "hoạch", "kế", "triển"]),
        "raw_flags": np.array(["restored|in-context", "", "", ""]),
        "raw_conf": np.array([0.9, np.nan, np.nan, np.nan]),
        "raw_box": np.array([[0, 0, 10, 10], [-1, -1, -1, -1], [-1, -1, -1, -1], [-1, -1, -1, -1]]),
        "raw_line": np.array([0, 0, 1, 2]),
        "raw_page": np.array([1, 1, 1, 1]),
        "token_doc": np.array([0, 0, 0, 1]),
        "token_scan": np.array([True, True, True, True]),
    }
    lines = rows_of.token_views(found)
    assert [[t.text for t in line] for line in lines] == [["kế", "hoạch"], ["kế"], ["triển"]]
    assert lines[0][0] == TokenView("kế", True, 0.9, (0, 0, 10, 10), "kể", ("restored", "in-context"))
    rows = rows_of.static_features(found, LEXICON)
    assert rows[:, STATIC_FEATURES.index("rank")].tolist() == [0.0, 0.0, 0.1, 0.0]  # the rank restarts per file
    tune = np.array([True, True, True, True, True, False])
    folds = fit.document_folds(np.array([0, 1, 2, 3, 4, 5]), tune, 2)
    assert [m.tolist() for m in folds] == [
        [True, False, True, False, True, False],
        [False, True, False, True, False, False],
    ]


def test_the_review_threshold_is_the_fit_s_out_of_fold_choice() -> None:
    import json

    import fit_word_right as fit

    from pipeline.restore.paths import MODEL_DIR
    from pipeline.review.attention import DOUBTFUL, LOW

    sweeps = [{"0.95": [0.8, 2.0], "0.96": [0.9, 2.9], "0.97": [0.95, 3.5]}, {"0.95": [0.7, 2.5], "0.96": [0.8, 3.0]}]
    assert fit.low_by_rule(sweeps) == 0.96 and fit.low_by_rule(sweeps, budget=2.0) is None
    data = json.loads((MODEL_DIR / "word_right.json").read_text(encoding="utf-8"))
    report = data["report"]
    assert data["chosen"]["low"] == {"ocr": LOW.ocr, "text": LOW.text}
    assert max(LOW.ocr, LOW.text) < DOUBTFUL
    # each way's LOW queues at most 3 per wrong word out of fold on that way's files
    for way, low in (("scans", LOW.ocr), ("restored eng OCR", LOW.text)):
        assert report[f"tune {way}, out of fold"]["sweep"][f"{low:.3f}"][1] <= fit.BUDGET


def test_centred_isotonic_map_rises_through_the_plateaus_and_stays_calibrated() -> None:
    import fit_word_right as fit
    from sklearn.isotonic import IsotonicRegression

    rng = np.random.default_rng(3)
    score = rng.uniform(0, 1, 4000)
    right = rng.uniform(0, 1, 4000) < score**0.5  # the share of right words rises with the score
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(score, right)
    knots_x, knots_y = fit._knots(iso)
    assert np.all(np.diff(knots_x) > 0) and np.all(np.diff(knots_y) > 0)  # one knot per block
    assert len(knots_x) == len(set(iso.y_thresholds_))
    step = np.interp(score, iso.X_thresholds_, iso.y_thresholds_)
    centred = np.interp(score, knots_x, knots_y)
    # the step map ties whole blocks; the centred one keeps the scores' order inside them
    assert len(np.unique(centred)) > 10 * len(np.unique(step))
    assert np.all(np.diff(centred[np.argsort(score)]) >= 0)
    # still calibrated: in every tenth of the scale the mean probability is the share right
    for low in np.arange(0.3, 1.0, 0.1):
        inside = (centred >= low) & (centred < low + 0.1)
        if inside.sum() > 200:
            assert abs(centred[inside].mean() - right[inside].mean()) < 0.05


def test_extra_documents_train_the_trees_but_calibration_stays_the_plans() -> None:
    import fit_word_right as fit

    from pipeline.restore.confidence import FEATURES

    rng = np.random.default_rng(5)
    n, docs = 3000, 30
    doc = np.arange(n) % docs
    extra = doc >= 20  # ten extra documents, twenty plans
    signal = rng.normal(size=n)
    # the plans' words are right as their first feature says; the extra documents' words are
    # wrong far more often at the same feature values (another distribution, as corpus pages are)
    right = rng.uniform(size=n) < np.where(extra, 0.3, 1 / (1 + np.exp(-2 * signal - 2)))
    features = np.zeros((n, len(FEATURES)))
    features[:, 0] = signal + rng.normal(scale=0.3, size=n)
    everywhere, ocr = np.ones(n, dtype=bool), np.arange(n) % 2 == 0  # both ways in
    found = {
        "features": features, "right": right, "ocr": ocr, "tune": everywhere, "doc": doc, "extra": extra,
        "token_row": np.arange(n), "token_right": right, "token_ocr": ocr, "token_tune": everywhere,
        "token_doc": doc, "token_extra": extra, "token_static": np.zeros((n, len(STATIC_FEATURES))),
    }  # fmt: skip
    settings = {way: fit.TreeSettings(max_leaf_nodes=7, min_samples_leaf=20, max_iter=30) for way in ("ocr", "text")}
    model, _ = fit.fit_tokens(found, features, settings, folds=5)
    p, plans = np.where(ocr, found["oof_ocr"], found["oof_text"]), ~extra
    assert model["maps"]["ocr"]["tokens"] == n // 2  # the trees learn from every document
    # the map is fitted on the plans' out-of-fold probabilities: calibrated on the plans ...
    assert abs(p[plans].mean() - right[plans].mean()) < 0.02
    # ... and not on the extra documents, whose words it rates far above their share right
    assert p[extra].mean() > right[extra].mean() + 0.2

"""The token-right model (pipeline/restore/token_right.py) and the missed-error breakdown
(scripts/review_breakdown.py): features, tree scorer, every token scored, shipped model."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from pipeline.document import Box, Line, Page, Token
from pipeline.restore.confidence import FEATURES
from pipeline.restore.token_right import (
    STATIC_FEATURES,
    TOKEN_FEATURES,
    TokenRight,
    TokenView,
    Trees,
    default_token_right,
    line_features,
    model_inputs,
    score_page,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
from review_breakdown import alignment, difference, token_class

S = {name: i for i, name in enumerate(STATIC_FEATURES)}
LEXICON = {w: -5.0 for w in "kế hoạch triển khai hiệu quả của nhà ở năm ngày".split()} | {"kể": -9.0}


def _row(words: list[str], j: int, **kw: object) -> dict[str, float]:
    rows = line_features([TokenView(w, **kw) for w in words], LEXICON)  # type: ignore[arg-type]
    return {name: float(rows[j, i]) for name, i in S.items()}


def test_token_shapes() -> None:
    words = ["Số:", "1759/KH-UBND", "ngày", "14/3/2024", "II.", "—", "d6i", "quảCủa", "quả,của"]
    rows = line_features([TokenView(w) for w in words], LEXICON)
    shape = {w: {name for name in ("punct", "number", "code", "marker", "mixed", "inner_upper") if rows[j, S[name]]}
             for j, w in enumerate(words)}  # fmt: skip
    assert shape == {
        "Số:": set(),
        "1759/KH-UBND": {"code"},
        "ngày": set(),
        "14/3/2024": {"number"},
        "II.": {"marker"},
        "—": {"punct"},
        "d6i": {"code"},  # letters and digits: a code's shape, whatever it stands for
        "quảCủa": {"inner_upper"},
        "quả,của": {"mixed"},
    }


def test_split_and_run_together_cues() -> None:
    split = ["triển", "kh", "ai", "kế"]  # khai read as two tokens
    assert _row(split, 1)["join_next"] == 1.0 and _row(split, 2)["join_prev"] == 1.0
    assert _row(split, 0)["join_next"] == 0.0
    merged = ["kế", "hoạch", "quảcủa"]
    assert _row(merged, 2)["cut_two"] == 1.0 and _row(merged, 2)["known"] == 0.0
    assert _row(merged, 1)["cut_two"] == 0.0 and _row(merged, 1)["known"] == 1.0


def test_context_cues() -> None:
    assert _row(["nhà", "6", "năm"], 1)["in_words"] == 1.0  # a syllable read as a digit
    assert _row(["ngày", "6", "năm"], 1)["in_words"] == 1.0 and _row(["ngày", "6"], 1)["in_words"] == 0.0
    assert _row(["kế", "Hoạch"], 1)["title_mid"] == 1.0 and _row(["kế.", "Hoạch"], 1)["title_mid"] == 0.0
    assert _row(["KẾ", "HOẠCH", "Năm"], 2)["case_odd"] == 1.0 and _row(["KẾ", "HOẠCH"], 1)["case_odd"] == 0.0
    assert _row(["kế", "_hoạch"], 1)["rare_chars"] == 1.0


def test_ocr_confidence_and_box_geometry() -> None:
    line = [
        TokenView("triển", ocr=0.95, box=(0, 0, 100, 40)),
        TokenView("kh", ocr=0.4, box=(120, 0, 160, 40)),
        TokenView("ai", ocr=0.9, box=(164, 0, 200, 40)),
        TokenView("kế", ocr=0.96, box=(600, 0, 640, 40)),
    ]
    rows = line_features(line, LEXICON)
    assert rows[2, S["neighbour_logit"]] < 0 < rows[0, S["ocr_logit"]]  # next to a doubtful token
    assert rows[1, S["gap_next"]] == 0.1 and rows[1, S["gap_prev"]] == 0.5  # 4 and 20 px at 40 px lines
    assert rows[0, S["gap_prev"]] == 3.0 and rows[3, S["gap_next"]] == 3.0  # line ends
    assert rows[0, S["line_gap"]] == 8.0  # 400 px: a column gap
    assert rows[0, S["has_box"]] == 1.0 and line_features([TokenView("kế")], LEXICON)[0, S["has_box"]] == 0.0


def test_model_inputs_put_the_word_right_logit_and_features_of_scored_tokens_only() -> None:
    static = np.zeros((2, len(STATIC_FEATURES)))
    words = np.zeros((2, len(FEATURES)))
    words[0, 0] = -0.5
    x = model_inputs(static, np.array([0.9, np.nan]), words)
    assert x.shape == (2, len(TOKEN_FEATURES))
    assert x[0, 0] == 1.0 and abs(x[0, 1] - np.log(9)) < 1e-9 and x[0, 2 + len(STATIC_FEATURES)] == -0.5
    assert x[1, 0] == 0.0 and x[1, 1] == 0.0


def _stump(feature: int, threshold: float, low: float, high: float) -> dict[str, list]:
    return {"feature": [feature, -1, -1], "threshold": [threshold, 0, 0], "left": [1, 1, 2], "right": [2, 1, 2],
            "value": [0.0, low, high]}  # fmt: skip


def test_trees_add_leaf_values_to_the_base() -> None:
    trees = Trees.load_dict({"base": 0.5, "trees": [_stump(0, 1.0, -1.0, 2.0), {**_stump(1, 0.0, 0.25, -0.25)}]})
    x = np.array([[0.0, -1.0], [1.5, 1.0], [1.0, 0.0]])
    assert np.allclose(trees.log_odds(x), [0.5 - 1 + 0.25, 0.5 + 2 - 0.25, 0.5 - 1 + 0.25])


def test_trees_walk_as_a_row_by_row_descent_on_the_shipped_trees() -> None:
    model = default_token_right()
    assert model is not None
    rng = np.random.default_rng(5)
    for trees in model.trees.values():  # trees of many depths, padded to the widest
        x = rng.uniform(-1, 2, size=(40, len(TOKEN_FEATURES)))
        expected = []
        for row in x:
            total = trees.base
            for k in range(len(trees.feature)):
                node = 0
                while trees.feature[k, node] >= 0:
                    go_left = row[trees.feature[k, node]] <= trees.threshold[k, node]
                    node = trees.left[k, node] if go_left else trees.right[k, node]
                total += trees.value[k, node]
            expected.append(total)
        assert np.allclose(trees.log_odds(x), expected, rtol=0, atol=1e-12)


def _model() -> TokenRight:
    # log-odds from the OCR logit alone; identity isotonic map
    tree = _stump(TOKEN_FEATURES.index("ocr_logit"), 0.0, -3.0, 3.0)
    way = {"base": 0.0, "trees": [tree], "iso_x": [0.0, 1.0], "iso_y": [0.0, 1.0]}
    return TokenRight.load_dict({"features": list(TOKEN_FEATURES), "maps": {"ocr": way, "text": way}})


def test_every_token_of_a_page_gets_a_probability() -> None:
    tokens = [Token(text=w, source_text=w, ocr_confidence=c) for w, c in (("Số:", 0.9), ("12", 0.3), ("/", 0.95))]
    page = Page(number=1, source="ocr", lines=[Line(tokens=tokens), Line(tokens=[])])
    scored = score_page(page, {}, LEXICON, _model())
    p = [t.restore_confidence for t in scored.lines[0].tokens]
    assert p == [round(1 / (1 + np.exp(-3)), 4), round(1 / (1 + np.exp(3)), 4), round(1 / (1 + np.exp(-3)), 4)]
    assert [t.text for t in scored.lines[0].tokens] == ["Số:", "12", "/"]


def test_the_shipped_model_loads_and_scores_in_range() -> None:
    model = default_token_right()
    assert model is not None and model.name.startswith("word-right-")
    x = np.zeros((3, len(TOKEN_FEATURES)))
    for way in ("ocr", "text"):
        p = model(x, way)
        assert p.shape == (3,) and np.all((0 <= p) & (p <= 1))


def test_page_box_is_optional() -> None:
    token = Token(text="kế", source_text="kế", ocr_confidence=0.9, box=Box(x0=0, y0=0, x1=10, y1=10))
    page = Page(number=1, source="ocr", lines=[Line(tokens=[token, token.model_copy(update={"box": None})])])
    assert len(score_page(page, {}, LEXICON, _model()).lines[0].tokens) == 2


def test_breakdown_alignment_and_differences() -> None:
    out = ["kế", "hoạch", "triến", "khai", "quảcủa", "nhà", "ở", "x"]
    truth = ["kế", "hoạch", "triển", "khai", "quả", "của", "nhà", "ở"]
    tags = [tag for tag, _ in alignment(out, truth)]
    assert tags == ["right", "right", "substituted", "right", "merged", "right", "right", "extra"]
    assert difference("triến", "triển") == "tone" and difference("dữ", "đữ") == "letter marks"
    assert difference("Kế", "kế") == "casing" and difference("kế,", "kế") == "punctuation"
    assert difference("kể", "kế") == "tone" and difference("kế", "khai") == "other"
    assert token_class("2024,", False) == "number" and token_class("II.", False) == "roman / marker"
    assert token_class("1759/KH-UBND", False) == "code" and token_class("—", False) == "punctuation"
    assert token_class("d6i", True) == "mixed" and token_class("Bình", True, place=True) == "place"


def test_lexicon_cues_weigh_the_marks_against_their_variants() -> None:
    rare, common = _row(["kể"], 0), _row(["kế"], 0)
    assert rare["variants"] == common["variants"] == np.log(3) / 3  # kế, kể
    assert common["prior_gap"] == 0.0 and rare["prior_gap"] == -0.4 and rare["prior"] == -0.9
    assert _row(["xyz"], 0)["prior"] == -3.0 and _row(["xyz"], 0)["variants"] == 0.0


def test_features_cached_per_text_and_per_lexicon_are_those_of_each_lexicon() -> None:
    # A token's own features are cached by its text and its lexicon features per lexicon: a
    # second lexicon must not see the first's, and a line scored twice gets the same rows.
    line = [TokenView(w, ocr=0.9, box=(10 * k, 0, 10 * k + 8, 20)) for k, w in enumerate(["kể", "hoạch", "1759/KH"])]
    first = line_features(line, LEXICON)
    other = {**LEXICON, "kể": -2.0, "hoạch": -30.0}  # kể now the commoner of its variants, hoạch unknown
    second = line_features(line, other)
    assert np.array_equal(line_features(line, LEXICON), first)
    assert first[0, S["prior_gap"]] == -0.4 and second[0, S["prior_gap"]] == 0.0
    assert second[0, S["prior"]] == -0.2 and second[1, S["prior"]] == -3.0
    assert np.array_equal(first[2], second[2])  # a code: nothing of the lexicon


def test_exports_write_the_final_probability() -> None:
    from pipeline.export.layout import word_confidence

    token = Token(text="12", source_text="12", ocr_confidence=0.96, restore_confidence=0.31)
    assert word_confidence(token) == 0.31 == token.machine_confidence

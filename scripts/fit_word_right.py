"""Fit the word-right and token-right models → models/restore/word_right.json.

On the tune split of the rendered development plans (scripts/render_plans.py), both ways in:
the vie OCR of each scan (`.pdf.json`) and the English-model OCR text (`.eng.txt.json`), each
restored again as `gazette convert` restores it now (scripts/bench_review.restored_again), every
output word aligned with the true text and called right or wrong.

- The word-right model (pipeline/restore/confidence.py), per way in ('ocr', 'text'): a logistic
  regression (scikit-learn) over the word-right features of the words restore scores, then an
  isotonic map of its probability to the share of right words.
- The token-right model (pipeline/restore/token_right.py), per way in, over every token: boosted
  trees (scikit-learn's HistGradientBoosting, exported as plain lists) over the word-right
  probability and features and the token's shape, OCR and lexicon cues, then an isotonic map.
  Its word-right inputs and the isotonic map come from five folds of tune documents (FOLDS), so
  that neither learns from probabilities fitted on the same words; the tune report is out of
  fold too, and the review thresholds (pipeline/review/attention.LOW, one per way in) are read
  from it by `low_by_rule`. The trees' capacity (TreeSettings) was chosen on the same out-of-fold figures.

With --extra, corpus documents rendered and read the same two ways (scripts/render_corpus_pages.py:
text the n-gram LM never counted) are trained on as tune documents, in the same folds; every
figure, the isotonic maps of the token-right model and the threshold stay the plans' own.

The held-out split is scored only with --heldout (once, at the end). The rows come from
scripts/word_right_rows.py, cached under DATA and keyed by the features, the extra documents and
a digest of the code, data and models they come from (`--fresh` computes them again).

    .venv/bin/python scripts/fit_word_right.py [--data data/plan-scans] [--extra data/corpus-scans]
        [--fresh] [--heldout] [--without FEATURE ...] [-o OUTPUT]
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import json
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from fit_restore_calibration import ece  # noqa: E402
from word_right_rows import cached_features, static_features  # noqa: E402

from pipeline.files import atomic_write_text  # noqa: E402
from pipeline.restore.api import get_restorer  # noqa: E402
from pipeline.restore.confidence import FEATURES, WORD_RIGHT_FILE, WordRight  # noqa: E402
from pipeline.restore.paths import MODEL_DIR  # noqa: E402
from pipeline.restore.token_right import (  # noqa: E402
    STATIC_FEATURES,
    TOKEN_FEATURES,
    TokenRight,
    model_inputs,
)

# Steps of 0.001 where the review threshold lies: the centred isotonic maps (_knots) give a
# probability that rises continuously, so the rule can stop where the queue reaches its budget
# (the step maps' plateaus jumped from 2.8 to 3.6 queued per wrong word between two steps).
THRESHOLDS = (0.5, 0.7, 0.8, 0.85, *(round(0.9 + 0.001 * k, 3) for k in range(91)))
# Folds of tune documents for the out-of-fold figures: each model fitted on four fifths of the
# documents is nearer the one fitted on all of them than one fitted on half (two folds read
# scans at 79.9 % error recall out of fold where five read 86.8 %, same trees and features).
FOLDS = 5
BUDGET = 3.0  # issue 12: at most 3 tokens queued per wrong word


def _knots(iso: IsotonicRegression) -> tuple[list[float], list[float]]:
    """The isotonic map's knots with each flat block replaced by one knot at its centre
    (centred isotonic regression, Oron & Flournoy 2017). Interpolated, the map then rises
    strictly between block centres instead of holding a plateau: it keeps the ranking of the
    model's scores inside a block, which a threshold on the probability needs, and stays as
    calibrated (every block's mean still sits at its centre)."""
    xs, ys = iso.X_thresholds_, iso.y_thresholds_
    knots_x: list[float] = []
    knots_y: list[float] = []
    start = 0
    for end in range(1, len(xs) + 1):
        if end == len(xs) or ys[end] != ys[start]:
            knots_x.append(round(float(xs[start] + xs[end - 1]) / 2, 6))
            knots_y.append(round(float(ys[start]), 6))
            start = end
    return knots_x, knots_y


def fit(x: np.ndarray, y: np.ndarray) -> dict[str, object]:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=1.0, max_iter=5000).fit((x - mean) / scale, y)
    raw = model.predict_proba((x - mean) / scale)[:, 1]
    knots_x, knots_y = _knots(IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y))
    return {
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "coef": [round(float(v), 6) for v in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 6),
        "iso_x": knots_x,
        "iso_y": knots_y,
        "words": len(y),
    }


def _word_probabilities(model: WordRight, x: np.ndarray, ocr: np.ndarray) -> np.ndarray:
    p = np.zeros(len(x))
    for way in ("ocr", "text"):
        rows = ocr == (way == "ocr")
        if rows.any():
            p[rows] = model(x[rows], way)
    return p


@dataclass(frozen=True)
class TreeSettings:
    """The token-right trees' capacity and regularisation (HistGradientBoostingClassifier's names)."""

    max_iter: int = 200
    learning_rate: float = 0.05
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 100
    l2_regularization: float = 1.0
    max_depth: int | None = None


# Per way in, the best out-of-fold error recall at 3 queued per wrong word on the tune split (five
# folds, every feature) of 15 settings: 7 to 127 leaves, 5 to 300 tokens a leaf, 100 to 400
# rounds (early stopping), learning rate 0.05 or 0.1, L2 1 or 10. The English-model OCR text
# wants bigger trees than the default (15 leaves, 100 a leaf): 78.9 → 85.5 %, log-loss 0.0459 →
# 0.0418; the scans hardly mind (91.5 → 92.0 %).
SETTINGS = {
    "ocr": TreeSettings(max_leaf_nodes=31, min_samples_leaf=50),
    "text": TreeSettings(max_leaf_nodes=63, min_samples_leaf=10),
}


def _trees(x: np.ndarray, y: np.ndarray, settings: TreeSettings) -> HistGradientBoostingClassifier:
    return HistGradientBoostingClassifier(**dataclasses.asdict(settings), random_state=0).fit(x, y)


def _export(model: HistGradientBoostingClassifier) -> dict[str, object]:
    """The fitted trees as plain lists (token_right.Trees reads them)."""
    trees = []
    for (predictor,) in model._predictors:
        nodes = predictor.nodes
        leaf = nodes["is_leaf"].astype(bool)
        index = np.arange(len(nodes))
        trees.append(
            {
                "feature": [int(v) for v in np.where(leaf, -1, nodes["feature_idx"])],
                "threshold": [round(float(v), 6) for v in np.where(leaf, 0.0, nodes["num_threshold"])],
                "left": [int(v) for v in np.where(leaf, index, nodes["left"])],
                "right": [int(v) for v in np.where(leaf, index, nodes["right"])],
                "value": [round(float(v), 6) for v in np.where(leaf, nodes["value"], 0.0)],
            }
        )
    return {"base": round(float(model._baseline_prediction.ravel()[0]), 6), "trees": trees}


def document_folds(doc: np.ndarray, tune: np.ndarray, folds: int) -> list[np.ndarray]:
    """`folds` masks of the tune rows, by document (round robin over the sorted document numbers:
    every fold holds scans and English-model OCR of the same documents)."""
    documents = sorted(set(doc[tune].tolist()))
    return [np.isin(doc, documents[k::folds]) & tune for k in range(folds)]


def token_inputs(found: dict[str, np.ndarray], word_x: np.ndarray, folds: int) -> np.ndarray:
    """Every token's TOKEN_FEATURES. The word-right probabilities of the tune tokens are out of
    fold (the word-right model refitted without their documents), as they will be on new
    documents; held-out tokens get the model fitted on all of tune."""
    tune, rows = found["token_tune"], found["token_row"]
    words = np.where(rows[:, None] >= 0, word_x[np.maximum(rows, 0)], 0.0)
    token_fold = document_folds(found["token_doc"], tune, folds)
    word_fold = document_folds(found["doc"], found["tune"], folds)
    p_word = np.full(len(rows), np.nan)
    for k in range(folds):
        model = WordRight.load_dict(_word_payload(word_x, found["right"], found["ocr"], found["tune"] & ~word_fold[k]))
        mine = token_fold[k] & (rows >= 0)
        p_word[mine] = _word_probabilities(model, word_x[rows[mine]], found["ocr"][rows[mine]])
    final = WordRight.load_dict(_word_payload(word_x, found["right"], found["ocr"], found["tune"]))
    mine = ~tune & (rows >= 0)
    p_word[mine] = _word_probabilities(final, word_x[rows[mine]], found["ocr"][rows[mine]])
    return model_inputs(found["token_static"], p_word, words)


def out_of_fold(
    found: dict[str, np.ndarray], inputs: np.ndarray, settings: Mapping[str, TreeSettings], folds: int
) -> dict[str, np.ndarray]:
    """Per way in, the tree probability of every tune token of that way by trees fitted
    without its documents (0 elsewhere)."""
    tune, ocr, right = found["token_tune"], found["token_ocr"], found["token_right"]
    masks = document_folds(found["token_doc"], tune, folds)
    out = {}
    for way in ("ocr", "text"):
        here = ocr == (way == "ocr")
        p = np.zeros(len(right))
        for mask in masks:
            trees = _trees(inputs[tune & here & ~mask], right[tune & here & ~mask], settings[way])
            p[mask & here] = trees.predict_proba(inputs[mask & here])[:, 1]
        out[way] = p
    return out


def fit_tokens(
    found: dict[str, np.ndarray],
    word_x: np.ndarray,
    settings: Mapping[str, TreeSettings] | None = None,
    folds: int = FOLDS,
) -> tuple[dict[str, object], np.ndarray]:
    """The token-right model per way in, fitted on the tune split, and every token's inputs: the
    isotonic map fitted on out-of-fold tree probabilities (`folds` folds of tune documents) of the
    plans' tokens (not the extra corpus documents': a map is fitted on the documents it serves), the
    trees then on all of tune. found["oof_ocr"], found["oof_text"]: the out-of-fold probabilities."""
    tune, ocr, right = found["token_tune"], found["token_ocr"], found["token_right"]
    plans = tune & ~found["token_extra"]
    settings = SETTINGS if settings is None else settings
    inputs = token_inputs(found, word_x, folds)
    raw = out_of_fold(found, inputs, settings, folds)
    maps: dict[str, object] = {}
    for way in ("ocr", "text"):
        here = ocr == (way == "ocr")
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        knots_x, knots_y = _knots(iso.fit(raw[way][plans & here], right[plans & here]))
        maps[way] = {
            **_export(_trees(inputs[tune & here], right[tune & here], settings[way])),
            "iso_x": knots_x,
            "iso_y": knots_y,
            "tokens": int((tune & here).sum()),
        }
        found[f"oof_{way}"] = np.interp(raw[way], knots_x, knots_y)
    return {"features": list(TOKEN_FEATURES), "maps": maps}, inputs


def _word_payload(x: np.ndarray, y: np.ndarray, ocr: np.ndarray, mask: np.ndarray) -> dict[str, object]:
    maps = {way: fit(x[mask & (ocr == (way == "ocr"))], y[mask & (ocr == (way == "ocr"))]) for way in ("ocr", "text")}
    return {"id": "fold", "features": list(FEATURES), "maps": maps}


def _sweep(p: np.ndarray, wrong: np.ndarray) -> dict[str, list[float | None]]:
    n = int(wrong.sum())
    return {
        f"{t:.3f}": [
            round(int((wrong & (p < t)).sum()) / n, 4) if n else None,
            round(int((p < t).sum()) / max(n, 1), 2),
        ]
        for t in THRESHOLDS
    }


def low_by_rule(sweeps: list[dict[str, list[float | None]]], budget: float = BUDGET) -> float | None:
    """The largest threshold of the sweeps that queues at most `budget` tokens per wrong word on
    every one of them (the review's LOW of a way in: its one sweep)."""
    fits = [float(t) for t in sweeps[0] if all(s[t][1] is not None and s[t][1] <= budget for s in sweeps)]
    return max(fits, default=None)


def fitted_digest(payload: Mapping[str, object]) -> str:
    """Six hex digits of what was fitted (both models' coefficients, trees and maps): two fits of
    one day on the same features but other data (the pipeline restored them otherwise) are other
    models, and their ids must say so."""
    fitted = json.dumps({"maps": payload["maps"], "tokens": payload["tokens"]}, sort_keys=True)
    return hashlib.sha256(fitted.encode()).hexdigest()[:6]


def dumps(payload: dict[str, object]) -> str:
    """The model as JSON: readable, except the token-right trees, one line each way in (thousands of
    numbers that no one reads one per line)."""
    rest = {key: value for key, value in payload.items() if key != "tokens"}
    text = json.dumps(rest, ensure_ascii=False, indent=1)
    if "tokens" not in payload:
        return text + "\n"
    tokens = payload["tokens"]
    assert isinstance(tokens, dict)
    maps = ",\n".join(
        f"  {json.dumps(way)}: {json.dumps(m, separators=(',', ':'))}" for way, m in tokens["maps"].items()
    )
    part = f'{{\n  "features": {json.dumps(tokens["features"])},\n  "maps": {{\n{maps}\n  }}\n }}'
    return text[:-2] + f',\n "tokens": {part}\n}}\n'


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "plan-scans")
    parser.add_argument("-o", "--output", type=Path, default=MODEL_DIR / WORD_RIGHT_FILE)
    parser.add_argument("--fresh", action="store_true", help="compute the features again")
    parser.add_argument("--heldout", action="store_true", help="score the held-out split too (once, at the end)")
    parser.add_argument(
        "--extra",
        type=Path,
        default=None,
        help="also train on the corpus documents of scripts/render_corpus_pages.py in this folder (data/corpus-scans)",
    )
    parser.add_argument(
        "--without",
        action="append",
        default=[],
        choices=FEATURES,
        metavar="FEATURE",
        help="fit as if this word-right feature were absent (its column zeroed: no coefficient, no split), "
        "to compare the out-of-fold figures with and without it on the same cached features",
    )
    args = parser.parse_args()
    # The cache holds the word-right features and the token views; the token-right static
    # features are computed again from the views on every run (no restoring for a new one).
    found = cached_features(args.data, fresh=args.fresh, extra=args.extra)
    found["token_static"] = static_features(found, get_restorer().generator.prior)
    signature = hashlib.sha256(json.dumps([FEATURES, STATIC_FEATURES]).encode()).hexdigest()[:12]
    for name in args.without:  # a constant column: the regression's is standardised to 0, no tree splits on it
        found["features"][:, FEATURES.index(name)] = 0.0
    # the features' signature too: two fits of one day on other features are other models
    stamp = f"word-right-{time.strftime('%Y%m%d')}-{int(found['token_tune'].sum())}-{signature[:6]}"
    if args.without:
        stamp += "-without-" + "-".join(args.without)
    payload = {
        "id": stamp,
        "fitted_on": "tune split of the rendered development plans"
        + (f" and {len(set(found['doc'][found['extra']].tolist()))} rendered corpus documents" if args.extra else "")
        + ": vie OCR of the scans and English-model OCR, restored as gazette convert restores them",
        "features": list(FEATURES),
        "maps": _word_payload(found["features"], found["right"], found["ocr"], found["tune"])["maps"],
    }
    payload["tokens"], inputs = fit_tokens(found, found["features"])
    payload["id"] = stamp = f"{stamp}-{fitted_digest(payload)}"
    model = TokenRight.load_dict(payload["tokens"], stamp)  # type: ignore[arg-type]
    tune, ocr, scan, right = found["token_tune"], found["token_ocr"], found["token_scan"], found["token_right"]
    plans = tune & ~found["token_extra"]  # the figures are the plans': extra documents are only trained on
    report: dict[str, object] = {}
    sweeps = []
    for name, file_scan in (("scans", True), ("restored eng OCR", False)):  # threshold choice: out of fold
        rows = plans & (scan == file_scan)
        p = np.where(ocr, found["oof_ocr"], found["oof_text"])[rows]
        sweeps.append(_sweep(p, ~right[rows]))
        report[f"tune {name}, out of fold"] = {"ece": round(ece(p, right[rows]), 4), "sweep": sweeps[-1]}
    # beside the report (scripts/write_model_card.py tabulates every report entry); per way in,
    # as review_states applies them (scans: words read by OCR; restored eng OCR: a text input)
    low = {way: low_by_rule([sweep]) for way, sweep in zip(("ocr", "text"), sweeps, strict=True)}
    trees = {way: dataclasses.asdict(settings) for way, settings in SETTINGS.items()}
    payload["chosen"] = {"low": low, "folds": FOLDS, "trees": trees}
    for split, mask in (("tune", plans), ("heldout", ~tune))[: 2 if args.heldout else 1]:
        for name, file_scan in (("scans", True), ("restored eng OCR", False)):
            rows = mask & (scan == file_scan)
            p = np.zeros(int(rows.sum()))
            for way in ("ocr", "text"):
                sub = ocr[rows] == (way == "ocr")
                if sub.any():
                    p[sub] = model(inputs[rows][sub], way)
            ok = right[rows]
            report[f"{split} {name}"] = {
                "tokens": int(rows.sum()),
                "wrong": int((~ok).sum()),
                "ece": round(ece(p, ok.astype(float)), 4),
                "recall / queued per wrong": _sweep(p, ~ok),
            }
    payload["report"] = report
    atomic_write_text(args.output, dumps(payload))
    print(json.dumps(report, indent=1))
    print(f"review thresholds by the rule (out of fold, at most {BUDGET:g} per wrong word): {low}")
    print(f"→ {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

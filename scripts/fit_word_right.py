"""Fit the word-right model (pipeline/restore/confidence.py) → models/restore/word_right.json.

On the tune split of the rendered development plans (scripts/render_plans.py), both ways in:
the vie OCR of each scan (`.pdf.json`) and the English-model OCR text (`.eng.txt.json`), each
restored again as `gazette convert` restores it now (scripts/bench_review.restored_again), every
output word aligned with the true text and called right or wrong. Per way in ('ocr', 'text'),
a logistic regression (scikit-learn) over the word-right features, then an isotonic map of its
probability to the share of right words. The held-out split is scored only with --heldout
(once, at the end): ECE, and error recall / words queued per wrong word at a few thresholds.
Features are cached in DATA/word-right-features-<features>.npz (`--fresh` computes them again).

    .venv/bin/python scripts/fit_word_right.py [--data data/plan-scans] [--fresh]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_review import ANNOTATIONS, WAYS, restored_again, right_or_wrong, truth_words  # noqa: E402
from fit_restore_calibration import ece  # noqa: E402

from pipeline.document import Document  # noqa: E402
from pipeline.files import atomic_write_text  # noqa: E402
from pipeline.restore.api import get_restorer  # noqa: E402
from pipeline.restore.confidence import FEATURES, WORD_RIGHT_FILE, WordRight  # noqa: E402
from pipeline.restore.paths import MODEL_DIR  # noqa: E402
from pipeline.vietnamese import normalize  # noqa: E402

THRESHOLDS = (0.5, 0.7, 0.8, 0.85, 0.9, 0.93, 0.95)


def collect(data: Path) -> dict[str, np.ndarray]:
    """Features, right/wrong, way in ('ocr' 1 / 'text' 0), split (tune 1 / heldout 0) and file
    way ('.pdf.json' 1 / '.eng.txt.json' 0) of every scored word; plus, per file way and split,
    the wrong words restore did not score (they count against the recall)."""
    restorer = get_restorer()
    feats, right, ocr, tune, scan = [], [], [], [], []
    unscored: dict[str, int] = {}
    for path in sorted(ANNOTATIONS.glob("plan-*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        doc_id = Path(gold["source"]).stem
        for suffix in WAYS.values():
            converted = data / "out" / f"{doc_id}{suffix}"
            if not converted.is_file():
                continue
            started = time.perf_counter()
            document, rows = restored_again(Document.model_validate_json(converted.read_text("utf-8")), restorer)
            tokens = [token for *_, token in document.tokens()]
            ok = right_or_wrong([normalize(t.text) for t in tokens], truth_words(doc_id))
            scored = set()
            for index, way, features in rows:
                feats.append(features)
                right.append(ok[index])
                ocr.append(way == "ocr")
                tune.append(gold["split"] == "tune")
                scan.append(suffix == ".pdf.json")
                scored.add(index)
            key = f"{gold['split']} {suffix}"
            unscored[key] = unscored.get(key, 0) + sum(not ok[i] for i in range(len(tokens)) if i not in scored)
            print(f"{doc_id}{suffix}: {len(rows)} scored, {time.perf_counter() - started:.1f} s", flush=True)
    return {
        "features": np.array(feats),
        "right": np.array(right, dtype=bool),
        "ocr": np.array(ocr, dtype=bool),
        "tune": np.array(tune, dtype=bool),
        "scan": np.array(scan, dtype=bool),
        "unscored": np.array(json.dumps(unscored)),
    }


def fit(x: np.ndarray, y: np.ndarray) -> dict[str, object]:
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=1.0, max_iter=5000).fit((x - mean) / scale, y)
    raw = model.predict_proba((x - mean) / scale)[:, 1]
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(raw, y)
    return {
        "mean": [round(float(v), 6) for v in mean],
        "scale": [round(float(v), 6) for v in scale],
        "coef": [round(float(v), 6) for v in model.coef_[0]],
        "intercept": round(float(model.intercept_[0]), 6),
        "iso_x": [round(float(v), 6) for v in iso.X_thresholds_],
        "iso_y": [round(float(v), 6) for v in iso.y_thresholds_],
        "words": len(y),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "plan-scans")
    parser.add_argument("-o", "--output", type=Path, default=MODEL_DIR / WORD_RIGHT_FILE)
    parser.add_argument("--fresh", action="store_true", help="compute the features again")
    parser.add_argument("--heldout", action="store_true", help="score the held-out split too (once, at the end)")
    args = parser.parse_args()
    signature = hashlib.sha256(json.dumps(FEATURES).encode()).hexdigest()[:12]
    cache = args.data / f"word-right-features-{signature}.npz"
    if cache.is_file() and not args.fresh:
        found = dict(np.load(cache))
    else:
        found = collect(args.data)
        np.savez_compressed(cache, **found)
    x, y = found["features"], found["right"]
    ocr, tune, scan = found["ocr"], found["tune"], found["scan"]
    unscored = json.loads(str(found["unscored"]))
    maps = {way: fit(x[tune & (ocr == (way == "ocr"))], y[tune & (ocr == (way == "ocr"))]) for way in ("ocr", "text")}
    stamp = f"word-right-{time.strftime('%Y%m%d')}-{int(tune.sum())}"
    payload = {
        "id": stamp,
        "fitted_on": "tune split of the rendered development plans: vie OCR of the scans and English-model OCR, "
        "restored as gazette convert restores them",
        "features": list(FEATURES),
        "maps": maps,
    }
    model = WordRight.load_dict(payload)
    report: dict[str, object] = {}
    for split, mask in (("tune", tune), ("heldout", ~tune))[: 2 if args.heldout else 1]:
        for name, file_scan, suffix in (("scans", True, ".pdf.json"), ("restored eng OCR", False, ".eng.txt.json")):
            rows = mask & (scan == file_scan)
            p = np.zeros(int(rows.sum()))
            for way in ("ocr", "text"):
                sub = ocr[rows] == (way == "ocr")
                if sub.any():
                    p[sub] = model(x[rows][sub], way)
            ok = y[rows].astype(float)
            missed = unscored.get(f"{split} {suffix}", 0)
            wrong = int((ok == 0).sum()) + missed
            sweep = {}
            for t in THRESHOLDS:
                queued = p < t
                caught = int((queued & (ok == 0)).sum())
                sweep[f"{t:.2f}"] = [round(caught / wrong, 4) if wrong else None, round(queued.sum() / wrong, 2)]
            report[f"{split} {name}"] = {
                "words scored": int(rows.sum()),
                "wrong scored": int((ok == 0).sum()),
                "wrong unscored": missed,
                "ece": round(ece(p, ok), 4),
                "recall / queued per wrong": sweep,
            }
    payload["report"] = report
    atomic_write_text(args.output, json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
    print(json.dumps(report, indent=1))
    print(f"→ {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

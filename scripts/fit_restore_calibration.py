"""Fit the restore confidence calibration (pipeline/restore/calibration.py) → models/restore/calibration.json.

On the tune split of the rendered development plans (scripts/render_plans.py), the English-
model OCR of each scan restored by `gazette convert`: every restored word is aligned with the
true text (scripts/bench_review.py) and called right or wrong. An isotonic regression
(scikit-learn) maps the network's confidence to the share of right words, one map for words
restore kept and one for words it changed. The held-out split is only scored: expected
calibration error before and after.

    .venv/bin/python scripts/fit_restore_calibration.py [--data data/plan-scans]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.isotonic import IsotonicRegression

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_review import ANNOTATIONS, right_or_wrong, truth_words  # noqa: E402

from pipeline.document import Document  # noqa: E402
from pipeline.files import atomic_write_text  # noqa: E402
from pipeline.restore.calibration import CALIBRATION_FILE, Calibration  # noqa: E402
from pipeline.restore.paths import MODEL_DIR  # noqa: E402
from pipeline.vietnamese import normalize  # noqa: E402

BINS = 10


def samples(data: Path, split: str) -> list[tuple[float, bool, bool]]:
    """(raw confidence, changed, right) of every restored word of the split's documents."""
    found = []
    for path in sorted(ANNOTATIONS.glob("plan-*.json")):
        gold = json.loads(path.read_text(encoding="utf-8"))
        converted = data / "out" / f"{Path(gold['source']).stem}.eng.txt.json"
        if gold["split"] != split or not converted.is_file():
            continue
        document = Document.model_validate_json(converted.read_text(encoding="utf-8"))
        if document.provenance.models.get("restore_calibration", "identity") != "identity":
            raise SystemExit(f"{converted}: already calibrated; convert the archive again without calibration.json")
        tokens = [token for *_, token in document.tokens()]
        right = right_or_wrong([normalize(t.text) for t in tokens], truth_words(Path(gold["source"]).stem))
        found += [(t.restore_confidence, t.text != t.source_text, ok)
                  for t, ok in zip(tokens, right, strict=True) if t.restore_confidence is not None]  # fmt: skip
    return found


def ece(probabilities: np.ndarray, right: np.ndarray) -> float:
    bins = np.minimum((probabilities * BINS).astype(int), BINS - 1)
    total = 0.0
    for b in range(BINS):
        mask = bins == b
        if mask.any():
            total += abs(right[mask].mean() - probabilities[mask].mean()) * mask.sum()
    return total / len(probabilities)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "data" / "plan-scans")
    parser.add_argument("-o", "--output", type=Path, default=MODEL_DIR / CALIBRATION_FILE)
    args = parser.parse_args()
    tune, heldout = samples(args.data, "tune"), samples(args.data, "heldout")
    maps = {}
    for kind, changed in (("kept", False), ("changed", True)):
        rows = np.array([(c, ok) for c, ch, ok in tune if ch == changed], dtype=float)
        model = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(rows[:, 0], rows[:, 1])
        maps[kind] = {"x": [round(float(v), 5) for v in model.X_thresholds_],
                      "y": [round(float(v), 5) for v in model.y_thresholds_], "words": len(rows)}  # fmt: skip
    calibration = Calibration({k: (tuple(m["x"]), tuple(m["y"])) for k, m in maps.items()})
    report = {}
    for name, rows in (("tune", tune), ("heldout", heldout)):
        raw = np.array([c for c, _, _ in rows])
        calibrated = np.array([calibration(c, ch) for c, ch, _ in rows])
        right = np.array([ok for *_, ok in rows], dtype=float)
        report[name] = {
            "words": len(rows),
            "right": round(float(right.mean()), 4),
            "ece_raw": round(ece(raw, right), 4),
            "ece": round(ece(calibrated, right), 4),
        }
    stamp = f"isotonic-{time.strftime('%Y%m%d')}-{len(tune)}"
    payload = {"id": stamp, "fitted_on": "tune split of the rendered development plans, English-model OCR restored",
               "maps": maps, "report": report}  # fmt: skip
    atomic_write_text(args.output, json.dumps(payload, ensure_ascii=False, indent=1) + "\n")
    print(json.dumps(report, indent=1))
    print(f"→ {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

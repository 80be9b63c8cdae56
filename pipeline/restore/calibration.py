"""The restore confidence as a probability that the word is right.

The network's probability of its choice is not one: on rendered plans, restored words it gave
0.05 were right 88 % of the time (benchmarks/review.md). scripts/fit_restore_calibration.py
fits a monotone map from that probability to the share of right words, separately for words
restore kept and words it changed, on the tune split of the rendered development plans, and
writes it beside the model (calibration.json). Without the file the confidence is left as the
network gave it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from pipeline.restore.paths import MODEL_DIR

__all__ = ["CALIBRATION_FILE", "Calibration", "default_calibration"]

CALIBRATION_FILE = "calibration.json"


@dataclass(frozen=True)
class Calibration:
    """Piecewise-linear monotone maps (isotonic knots) per kind of word: 'kept' and 'changed'."""

    knots: dict[str, tuple[tuple[float, ...], tuple[float, ...]]]
    name: str = "identity"

    def __call__(self, confidence: float, changed: bool) -> float:
        knots = self.knots.get("changed" if changed else "kept")
        if not knots:
            return confidence
        return float(np.interp(confidence, knots[0], knots[1]))

    @classmethod
    def load(cls, path: Path) -> Calibration:
        data = json.loads(path.read_text(encoding="utf-8"))
        knots = {kind: (tuple(m["x"]), tuple(m["y"])) for kind, m in data["maps"].items()}
        return cls(knots, name=str(data.get("id", path.name)))


@cache
def default_calibration(directory: Path = MODEL_DIR) -> Calibration:
    path = directory / CALIBRATION_FILE
    return Calibration.load(path) if path.exists() else Calibration({})

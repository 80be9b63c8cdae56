"""The restore confidence as a probability (pipeline/restore/calibration.py)."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

from pipeline.restore.calibration import CALIBRATION_FILE, Calibration, default_calibration
from pipeline.restore.paths import MODEL_DIR


def test_a_map_is_applied_per_kind_of_word_and_missing_maps_leave_the_confidence() -> None:
    calibration = Calibration({"changed": ((0.0, 0.5, 1.0), (0.6, 0.8, 0.99))})
    assert calibration(0.25, changed=True) == 0.7
    assert calibration(1.0, changed=True) == 0.99
    assert calibration(0.25, changed=False) == 0.25  # no map for kept words: unchanged
    assert Calibration({})(0.3, changed=True) == 0.3


def test_the_shipped_calibration_is_monotone_and_a_probability(tmp_path: Path) -> None:
    path = MODEL_DIR / CALIBRATION_FILE
    assert path.is_file(), "models/restore/calibration.json ships beside the model"
    calibration = default_calibration()
    assert calibration.name.startswith("isotonic-")
    for changed in (False, True):
        values = [calibration(p / 100, changed) for p in range(101)]
        assert all(0.0 <= v <= 1.0 for v in values)
        assert all(a <= b + 1e-9 for a, b in pairwise(values))
    assert default_calibration(tmp_path).name == "identity"

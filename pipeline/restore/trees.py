"""Gradient-boosted regression trees evaluated with numpy (the token-right model's, exported from
scikit-learn by scripts/fit_word_right.py as plain lists): no scikit-learn at runtime."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Trees"]


@dataclass(frozen=True)
class Trees:
    """Gradient-boosted regression trees as flat arrays, [trees, nodes] each: a row goes left
    when its feature is at most the threshold; leaves hold their value (learning rate applied).
    The log-odds of a row are `base` plus the values of the leaves it reaches."""

    base: float
    feature: np.ndarray  # int, -1 at leaves
    threshold: np.ndarray
    left: np.ndarray  # int, a leaf points to itself
    right: np.ndarray
    value: np.ndarray
    # The same tables raveled, children as indices into them: a step of the walk is then 1-D
    # takes, which cost a third of the 2-D (tree, node) indexing (15 -> 6 ms for a page's tokens).
    _flat: tuple[np.ndarray, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        trees, width = self.feature.shape
        start = np.repeat(np.arange(trees, dtype=np.int64) * width, width)
        flat = (
            self.feature.ravel(),
            self.threshold.ravel(),
            self.left.ravel() + start,
            self.right.ravel() + start,
            self.value.ravel(),
        )
        object.__setattr__(self, "_flat", flat)

    def log_odds(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        feature, threshold, left, right, value = self._flat
        trees, width = self.feature.shape
        node = np.repeat(np.arange(trees, dtype=np.int64)[:, None] * width, len(x), axis=1)  # every root
        cells = x.ravel()
        row_start = np.arange(len(x), dtype=np.int64)[None, :] * x.shape[1]
        for _ in range(width):  # no path is longer than a tree's node count
            at = feature[node]
            if (at < 0).all():
                break
            go_left = cells[row_start + np.maximum(at, 0)] <= threshold[node]
            node = np.where(go_left, left[node], right[node])
        return self.base + value[node].sum(axis=0)

    @classmethod
    def load_dict(cls, data: dict[str, Any]) -> Trees:
        width = max(len(t["feature"]) for t in data["trees"])

        def table(key: str, fill: float, dtype: type) -> np.ndarray:
            out = np.full((len(data["trees"]), width), fill, dtype=dtype)
            for k, tree in enumerate(data["trees"]):
                out[k, : len(tree[key])] = tree[key]
            return out

        return cls(
            float(data["base"]),
            table("feature", -1, np.int64),
            table("threshold", 0.0, float),
            table("left", 0, np.int64),
            table("right", 0, np.int64),
            table("value", 0.0, float),
        )

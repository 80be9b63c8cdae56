"""Gradient-boosted regression trees evaluated with numpy (the token-right model's, exported from
scikit-learn by scripts/fit_word_right.py as plain lists): no scikit-learn at runtime."""

from __future__ import annotations

from dataclasses import dataclass
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

    def log_odds(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, dtype=float)
        trees = np.arange(len(self.feature))[:, None]
        node = np.zeros((len(self.feature), len(x)), dtype=np.int64)
        rows = np.arange(len(x))[None, :]
        for _ in range(self.feature.shape[1]):  # no path is longer than a tree's node count
            feature = self.feature[trees, node]
            if (feature < 0).all():
                break
            go_left = x[rows, np.maximum(feature, 0)] <= self.threshold[trees, node]
            node = np.where(go_left, self.left[trees, node], self.right[trees, node])
        return self.base + self.value[trees, node].sum(axis=0)

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

"""Turning a model's raw output into a fraud score in [0, 1]; shared by every runtime.

The manifest's `serving.score_transform` says which:
- `{"kind": "column", "index": 1}`: the fraud-class column of a probability matrix;
- `{"kind": "logistic", "slope": a, "intercept": b}`: sigmoid(a * raw + b), for raw
  outlier scores (an isolation forest's decision function, a distance beyond eps).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np


def to_score(raw: np.ndarray, transform: Mapping[str, Any]) -> np.ndarray:
    """Apply `transform` to a model's raw output; float64 scores in [0, 1]."""
    raw = np.asarray(raw, dtype=np.float64)
    kind = transform["kind"]
    if kind == "column":
        column = raw.reshape(raw.shape[0], -1)[:, int(transform["index"])]
        return np.minimum(np.maximum(column, 0.0), 1.0)  # np.clip's dispatch costs more than scoring a row
    if kind == "logistic":
        z = float(transform["slope"]) * raw.reshape(-1) + float(transform["intercept"])
        return 1.0 / (1.0 + np.exp(-np.clip(z, -500.0, 500.0)))
    raise ValueError(f"unknown score transform {kind!r}")

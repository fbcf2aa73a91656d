"""Permutation importance: how much a model's validation ROC-AUC drops when one feature is shuffled."""

from __future__ import annotations

import numpy as np
from sklearn.metrics import roc_auc_score

from models.recipes.base import FittedModel


def permutation_importance(model: FittedModel, X: np.ndarray, y: np.ndarray, names: list[str],
                           rng: np.random.Generator, repeats: int = 2) -> dict[str, float]:
    """Mean drop in validation ROC-AUC when one feature's column is shuffled."""
    base = roc_auc_score(y, model.native_scores(X))
    used = set(model.reads or names)  # shuffling a column the model never reads cannot change its scores
    out: dict[str, float] = {}
    for j, name in enumerate(names):
        if name not in used:
            out[name] = 0.0
            continue
        drops = []
        for _ in range(repeats):
            shuffled = X.copy()
            shuffled[:, j] = rng.permutation(shuffled[:, j])
            drops.append(base - roc_auc_score(y, model.native_scores(shuffled)))
        out[name] = round(float(np.mean(drops)), 6)
    return out

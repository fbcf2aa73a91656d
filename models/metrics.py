"""Validation metrics recorded in a bundle's manifest."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, confusion_matrix, roc_auc_score, roc_curve


def _downsample(curve: np.ndarray, points: int) -> np.ndarray:
    if len(curve) <= points:
        return np.arange(len(curve))
    return np.unique(np.linspace(0, len(curve) - 1, points).round().astype(int))


def best_f1_threshold(y: np.ndarray, scores: np.ndarray) -> float:
    """The score threshold that maximises F1 (ties: the highest threshold)."""
    order = np.argsort(-scores, kind="stable")
    s, t = scores[order], y[order]
    tp = np.cumsum(t)
    fp = np.cumsum(1 - t)
    last_of_tie = np.r_[s[1:] != s[:-1], True]
    tp, fp, s = tp[last_of_tie], fp[last_of_tie], s[last_of_tie]
    positives = max(int(t.sum()), 1)
    f1 = 2 * tp / (tp + fp + positives)
    return float(s[int(np.argmax(f1))])


def classification_report(y: np.ndarray, scores: np.ndarray, threshold: float, roc_points: int = 200) -> dict[str, Any]:
    """ROC-AUC, PR-AUC, and precision/recall/F1/confusion matrix at `threshold`."""
    y = np.asarray(y).astype(int)
    scores = np.asarray(scores, dtype=np.float64)
    both = len(np.unique(y)) == 2
    predicted = (scores >= threshold).astype(int)
    tn, fp, fn, tp = confusion_matrix(y, predicted, labels=[0, 1]).ravel()
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    report: dict[str, Any] = {
        "rows": len(y),
        "positives": int(y.sum()),
        "roc_auc": float(roc_auc_score(y, scores)) if both else None,
        "pr_auc": float(average_precision_score(y, scores)) if both else None,
        "threshold": float(threshold),
        "precision": float(precision),
        "recall": float(recall),
        "f1": float(f1),
        "confusion_matrix": {"tn": int(tn), "fp": int(fp), "fn": int(fn), "tp": int(tp)},
        "roc_curve": None,
    }
    if both:
        fpr, tpr, thr = roc_curve(y, scores, drop_intermediate=True)
        keep = _downsample(fpr, roc_points)
        thr = np.where(np.isinf(thr), 1.0, thr)
        report["roc_curve"] = {
            "fpr": np.round(fpr[keep], 6).tolist(),
            "tpr": np.round(tpr[keep], 6).tolist(),
            "threshold": np.round(thr[keep], 6).tolist(),
        }
    return report

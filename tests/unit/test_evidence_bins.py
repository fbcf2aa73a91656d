"""Fine score bins and ROC-AUC from them (arbiter.domain.evidence), against scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from arbiter.domain.evidence import COARSE_BINS, EDGES, auc_from_bins, coarse_bin, score_bin, score_bins


def _counts(scores: np.ndarray, labels: np.ndarray) -> dict[int, tuple[int, int]]:
    counts: dict[int, list[int]] = {}
    for b, y in zip(score_bins(scores), labels, strict=True):
        cell = counts.setdefault(int(b), [0, 0])
        cell[0 if y else 1] += 1
    return {b: (p, n) for b, (p, n) in counts.items()}


def test_bins_are_ordered_fine_near_the_ends_and_align_with_the_twenty_coarse_bins() -> None:
    assert np.all(np.diff(EDGES) > 0) and EDGES[-1] == 1.0
    assert score_bin(0.0) < score_bin(1e-6) < score_bin(2e-6) < score_bin(0.5) < score_bin(1 - 1e-6) < score_bin(1.0)
    for k in range(1, COARSE_BINS):  # every 0.05 is an edge: a fine bin never straddles two coarse ones
        assert coarse_bin(score_bin(k / COARSE_BINS)) == k and coarse_bin(score_bin(k / COARSE_BINS) - 1) == k - 1
    assert coarse_bin(score_bin(1.0)) == COARSE_BINS - 1 and coarse_bin(score_bin(0.0)) == 0
    scores = np.random.default_rng(0).random(1000)
    assert [score_bin(s) for s in scores] == score_bins(scores).tolist()


@pytest.mark.parametrize("seed", range(5))
def test_auc_from_bins_is_within_its_bound_of_scikit_learn_and_the_bound_is_small(seed: int) -> None:
    rng = np.random.default_rng(seed)
    labels = rng.random(20_000) < 0.02
    # fraud scores as models give them: most legitimate ones crowded near 0, overlap in the middle
    logits = np.where(labels, rng.normal(2.0, 2.5, labels.size), rng.normal(-6.0, 2.5, labels.size))
    scores = (1 / (1 + np.exp(-logits))).astype(np.float32).astype(float)
    exact = roc_auc_score(labels, scores)
    binned = auc_from_bins(_counts(scores, labels))
    assert abs(binned.auc - exact) <= binned.error_bound
    assert binned.error_bound <= 1e-3


def test_scores_with_ties_give_scikit_learns_auc_exactly() -> None:
    rng = np.random.default_rng(1)
    labels = rng.random(3_000) < 0.2
    scores = np.round(np.clip(rng.normal(np.where(labels, 0.6, 0.4), 0.2), 0, 1), 2)  # a 100-tree forest's shape
    assert auc_from_bins(_counts(scores, labels)).auc == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_one_class_has_no_auc() -> None:
    assert auc_from_bins({3: (5, 0)}).auc is None and auc_from_bins({}).positives == 0

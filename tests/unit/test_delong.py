"""DeLong's interval of a paired AUC difference from the evidence aggregates' bins (domain/delong.py),
against a direct implementation on the scores themselves."""

from __future__ import annotations

import numpy as np
import pytest

from arbiter.domain.delong import paired_delong
from arbiter.domain.evidence import CELL_BINS, auc_from_bins, score_bins


def reference_delong(x: np.ndarray, y: np.ndarray, fraud: np.ndarray) -> tuple[float, float]:
    """DeLong et al. (1988) directly: every (fraud, legitimate) pair compared, ties counting half;
    the difference of the AUCs and its standard error."""
    pos, neg = fraud == 1, fraud == 0

    def placements(s: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
        psi = (s[pos][:, None] > s[neg][None, :]) + 0.5 * (s[pos][:, None] == s[neg][None, :])
        return psi.mean(axis=1), psi.mean(axis=0), float(psi.mean())

    v10x, v01x, ax = placements(x)
    v10y, v01y, ay = placements(y)
    s10, s01 = np.cov(np.vstack([v10x, v10y])), np.cov(np.vstack([v01x, v01y]))
    variance = ((s10[0, 0] + s10[1, 1] - 2 * s10[0, 1]) / pos.sum()
                + (s01[0, 0] + s01[1, 1] - 2 * s01[0, 1]) / neg.sum())
    return ax - ay, float(np.sqrt(variance))


def binned(x: np.ndarray, y: np.ndarray, fraud: np.ndarray) -> tuple[dict, dict, dict]:
    """What the aggregates hold of these pairs: each side's fine bins and the joint cells."""
    sides: tuple[dict, dict] = ({}, {})
    cells: dict = {}
    for bx, by, f in zip(score_bins(x), score_bins(y), fraud, strict=True):
        for counts, key in ((sides[0], int(bx)), (sides[1], int(by)),
                            (cells, (int(bx) // CELL_BINS, int(by) // CELL_BINS))):
            p, n = counts.get(key, (0, 0))
            counts[key] = (p + int(f), n + 1 - int(f))
    return sides[0], sides[1], cells


def _pairs(n: int, seed: int, *, discrete: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    fraud = (rng.random(n) < 0.05).astype(int)
    lx = rng.normal(np.where(fraud, 1.5, -1.5), 1.5)
    ly = 0.6 * lx + rng.normal(np.where(fraud, 0.8, -0.8), 1.2)
    if discrete:  # log-odds on a 0.5 grid: 50 fine bins apart, so each cell holds one score per model
        lx, ly = np.round(lx * 2) / 2, np.round(ly * 2) / 2
    return 1 / (1 + np.exp(-lx)), 1 / (1 + np.exp(-ly)), fraud


def test_equal_to_delong_when_each_cell_holds_one_score() -> None:
    x, y, fraud = _pairs(3000, 7, discrete=True)
    result = paired_delong(*binned(x, y, fraud))
    delta, std_error = reference_delong(x, y, fraud)
    assert result is not None
    assert result.delta == pytest.approx(delta, abs=1e-12)
    assert result.std_error == pytest.approx(std_error, rel=1e-9)
    assert result.ci_low == pytest.approx(delta - 1.959963984540054 * std_error, abs=1e-12)
    assert (result.positives, result.negatives) == (int(fraud.sum()), int((1 - fraud).sum()))


def test_continuous_scores_are_close_to_delong() -> None:
    """Several scores to a cell: the covariance within cells is left out, which moves the standard
    error by a fraction of a percent (here the models rank alike within cells: it widens)."""
    x, y, fraud = _pairs(3000, 11, discrete=False)
    challenger, champion, cells = binned(x, y, fraud)
    result = paired_delong(challenger, champion, cells)
    delta, std_error = reference_delong(x, y, fraud)
    assert result is not None
    assert result.delta == pytest.approx(delta, abs=1e-3)  # the binned AUCs' own bound
    assert std_error <= result.std_error <= 1.01 * std_error


def test_the_aucs_are_the_binned_aucs_the_view_shows() -> None:
    x, y, fraud = _pairs(2000, 3, discrete=False)
    challenger, champion, cells = binned(x, y, fraud)
    result = paired_delong(challenger, champion, cells)
    assert result is not None
    assert result.challenger_auc == pytest.approx(auc_from_bins(challenger).auc, abs=1e-12)
    assert result.champion_auc == pytest.approx(auc_from_bins(champion).auc, abs=1e-12)


def test_the_interval_narrows_with_more_labels() -> None:
    widths = []
    for n in (1000, 4000, 16000):
        x, y, fraud = _pairs(n, 5, discrete=False)
        result = paired_delong(*binned(x, y, fraud))
        assert result is not None
        widths.append(result.ci_high - result.ci_low)
    assert widths[0] > widths[1] > widths[2]
    assert widths[2] < 0.6 * widths[0]  # about 1/sqrt(4) per step


def test_fewer_than_two_of_a_class_has_no_interval() -> None:
    assert paired_delong({1: (1, 5)}, {1: (1, 5)}, {(0, 0): (1, 5)}) is None
    assert paired_delong({1: (5, 1)}, {1: (5, 1)}, {(0, 0): (5, 1)}) is None


def test_identical_models_differ_by_nothing() -> None:
    """DeLong's own variance is 0 here; what is left is the within-cell spread the grid cannot see
    (the interval errs wide), a small share of either AUC's own standard error."""
    x, _, fraud = _pairs(1000, 2, discrete=False)
    result = paired_delong(*binned(x, x, fraud))
    assert result is not None and result.delta == 0 and result.ci_low < 0 < result.ci_high
    assert result.std_error < 0.001
    d, _, fraud = _pairs(1000, 2, discrete=True)  # one score per cell: DeLong's zero exactly
    exact = paired_delong(*binned(d, d, fraud))
    assert exact is not None and exact.std_error == pytest.approx(0, abs=1e-9)

"""Threshold simulation from the fine bins: figures against a hand count, the cheapest thresholds
against a brute force over the same candidate edges."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pytest

from arbiter.domain.evidence import bin_low, score_bin
from arbiter.domain.simulation import (
    BinCounts,
    Costs,
    best_thresholds,
    candidate_edges,
    decline_threshold_for_rate,
    edge_index,
    simulate,
)

COSTS = Costs(missed_fraud_cost=1000.0, false_decline_cost=25.0, review_cost=2.0)


def _counts(rows: list[tuple[float, str, bool, float | None]], days: int) -> BinCounts:
    """(score, label, mature, amount) per application, binned as the writers bin them."""
    grouped: dict[tuple[int, str, bool], list[float]] = {}
    for score, label, mature, amount in rows:
        entry = grouped.setdefault((score_bin(score), label, mature), [0, 0.0, 0])
        entry[0] += 1
        entry[1] += amount or 0.0
        entry[2] += amount is None
    return BinCounts.from_rows([(b, label, mature, *v) for (b, label, mature), v in grouped.items()], days)


def test_figures_by_hand() -> None:
    rows = [(0.10, "legit", True, 10.0), (0.20, "legit", True, 20.0), (0.40, "fraud", True, 300.0),  # approved
            (0.55, "legit", True, 5.0), (0.60, "fraud", True, None), (0.70, "none", False, 1.0),      # reviewed
            (0.85, "legit", True, 50.0), (0.90, "fraud", True, 700.0), (0.95, "fraud", False, 80.0)]  # declined
    figures = simulate(_counts(rows, days=3), 0.5, 0.8, COSTS)
    assert (figures["approve_rate"], figures["review_rate"], figures["decline_rate"]) == (3 / 9, 3 / 9, 3 / 9)
    # mature labels only: the immature fraud at 0.95 and the unlabelled 0.70 count in the rates alone
    assert (figures["labelled"], figures["frauds"]) == (7, 3)
    assert (figures["frauds_declined"], figures["frauds_reviewed"], figures["frauds_missed"]) == (1, 1, 1)
    assert (figures["fraud_amount_declined"], figures["fraud_amount_missed"]) == (700.0, 300.0)
    assert figures["false_declines"] == 1 and figures["fraud_caught_rate"] == pytest.approx(2 / 3)
    assert figures["reviews_per_day"] == pytest.approx(1.0)
    # a missed fraud costs its amount (300); a false decline 25; three reviews at 2
    assert figures["expected_cost"] == pytest.approx(300.0 + 25.0 + 3 * 2.0)
    assert figures["resolved_thresholds"]["decline"] == pytest.approx(0.8)  # 0.8 is an edge of the bins


def test_a_threshold_resolves_to_the_bin_edge_at_or_above_it() -> None:
    for t in (0.0, 1e-9, 0.123456, 0.5, 0.8, 0.999999, 1.0):
        b = edge_index(t)
        assert bin_low(b) >= t - 1e-12 and (b == 0 or bin_low(b - 1) < t)
    counts = _counts([(0.97, "legit", True, 1.0), (0.5, "legit", True, 1.0), (0.1, "legit", True, 1.0),
                      (0.05, "legit", True, 1.0)], days=1)
    assert simulate(counts, 0.0, decline_threshold_for_rate(counts, 0.25), COSTS)["decline_rate"] == 0.25
    assert simulate(counts, 0.0, decline_threshold_for_rate(counts, 0.5), COSTS)["decline_rate"] == 0.5


def test_the_cheapest_thresholds_equal_a_brute_force_over_the_same_edges() -> None:
    rng = random.Random(4)
    rows = []
    for _ in range(3000):
        fraud = rng.random() < 0.05
        score = min(max(rng.gauss(0.75 if fraud else 0.3, 0.18), 0.0), 1.0)
        rows.append((score, "fraud" if fraud else "legit", rng.random() < 0.9, rng.choice([None, rng.uniform(5, 900)])))
    counts = _counts(rows, days=10)
    edges = candidate_edges(counts)[::4]  # the same grid for both: a quarter keeps the brute force quick
    for capacity in (None, 20.0, 3.0):
        best = best_thresholds(counts, COSTS, capacity, edges)
        brute = None
        for r, d in itertools.combinations_with_replacement(edges, 2):
            f = simulate(counts, bin_low(r), bin_low(d), COSTS)
            if capacity is not None and f["reviews_per_day"] > capacity + 1e-9:
                continue
            if brute is None or f["expected_cost"] < brute["expected_cost"] - 1e-9:
                brute = f
        assert best is not None and brute is not None
        assert best["expected_cost"] == pytest.approx(brute["expected_cost"], rel=1e-12)
        assert best["reviews_per_day"] <= (capacity or np.inf) + 1e-9
    assert best_thresholds(counts, COSTS, 1e-9) is not None  # no review band at all always fits


def test_bad_thresholds_are_refused() -> None:
    counts = _counts([(0.5, "legit", True, 1.0)], days=1)
    with pytest.raises(ValueError, match="review <= decline"):
        simulate(counts, 0.9, 0.5, COSTS)
    with pytest.raises(ValueError, match="between 0 and 1"):
        decline_threshold_for_rate(counts, 1.5)

"""Threshold simulation: what a strategy would have done, from the fine score bins of the evidence.

A model's bins over a window (`evidence_bins`: per fine bin and label state, applications, the sum
of their known amounts and how many had none) are all a strategy needs: a pair of thresholds cuts
them into approve, review and decline. A threshold resolves to the fine bin edge at or above it
(the bins are about 1% apart in odds), so the figures are exact for those edges.

- rates: over every application of the window;
- on the labelled applications of mature days: frauds declined, reviewed and approved (missed) with
  their amounts, false declines (legitimate applications declined);
- expected cost, as the strategists' views count it (`model_daily_performance`): each missed fraud
  costs its amount (or `missed_fraud_cost` without one), each false decline `false_decline_cost`;
  here a fraud sent to review counts as caught (an analyst confirms it), and each review costs
  `review_cost` (0 by default): review capacity, not money, is what limits reviews;
- reviews per day: reviews over the window's days with applications.

`best_thresholds` searches the pairs of candidate edges for the lowest expected cost whose reviews
per day fit a capacity, vectorised over the pairs (cumulative sums from the top bin down).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from arbiter.domain.evidence import BINS, EDGES, FRAUD, LEGIT, bin_low

MAX_CANDIDATES = 600  # edges the optimiser tries: 180,000 pairs, a few ms


@dataclass(frozen=True)
class Costs:
    """What the cost of a strategy counts (`view_settings`, and a review's cost)."""

    missed_fraud_cost: float
    false_decline_cost: float
    review_cost: float = 0.0


@dataclass
class BinCounts:
    """Per fine bin: every application of the window, and on mature days the labelled ones."""

    applications: np.ndarray = field(default_factory=lambda: np.zeros(BINS))
    frauds: np.ndarray = field(default_factory=lambda: np.zeros(BINS))
    legit: np.ndarray = field(default_factory=lambda: np.zeros(BINS))
    fraud_amount: np.ndarray = field(default_factory=lambda: np.zeros(BINS))
    fraud_without_amount: np.ndarray = field(default_factory=lambda: np.zeros(BINS))
    days: int = 0

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, str, bool, float, float, float]], days: int) -> BinCounts:
        """`rows`: (bin, label state, mature day, applications, amount, without amount)."""
        counts = cls(days=days)
        for b, label, mature, n, amount, without in rows:
            counts.applications[b] += n
            if not mature:
                continue
            if label == FRAUD:
                counts.frauds[b] += n
                counts.fraud_amount[b] += amount
                counts.fraud_without_amount[b] += without
            elif label == LEGIT:
                counts.legit[b] += n
        return counts

    @property
    def total(self) -> float:
        return float(self.applications.sum())


_EDGE_LIST = EDGES.tolist()


def edge_index(threshold: float) -> int:
    """The first fine bin whose lower edge is at or above `threshold`: the threshold resolves to that
    edge (bin b holds scores in [EDGES[b-1], EDGES[b]); bin 0 those below EDGES[0])."""
    if threshold <= 0.0:
        return 0
    return min(bisect_left(_EDGE_LIST, threshold) + 1, BINS - 1)


def simulate(counts: BinCounts, review: float, decline: float, costs: Costs) -> dict[str, Any]:
    """The figures of the strategy (review, decline) on `counts`."""
    if not 0.0 <= review <= decline <= 1.0:
        raise ValueError("thresholds must satisfy 0 <= review <= decline <= 1")
    r, d = edge_index(review), edge_index(decline)
    return _figures(counts, r, d, costs) | {"review_threshold": review, "decline_threshold": decline}


def decline_threshold_for_rate(counts: BinCounts, rate: float) -> float:
    """The lowest bin edge whose decline share is at most `rate` (of every application)."""
    if not 0.0 <= rate <= 1.0:
        raise ValueError("a decline rate is between 0 and 1")
    total = counts.total
    if total == 0:
        raise ValueError("no application in the window to take a rate of")
    above = np.cumsum(counts.applications[::-1])[::-1] / total  # share at or above each bin
    allowed = np.nonzero(above <= rate + 1e-12)[0]
    first = int(allowed[0]) if len(allowed) else BINS - 1
    return 1.0 if first >= BINS - 1 and above[-1] > rate else bin_low(first)


def best_thresholds(counts: BinCounts, costs: Costs, capacity: float | None,
                    candidates: Sequence[int] | None = None) -> dict[str, Any] | None:
    """The (review, decline) pair of candidate edges with the lowest expected cost whose reviews per
    day fit `capacity` (None: any); None when no pair fits."""
    edges = np.asarray(candidates if candidates is not None else candidate_edges(counts), dtype=np.int64)
    above = {name: np.concatenate([np.cumsum(getattr(counts, name)[::-1])[::-1], [0.0]])  # from bin i up
             for name in ("applications", "frauds", "legit", "fraud_amount", "fraud_without_amount")}
    r, d = edges[:, None], edges[None, :]
    valid = r <= d
    reviews = above["applications"][r] - above["applications"][d]
    missed = (above["fraud_amount"][0] - above["fraud_amount"][r]
              + (above["fraud_without_amount"][0] - above["fraud_without_amount"][r]) * costs.missed_fraud_cost)
    cost = missed + above["legit"][d] * costs.false_decline_cost + reviews * costs.review_cost
    if capacity is not None:
        valid &= reviews <= capacity * max(counts.days, 1) + 1e-9
    if not valid.any():
        return None
    cost = np.where(valid, cost, np.inf)
    i, j = np.unravel_index(int(np.argmin(cost)), cost.shape)
    best = _figures(counts, int(edges[i]), int(edges[j]), costs)
    return best | {"review_threshold": bin_low(int(edges[i])), "decline_threshold": bin_low(int(edges[j])),
                   "review_capacity_per_day": capacity, "candidates": len(edges)}


def candidate_edges(counts: BinCounts) -> list[int]:
    """The bins the optimiser tries as thresholds: each non-empty bin's lower edge (and the top),
    thinned evenly to `MAX_CANDIDATES`."""
    used = [int(b) for b in np.nonzero(counts.applications)[0]] + [BINS - 1]
    if len(used) <= MAX_CANDIDATES:
        return sorted(set(used))
    picks = np.unique(np.linspace(0, len(used) - 1, MAX_CANDIDATES).round().astype(int))
    return sorted({used[k] for k in picks})


def cost_curve(counts: BinCounts, review: float, costs: Costs, points: int = 50) -> list[dict[str, float]]:
    """Expected cost as the decline threshold moves from `review` to 1 (the review threshold fixed)."""
    out = []
    for t in np.linspace(review, 1.0, points):
        f = _figures(counts, edge_index(review), edge_index(float(t)), costs)
        out.append({"decline_threshold": round(float(t), 6), "expected_cost": f["expected_cost"],
                    "decline_rate": f["decline_rate"], "reviews_per_day": f["reviews_per_day"]})
    return out


def _figures(counts: BinCounts, r: int, d: int, costs: Costs) -> dict[str, Any]:
    total = counts.total
    parts = {name: (float(getattr(counts, name)[:r].sum()), float(getattr(counts, name)[r:d].sum()),
                    float(getattr(counts, name)[d:].sum()))
             for name in ("applications", "frauds", "legit", "fraud_amount", "fraud_without_amount")}
    approved, reviewed, declined = parts["applications"]
    frauds = sum(parts["frauds"])
    labelled = frauds + sum(parts["legit"])
    missed_cost = parts["fraud_amount"][0] + parts["fraud_without_amount"][0] * costs.missed_fraud_cost
    false_declines = parts["legit"][2]
    cost = missed_cost + false_declines * costs.false_decline_cost + reviewed * costs.review_cost
    days = max(counts.days, 1)
    return {
        "applications": int(total), "days": counts.days,
        "approve_rate": approved / total if total else None,
        "review_rate": reviewed / total if total else None,
        "decline_rate": declined / total if total else None,
        "reviews_per_day": reviewed / days, "declines_per_day": declined / days,
        "labelled": int(labelled), "frauds": int(frauds),
        "frauds_declined": int(parts["frauds"][2]), "frauds_reviewed": int(parts["frauds"][1]),
        "frauds_missed": int(parts["frauds"][0]),
        "fraud_amount_declined": parts["fraud_amount"][2], "fraud_amount_reviewed": parts["fraud_amount"][1],
        "fraud_amount_missed": parts["fraud_amount"][0],
        "fraud_caught_rate": (parts["frauds"][1] + parts["frauds"][2]) / frauds if frauds else None,
        "false_declines": int(false_declines),
        "expected_cost": cost if labelled else None,
        "resolved_thresholds": {"review": bin_low(r), "decline": bin_low(d)},
    }

"""The arithmetic of the evidence aggregates: fine score bins, label states, and ROC-AUC from bins.

Scores are counted in fine bins instead of being kept row by row, so the strategists' figures
read a few thousand rows whatever the volume. The bins are uniform in log-odds (width
`LOGIT_STEP`, about a 1% change in the odds), which keeps them fine where fraud scores crowd
(near 0 and near 1), and every multiple of 0.05 is an edge too, so the twenty bins of
`score_distribution` are exact sums of fine ones.

AUC from bins counts a fraud and a legitimate application in the same bin as half a correct
ranking, exactly as tied scores count. The true AUC on the same applications therefore lies
within `error_bound` of it: half the share of (fraud, legitimate) pairs that share a bin (a
conservative bound: pairs with equal scores are ties in the exact AUC too, so where no bin holds
two different scores, scores rounded to 0.01 say, the AUC is exact).

`Deltas` gathers what a batch of rows adds to (or, for a label that changes, moves between) the
aggregates, keyed so that one upsert per table applies it.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import numpy as np

from models.segments import as_number

LOGIT_STEP = 0.01
LOGIT_LIMIT = 16.0  # scores beyond 1e-7 of 0 or 1 share the outermost bins
COARSE_BINS = 20  # score_distribution: width 0.05
CELL_BINS = 25  # the joint grid of a pair's scores: 25 consecutive fine bins (about 0.25 in log-odds)


COARSE_EDGES = [k / COARSE_BINS for k in range(1, COARSE_BINS)]


def _edges() -> np.ndarray:
    steps = np.arange(-LOGIT_LIMIT, LOGIT_LIMIT + LOGIT_STEP / 2, LOGIT_STEP)
    logistic = 1.0 / (1.0 + np.exp(-steps))
    coarse = np.array(COARSE_EDGES)
    near_coarse = np.min(np.abs(logistic[:, None] - coarse[None, :]), axis=1) < 1e-6  # no sliver bins
    return np.unique(np.concatenate([logistic[~near_coarse], coarse, [1.0]]))


EDGES: np.ndarray = _edges()  # bin b holds scores in [EDGES[b-1], EDGES[b]); bin 0 is below EDGES[0]
BINS = len(EDGES) + 1
_EDGE_LIST = EDGES.tolist()

FRAUD, LEGIT, UNLABELLED = "fraud", "legit", "none"
BACKTEST = "~backtest"  # the evidence counts a backtest of model M as model "M~backtest"


def backtest_id(model_id: str) -> str:
    """The model id the evidence counts `model_id`'s backtest scores under."""
    return f"{model_id}{BACKTEST}"


def label_state(is_fraud: bool | None) -> str:
    return UNLABELLED if is_fraud is None else FRAUD if is_fraud else LEGIT


def score_bin(score: float) -> int:
    """The fine bin of a score in [0, 1] (1.0 has a bin of its own)."""
    return bisect_right(_EDGE_LIST, score)


def score_bins(scores: Iterable[float]) -> np.ndarray:
    return np.searchsorted(EDGES, np.asarray(list(scores), dtype=float), side="right")


def coarse_bin(fine: int) -> int:
    """The 0.05-wide bin (0..19; a score of 1 counts in 19) that fine bin `fine` lies in."""
    return min(bisect_right(COARSE_EDGES, bin_low(fine)), COARSE_BINS - 1)


def cell_of(fine: int) -> int:
    """The cell of the paired-score grid (`evidence_pair_cells`) that fine bin `fine` lies in."""
    return fine // CELL_BINS


def bin_low(fine: int) -> float:
    return 0.0 if fine == 0 else _EDGE_LIST[fine - 1]


@dataclass(frozen=True)
class BinnedAuc:
    """ROC-AUC from binned counts, with the largest distance to the exact AUC."""

    auc: float | None
    error_bound: float | None
    positives: int
    negatives: int


def auc_from_bins(counts: Mapping[int, tuple[int, int]]) -> BinnedAuc:
    """`counts`: bin -> (frauds, legitimate). Ties within a bin count half, as tied scores do."""
    positives = sum(p for p, _ in counts.values())
    negatives = sum(n for _, n in counts.values())
    if positives == 0 or negatives == 0:
        return BinnedAuc(None, None, positives, negatives)
    below, correct, tied = 0, 0.0, 0
    for b in sorted(counts):
        p, n = counts[b]
        correct += p * below + 0.5 * p * n
        tied += p * n
        below += n
    pairs = positives * negatives
    return BinnedAuc(correct / pairs, 0.5 * tied / pairs, positives, negatives)


def recall_at_rate(counts: Mapping[int, tuple[int, int]], rate: float) -> float | None:
    """The share of frauds among the top `rate` of applications by score (`counts`: bin -> (frauds,
    legitimate)): a model's recall if it declined as many applications as the one whose rate this is.
    The bin the cut falls in counts in proportion (its scores are taken as spread evenly)."""
    frauds = sum(p for p, _ in counts.values())
    total = frauds + sum(n for _, n in counts.values())
    if frauds == 0 or total == 0:
        return None
    left, caught = rate * total, 0.0
    for b in sorted(counts, reverse=True):
        p, n = counts[b]
        if left <= 0:
            break
        share = min(1.0, left / (p + n)) if p + n else 0.0
        caught += share * p
        left -= p + n
    return caught / frauds


def day_of(moment: datetime) -> date:
    """The UTC day an application arrived (naive times are UTC, as SQLite hands them back)."""
    return (moment if moment.tzinfo is None else moment.astimezone(UTC)).date()


def utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC time (naive times are UTC)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def hour_of(moment: datetime) -> datetime:
    """The start of the UTC hour `moment` lies in."""
    return utc(moment).replace(minute=0, second=0, microsecond=0)


MISSING_BIN = -1  # model_drift: applications without a value for the variable



@dataclass(frozen=True)
class DriftReference:
    """A model's reference bins (`model_reference_bins`) as the aggregates count production in them:
    per (kind, variable), the inner edges; value v lies in bin i when edge[i-1] <= v < edge[i]."""

    variables: tuple[tuple[str, str, tuple[float, ...]], ...]

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, int, float | None]]) -> DriftReference:
        """`rows`: (kind, variable, bin, lower_edge) of contiguous bins, the first open below."""
        edges: dict[tuple[str, str], list[tuple[int, float | None]]] = {}
        for kind, variable, b, lower in rows:
            edges.setdefault((kind, variable), []).append((b, lower))
        return cls(tuple((kind, variable, tuple(float(low) for _, low in sorted(bins)[1:] if low is not None))
                         for (kind, variable), bins in sorted(edges.items())))

    def bins(self, score: float, record: Mapping[str, Any]) -> list[tuple[str, str, int]]:
        """(kind, variable, bin) for each variable of this application (MISSING_BIN: no value)."""
        found = []
        for kind, variable, inner in self.variables:
            value = score if kind == "score" else as_number(record.get(variable))
            found.append((kind, variable, MISSING_BIN if value is None else bisect_right(inner, value)))
        return found


@dataclass(frozen=True)
class Scored:
    """One model's score of one application, with what the aggregates key it by."""

    model_id: str
    detector: str
    day: date
    score: float
    decision: str
    amount: float | None
    application_id: str = ""
    segments: tuple[tuple[str, str], ...] = ()  # (dimension, segment) of its application
    reasons: tuple[tuple[str, float], ...] = ()  # its explanation: (input, contribution), strongest first


@dataclass
class Deltas:
    """Additions to the aggregate tables, keyed by their primary keys (see store/tables.py)."""

    decisions: dict[tuple, list[float]] = field(default_factory=dict)
    bins: dict[tuple, list[float]] = field(default_factory=dict)
    pairs: dict[tuple, list[float]] = field(default_factory=dict)
    pair_bins: dict[tuple, list[float]] = field(default_factory=dict)
    pair_cells: dict[tuple, list[float]] = field(default_factory=dict)
    arrivals: dict[tuple, list[float]] = field(default_factory=dict)
    shadow_hours: dict[tuple, list[Any]] = field(default_factory=dict)
    drift: dict[tuple, list[float]] = field(default_factory=dict)
    segments: dict[tuple, list[float]] = field(default_factory=dict)
    reasons: dict[tuple, list[float]] = field(default_factory=dict)
    pair_reasons: dict[tuple, list[float]] = field(default_factory=dict)
    detectors: dict[str, str] = field(default_factory=dict)  # model id (or detector) -> detector

    def score(self, s: Scored, label: str, sign: int = 1) -> None:
        """`s` counted under `label` (sign -1: taken out of it)."""
        self.detectors[s.model_id] = s.detector
        _add(self.decisions, (s.model_id, s.day, s.decision, label),
             (sign, sign * (s.amount or 0.0), sign * (s.amount is None)))
        _add(self.bins, (s.model_id, s.day, score_bin(s.score), label),
             (sign, sign * (s.amount or 0.0), sign * (s.amount is None)))
        for dimension, segment in s.segments:
            _add(self.segments, (s.model_id, s.day, dimension, segment, s.decision, label),
                 (sign, sign * (s.amount or 0.0)))

    def pair(self, challenger: Scored, champion: Scored, label: str, sign: int = 1) -> None:
        """The challenger and the champion on the same application, under `label`."""
        x, y, amount = challenger.score, champion.score, challenger.amount
        self.detectors[challenger.model_id] = challenger.detector
        key = (challenger.model_id, champion.model_id, challenger.day)
        _add(self.pairs, (*key, challenger.decision, champion.decision, label),
             (sign, sign * (amount or 0.0), sign * (amount is None), sign * x, sign * y, sign * x * x, sign * y * y,
              sign * x * y))
        if label == UNLABELLED:  # the paired bins and cells serve the AUCs and DeLong: labelled pairs only
            return
        x_bin, y_bin = score_bin(x), score_bin(y)
        _add(self.pair_bins, (*key, "challenger", x_bin, label), (sign,))
        _add(self.pair_bins, (*key, "champion", y_bin, label), (sign,))
        _add(self.pair_cells, (*key, cell_of(x_bin), cell_of(y_bin), label), (sign,))

    def explained(self, s: Scored) -> None:
        """`s`'s reasons counted (labels do not move them: counted once, when the score is stored)."""
        self.detectors[s.model_id] = s.detector
        for rank, (feature, contribution) in enumerate(s.reasons):
            _add(self.reasons, (s.model_id, s.day, s.decision, feature), (1, int(rank == 0), contribution))

    def disagreed(self, challenger: Scored, champion: Scored) -> None:
        """Where the two decided differently, each side's reasons (counted once, like `explained`)."""
        if challenger.decision == champion.decision:
            return
        self.detectors[challenger.model_id] = challenger.detector
        key = (challenger.model_id, champion.model_id, challenger.day, challenger.decision, champion.decision)
        for side, scored in (("challenger", challenger), ("champion", champion)):
            for feature, contribution in scored.reasons:
                _add(self.pair_reasons, (*key, side, feature), (1, contribution))

    def arrive(self, detector: str, received_at: datetime) -> None:
        """An application stored: counted in its detector's hour of arrival."""
        self.detectors[detector] = detector
        _add(self.arrivals, (detector, day_of(received_at), hour_of(received_at)), (1,))

    def shadow(self, model_id: str, detector: str, received_at: datetime, scored_at: datetime) -> None:
        """A challenger's score stored, counted in the hour its application arrived (with the latest
        arrival and scoring)."""
        self.detectors[model_id] = detector
        key = (model_id, day_of(received_at), hour_of(received_at))
        current = self.shadow_hours.setdefault(key, [0, utc(received_at), utc(scored_at)])
        current[0] += 1
        current[1] = max(current[1], utc(received_at))
        current[2] = max(current[2], utc(scored_at))

    def drifted(self, s: Scored, reference: DriftReference, record: Mapping[str, Any]) -> None:
        """`s` counted in its model's reference bins: the score and the input fields it watches."""
        self.detectors[s.model_id] = s.detector
        for kind, variable, b in reference.bins(s.score, record):
            _add(self.drift, (s.model_id, s.day, kind, variable, b), (1,))


def reasons_of(pairs: Iterable[Any] | None) -> tuple[tuple[str, float], ...]:
    """Stored or published explanation pairs ([feature, contribution], strongest first; the response's
    dicts too) as `Scored.reasons`."""
    out = []
    for p in pairs or ():  # from a message: anything malformed is left out, never a crash
        try:
            feature, contribution = (p["feature"], p["contribution"]) if isinstance(p, Mapping) else (p[0], p[1])
            if contribution is not None:
                out.append((str(feature), float(contribution)))
        except (KeyError, IndexError, TypeError, ValueError):
            continue
    return tuple(out)


def _add(table: dict[tuple, list[float]], key: tuple, values: tuple[float, ...]) -> None:
    current = table.get(key)
    if current is None:
        table[key] = list(values)
    else:
        for i, value in enumerate(values):
            current[i] += value

"""A day's evidence aggregates counted from its rows all at once (columns, not rows).

What `Deltas` adds row by row as the workers store rows, computed over a whole day's rows with
numpy and pandas for `arbiter evidence rebuild`: the same keys, the same bins, the same label
states, so a rebuilt day equals the day counted live (sums up to float rounding).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import date, datetime

import numpy as np
import pandas as pd

from arbiter.domain.evidence import CELL_BINS, MISSING_BIN, Deltas, DriftReference, reasons_of, score_bins
from models.segments import stored_segments

SCORED = ("model_id", "score", "decision", "amount", "is_fraud", "received_at", "scored_at", "shadow", "segments",
          "explanation")
PAIRED = ("x_model", "x", "x_decision", "amount", "is_fraud", "y_model", "y", "y_decision", "x_explanation",
          "y_explanation")


def label_states(is_fraud: pd.Series) -> pd.Series:
    """'fraud', 'legit' or 'none' (no label) for each application."""
    return pd.Series(np.where(is_fraud.isna(), "none", np.where(is_fraud.fillna(False).astype(bool), "fraud",
                                                                 "legit")), index=is_fraud.index)


def _hours(moments: pd.Series) -> pd.Series:
    return pd.to_datetime(moments, utc=True).dt.floor("h")


def _plain(value: object) -> object:
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def recount(detector: str, day: date, scored: pd.DataFrame, pairs: pd.DataFrame, arrivals: Sequence[datetime],
            references: Mapping[str, DriftReference], watched: Sequence[str]) -> Deltas:
    """The aggregates of `detector`'s `day`: `scored` (columns SCORED plus the `watched` payload
    fields; `shadow` marks challenger rows), `pairs` (PAIRED: each challenger row with the champion
    result it was paired with) and the arrival times of the day's applications."""
    deltas = Deltas()
    deltas.detectors[detector] = detector
    if len(arrivals):
        hours = _hours(pd.Series(list(arrivals))).value_counts()
        for hour, n in hours.items():
            deltas.arrivals[(detector, day, hour.to_pydatetime())] = [int(n)]
    if len(scored):
        scored = scored.assign(label=label_states(scored["is_fraud"]), bin=score_bins(scored["score"]),
                               known=scored["amount"].fillna(0.0).astype(float),
                               unknown=scored["amount"].isna().astype(int))
        for model_id in scored["model_id"].unique():
            deltas.detectors[model_id] = detector
        by_decision = scored.groupby(["model_id", "decision", "label"]).agg(
            applications=("score", "size"), amount=("known", "sum"), without_amount=("unknown", "sum"))
        _into(deltas.decisions, by_decision, day, ("applications", "amount", "without_amount"))
        by_bin = scored.groupby(["model_id", "bin", "label"]).agg(
            applications=("score", "size"), amount=("known", "sum"), without_amount=("unknown", "sum"))
        _into(deltas.bins, by_bin, day, ("applications", "amount", "without_amount"))
        shadow = scored[scored["shadow"].astype(bool)]
        if len(shadow):
            hours = shadow.assign(hour=_hours(shadow["received_at"]),
                                  received=pd.to_datetime(shadow["received_at"], utc=True),
                                  scoring=pd.to_datetime(shadow["scored_at"], utc=True))
            by_hour = hours.groupby(["model_id", "hour"]).agg(
                scored=("score", "size"), last_received_at=("received", "max"), last_scored_at=("scoring", "max"))
            _into(deltas.shadow_hours, by_hour, day, ("scored", "last_received_at", "last_scored_at"))
        _drift(deltas, day, scored, references, watched)
        _segments(deltas, day, scored)
        _reasons(deltas, day, scored)
    if len(pairs):
        pairs = pairs.assign(label=label_states(pairs["is_fraud"]), known=pairs["amount"].fillna(0.0).astype(float),
                             unknown=pairs["amount"].isna().astype(int), xx=pairs["x"] * pairs["x"],
                             yy=pairs["y"] * pairs["y"], xy=pairs["x"] * pairs["y"],
                             x_bin=score_bins(pairs["x"]), y_bin=score_bins(pairs["y"]))
        for model_id in pairs["x_model"].unique():
            deltas.detectors[model_id] = detector
        by_pair = pairs.groupby(["x_model", "y_model", "x_decision", "y_decision", "label"]).agg(
            applications=("x", "size"), amount=("known", "sum"), without_amount=("unknown", "sum"),
            sum_x=("x", "sum"), sum_y=("y", "sum"), sum_xx=("xx", "sum"), sum_yy=("yy", "sum"), sum_xy=("xy", "sum"))
        _into(deltas.pairs, by_pair, day, ("applications", "amount", "without_amount", "sum_x", "sum_y", "sum_xx",
                                           "sum_yy", "sum_xy"), at=2)
        labelled = pairs[pairs["label"] != "none"]  # as Deltas.pair counts them: labelled pairs only
        for side, column in (("challenger", "x_bin"), ("champion", "y_bin")):
            by_side = labelled.groupby(["x_model", "y_model", column, "label"]).agg(applications=("x", "size"))
            _into(deltas.pair_bins, by_side, day, ("applications",), at=2, fixed=(side,))
        cells = labelled.assign(x_cell=labelled["x_bin"] // CELL_BINS, y_cell=labelled["y_bin"] // CELL_BINS)
        by_cell = cells.groupby(["x_model", "y_model", "x_cell", "y_cell", "label"]).agg(applications=("x", "size"))
        _into(deltas.pair_cells, by_cell, day, ("applications",), at=2)
        _pair_reasons(deltas, day, pairs)
    return deltas


def _into(target: dict[tuple, list], grouped: pd.DataFrame, day: date, values: Sequence[str], *, at: int = 1,
          fixed: tuple = ()) -> None:
    """Each group as target[key with `day` (and `fixed`) inserted at position `at`] = its `values`."""
    width = grouped.index.nlevels
    for key, row in zip(grouped.index, grouped[list(values)].itertuples(index=False, name=None), strict=True):
        parts = tuple(_plain(k) for k in (key if width > 1 else (key,)))
        target[(*parts[:at], day, *fixed, *parts[at:])] = [_plain(v) for v in row]


def _drift(deltas: Deltas, day: date, scored: pd.DataFrame, references: Mapping[str, DriftReference],
           watched: Sequence[str]) -> None:
    for model_id, rows in scored.groupby("model_id"):
        reference = references.get(str(model_id))
        if reference is None:
            continue
        for kind, variable, inner in reference.variables:
            if kind == "score":
                values = rows["score"].astype(float)
            elif variable in watched:
                values = pd.to_numeric(rows[variable].map(_text), errors="coerce")
            else:
                values = pd.Series(np.nan, index=rows.index)
            bins = np.where(values.isna(), MISSING_BIN, np.searchsorted(np.asarray(inner, dtype=float),
                                                                         values.fillna(0.0), side="right"))
            for b, n in zip(*np.unique(bins, return_counts=True), strict=True):
                deltas.drift[(str(model_id), day, kind, variable, int(b))] = [int(n)]


def _segments(deltas: Deltas, day: date, scored: pd.DataFrame) -> None:
    """Each score counted in its application's segments (a dict or JSON text per row; None: none)."""
    pairs = [stored_segments(json.loads(s) if isinstance(s, str) else s, amount)
             for s, amount in zip(scored["segments"], scored["amount"], strict=True)]
    rows = scored[["model_id", "decision", "label", "known"]].assign(pairs=pairs).explode("pairs").dropna(
        subset=["pairs"])
    if not len(rows):
        return
    rows = rows.assign(dimension=rows["pairs"].map(lambda p: p[0]), segment=rows["pairs"].map(lambda p: p[1]))
    grouped = rows.groupby(["model_id", "dimension", "segment", "decision", "label"]).agg(
        applications=("known", "size"), amount=("known", "sum"))
    _into(deltas.segments, grouped, day, ("applications", "amount"))


def _explanation(value: object) -> tuple[tuple[str, float], ...]:
    """Stored explanation pairs (a list, JSON text or None) as `Scored.reasons`."""
    return reasons_of(json.loads(value) if isinstance(value, str) else value if isinstance(value, list) else None)


def _reasons(deltas: Deltas, day: date, scored: pd.DataFrame) -> None:
    """Each explained score's reasons, as `Deltas.explained` counts them (few rows per score: a loop)."""
    for model_id, decision, stored in zip(scored["model_id"], scored["decision"], scored["explanation"],
                                          strict=True):
        for rank, (feature, contribution) in enumerate(_explanation(stored)):
            current = deltas.reasons.setdefault((str(model_id), day, str(decision), feature), [0, 0, 0.0])
            current[0] += 1
            current[1] += int(rank == 0)
            current[2] += contribution


def _pair_reasons(deltas: Deltas, day: date, pairs: pd.DataFrame) -> None:
    """Where a pair decided differently, each side's reasons, as `Deltas.disagreed` counts them."""
    differ = pairs[pairs["x_decision"] != pairs["y_decision"]]
    for x_model, y_model, x_decision, y_decision, x_stored, y_stored in zip(
            differ["x_model"], differ["y_model"], differ["x_decision"], differ["y_decision"],
            differ["x_explanation"], differ["y_explanation"], strict=True):
        key = (str(x_model), str(y_model), day, str(x_decision), str(y_decision))
        for side, stored in (("challenger", x_stored), ("champion", y_stored)):
            for feature, contribution in _explanation(stored):
                current = deltas.pair_reasons.setdefault((*key, side, feature), [0, 0.0])
                current[0] += 1
                current[1] += contribution


def _text(value: object) -> object:
    """A payload value as text for `to_numeric` (booleans are not numbers, as in `as_number`)."""
    return None if value is None or isinstance(value, bool) else value

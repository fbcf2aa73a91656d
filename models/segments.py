"""The segments an application belongs to, derived once when it is recorded and stored as such.

- `age_band` (from `date_of_birth`, at the application's `submitted_at`, or its arrival) and
  `region` (from `zip`: the first digit, the USPS national area) are the groups fairness is
  judged on; the date of birth and the zip code themselves are PII and are stored only as keyed
  hashes, so these bands are all that remains of them in clear;
- `channel` and `amount_band` (from the detector's amount field) are the segments strategists
  split performance by.
Training derives them on its validation window too (the bundle's fairness evidence, before any
application is served). A detector gets the dimensions whose fields it has. A value that is missing or unreadable is
`unknown` (for age and region) or leaves the dimension out (channel, amount).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import numpy as np

from models.schema import Detector

FAIRNESS = ("age_band", "region")
UNKNOWN = "unknown"
AGE_BANDS = ((18, "18-24"), (25, "25-34"), (35, "35-44"), (45, "45-54"), (55, "55-64"), (65, "65+"))
REGIONS = {  # the USPS national areas, by the first digit of the zip code
    "0": "new-england-nj-pr", "1": "ny-pa-de", "2": "dc-md-va-wv-nc-sc", "3": "southeast", "4": "great-lakes-ky",
    "5": "upper-midwest", "6": "central-plains", "7": "south-central", "8": "mountain", "9": "pacific"}
AMOUNT_BANDS = ((0.0, "0-100"), (100.0, "100-1k"), (1_000.0, "1k-5k"), (5_000.0, "5k-20k"), (20_000.0, "20k+"))


_DIMENSIONS: dict[str, tuple[str, ...]] = {}


def dimensions(detector: Detector) -> tuple[str, ...]:
    """The segment dimensions `detector`'s applications are counted by (worked out once per detector:
    every stored score asks)."""
    known = _DIMENSIONS.get(detector.name)
    if known is None:
        found = [d for d, field in (("age_band", "date_of_birth"), ("region", "zip"), ("channel", "channel"))
                 if field in detector.field_set]
        known = _DIMENSIONS[detector.name] = (*found, "amount_band") if detector.amount_field else tuple(found)
    return known


def segments_of(detector: Detector, record: Mapping[str, Any], received_at: datetime | str) -> dict[str, str]:
    """`record`'s segment in each of `detector`'s dimensions (the record before its PII is hashed)."""
    found: dict[str, str] = {}
    wanted = dimensions(detector)
    if "age_band" in wanted:
        found["age_band"] = age_band(record.get("date_of_birth"), record.get("submitted_at") or received_at)
    if "region" in wanted:
        found["region"] = REGIONS.get(str(record.get("zip") or "")[:1], UNKNOWN)
    if "channel" in wanted and isinstance(record.get("channel"), str):
        found["channel"] = record["channel"]
    if "amount_band" in wanted and detector.amount_field:
        band = amount_band(record.get(detector.amount_field))
        if band is not None:
            found["amount_band"] = band
    return found


def segment_pairs(segments: Mapping[str, Any] | None) -> tuple[tuple[str, str], ...]:
    """Stored segments as the aggregates key them: (dimension, segment) pairs in a fixed order."""
    return tuple(sorted((str(k), str(v)) for k, v in (segments or {}).items()))


def stored_segments(segments: Mapping[str, Any] | None, amount: Any) -> tuple[tuple[str, str], ...]:
    """An application's segments as stored, for counting; one stored without them (recorded before
    they were derived, or written by hand) still has the amount band of its stored amount."""
    if segments is None:
        band = amount_band(amount)
        return () if band is None else (("amount_band", band),)
    return segment_pairs(segments)


def age_band(born: Any, at: Any) -> str:
    """The age band of someone born on `born` (ISO date) at moment `at` (ISO date-time or datetime)."""
    try:
        birth = date.fromisoformat(str(born)[:10])
        when = at.date() if isinstance(at, datetime) else date.fromisoformat(str(at)[:10])
    except (TypeError, ValueError):
        return UNKNOWN
    age = when.year - birth.year - ((when.month, when.day) < (birth.month, birth.day))
    band = "under-18" if age < AGE_BANDS[0][0] else UNKNOWN
    for lowest, name in AGE_BANDS:
        if age >= lowest:
            band = name
    return band if 0 <= age < 130 else UNKNOWN


def amount_band(amount: Any) -> str | None:
    """The band of an amount (None: no amount, or not a number)."""
    value = as_number(amount)
    if value is None or value < 0:
        return None
    band = AMOUNT_BANDS[0][1]
    for lowest, name in AMOUNT_BANDS:
        if value >= lowest:
            band = name
    return band


def as_number(value: Any) -> float | None:
    """A payload value as `model_drift` reads it (JSON_NUMBER): a number, or None when absent or not one."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number else None  # NaN: no value


SEGMENT_LEVELS = sorted({round(float(v), 4) for v in (*np.linspace(0, 0.9, 10), *np.linspace(0.9, 0.99, 19),
                                                        *np.linspace(0.99, 1.0, 11))})


def fairness_evidence(detector: Detector, records: Iterable[Mapping[str, Any]], at: Iterable[datetime | str],
                      scores: Iterable[float], labels: Iterable[int]) -> dict[str, Any] | None:
    """Per age band and region of a window's applications: rows, frauds and score quantiles (at
    `SEGMENT_LEVELS`), from which decision rates under any strategy follow (`segment_rates`) before
    the model has decided anything. None when `detector` has neither dimension."""
    wanted = [d for d in dimensions(detector) if d in FAIRNESS]
    if not wanted:
        return None
    groups: dict[tuple[str, str], tuple[list[float], list[int]]] = {}
    for record, moment, score, label in zip(records, at, scores, labels, strict=True):
        found = segments_of(detector, record, moment)
        for dimension in wanted:
            bucket = groups.setdefault((dimension, found[dimension]), ([], []))
            bucket[0].append(float(score))
            bucket[1].append(int(label))
    out: dict[str, dict[str, Any]] = {d: {} for d in wanted}
    for (dimension, segment), (values, flags) in sorted(groups.items()):
        out[dimension][segment] = {"rows": len(values), "frauds": int(sum(flags)),
                                   "scores": [float(q) for q in np.quantile(np.asarray(values), SEGMENT_LEVELS)]}
    return {"levels": SEGMENT_LEVELS, "dimensions": out}


def segment_rates(evidence: Mapping[str, Any], review: float, decline: float,
                  min_rows: int = 30) -> dict[str, dict[str, Any]]:
    """Under thresholds (`review`, `decline`): each segment's approve, review and decline rates
    (read off its score quantiles, so at their resolution) and, per dimension, the disparity ratio
    (lowest approval rate over highest among the known segments with at least `min_rows` rows)."""
    levels = np.asarray(evidence["levels"], dtype=float)
    report: dict[str, dict[str, Any]] = {}
    for dimension, segments in evidence["dimensions"].items():
        rows, approvals = [], []
        for segment, figures in segments.items():
            quantiles = np.asarray(figures["scores"], dtype=float)
            below_review = float(np.interp(review, quantiles, levels, left=0.0, right=1.0))
            below_decline = float(np.interp(decline, quantiles, levels, left=0.0, right=1.0))
            rates = {"segment": segment, "rows": figures["rows"], "frauds": figures["frauds"],
                     "approval_rate": below_review, "review_rate": max(below_decline - below_review, 0.0),
                     "decline_rate": 1.0 - below_decline}
            rows.append(rates)
            if segment != UNKNOWN and figures["rows"] >= min_rows:
                approvals.append(below_review)
        ratio = min(approvals) / max(approvals) if len(approvals) >= 2 and max(approvals) > 0 else None
        report[dimension] = {"segments": rows, "disparity_ratio": ratio}
    return report

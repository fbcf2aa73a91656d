"""Feature transforms (the seed's data munging), one implementation for training and serving.

A `FeatureBuilder` is fitted on the training window and saved inside the model bundle
(`features.json`); every runtime applies the same fitted builder before the model, so a
served model sees exactly the matrix it was trained on. The steps:

- derived features declared by the detector (email -> domain, zip-to-IP distance, SSN and
  device reuse counts, age, hour of day);
- columns with a single value, and non-numeric columns of very high cardinality (names,
  SSNs, raw emails, IPs), are dropped, with the reason recorded;
- numbers: median imputation plus a missing indicator where training data had gaps;
- categories: one-hot over the levels frequent enough in training, unseen levels -> all zero.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from models import geo
from models.schema import Derived, Detector

Columns = Mapping[str, np.ndarray]

NUMERIC_KINDS = {"number", "integer"}
NUMERIC_DERIVED = {"geo_distance_km", "reuse_count", "age_years", "hour_of_day"}
SECONDS_PER_YEAR = 365.2425 * 86400.0
_EPOCH = pd.Timestamp("1970-01-01", tz="UTC")
SMALL_BATCH = 256


def columns_from_frame(frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Columns of a DataFrame as numpy arrays (the training path)."""
    return {name: frame[name].to_numpy() for name in frame.columns}


def columns_from_records(records: Sequence[Mapping[str, Any]], names: Sequence[str]) -> dict[str, np.ndarray]:
    """Columns of a list of records (the serving path); absent keys become missing values."""
    return {name: np.array([r.get(name) for r in records], dtype=object) for name in names}


def as_float(values: np.ndarray) -> np.ndarray:
    """Numbers as float64; anything unreadable or missing becomes NaN."""
    arr = np.asarray(values)
    if arr.dtype.kind in "fiub":
        return arr.astype(np.float64, copy=False)
    try:  # the common case, and ~50x faster than pandas: numbers and None (-> NaN)
        return arr.astype(np.float64)
    except (TypeError, ValueError):
        return pd.to_numeric(pd.Series(arr, dtype=object), errors="coerce").to_numpy(dtype=np.float64)


def as_text(values: np.ndarray) -> np.ndarray:
    """Strings as an object array; missing values (None, NaN, NA) become None."""
    return np.array([v if isinstance(v, str) and v != "" else None for v in values], dtype=object)


def epoch_seconds(values: np.ndarray, kind: str) -> np.ndarray:
    """A time column as float seconds: numbers pass through, ISO 8601 text is parsed (UTC)."""
    arr = np.asarray(values)
    if kind == "seconds" or arr.dtype.kind in "fiu":
        return as_float(arr)
    if arr.dtype.kind == "M":
        return (arr.astype("datetime64[ns]") - np.datetime64(0, "ns")) / np.timedelta64(1, "s")
    if arr.size <= SMALL_BATCH:  # the serving path: pandas' per-call overhead dominates
        return np.array([_iso_seconds(v) for v in arr], dtype=np.float64)
    parsed = pd.to_datetime(pd.Series(as_text(arr), dtype=object), utc=True, errors="coerce", format="ISO8601")
    # pandas picks the resolution (s, us, ns) from the input: go through a timedelta, not int64
    return (parsed - _EPOCH).dt.total_seconds().to_numpy(dtype=np.float64, na_value=np.nan)


def _iso_seconds(value: object) -> float:
    if not isinstance(value, str) or not value:
        return np.nan
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return np.nan
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _normalise_identity(value: str) -> str:
    digits = "".join(ch for ch in value if ch.isdigit())
    return digits if len(digits) >= 7 and len(digits) >= len(value) - 3 else value.strip().lower()


class ReuseTable:
    """How often each (keyed-hashed) identity value occurs in the reference window.

    Only values seen at least twice are kept, and only as HMAC digests under a key that
    lives in the bundle: no SSN or device id is stored in clear.
    """

    def __init__(self, key: bytes, counts: dict[str, int]) -> None:
        self.key = key
        self.counts = counts

    def digest(self, value: str) -> str:
        return hmac.new(self.key, _normalise_identity(value).encode(), hashlib.sha256).hexdigest()[:32]

    @classmethod
    def fit(cls, values: np.ndarray) -> ReuseTable:
        table = cls(secrets.token_bytes(32), {})
        counts = Counter(table.digest(v) for v in as_text(values) if v is not None)
        table.counts = {k: n for k, n in counts.items() if n >= 2}
        return table

    def others(self, values: np.ndarray, *, reference_rows: bool) -> np.ndarray:
        """Occurrences of each value among *other* applications of the reference window."""
        texts = as_text(values)
        if reference_rows:  # the row itself is in the window: do not count it
            return np.array([0 if v is None else self.counts.get(self.digest(v), 1) - 1 for v in texts], float)
        return np.array([0 if v is None else self.counts.get(self.digest(v), 0) for v in texts], float)


class FeatureBuilder:
    """Raw detector records -> the float32 matrix a model consumes. Fit once, then transform."""

    VERSION = 1

    def __init__(
        self,
        detector: Detector,
        *,
        min_category_share: float = 0.0005,
        max_levels: int = 40,
        high_cardinality_share: float = 0.5,
        high_cardinality_count: int = 1000,
    ) -> None:
        self.detector = detector
        self.min_category_share = min_category_share
        self.max_levels = max_levels
        self.high_cardinality_share = high_cardinality_share
        self.high_cardinality_count = high_cardinality_count
        self.numeric: list[dict[str, Any]] = []
        self.categorical: list[dict[str, Any]] = []
        self.dropped: dict[str, str] = {}
        self.reuse: dict[str, ReuseTable] = {}
        self.training_stats: dict[str, dict[str, Any]] = {}

    # ---- derived columns -------------------------------------------------------------
    def _derive_one(self, spec: Derived, cols: Columns, reference_rows: bool) -> np.ndarray:
        det = self.detector
        if spec.transform == "email_domain":
            emails = as_text(cols[spec.sources[0]])
            return np.array([e.rsplit("@", 1)[-1].lower() if e and "@" in e else None for e in emails], object)
        if spec.transform == "geo_distance_km":
            zips, ips = as_text(cols[spec.sources[0]]), as_text(cols[spec.sources[1]])
            return geo.region_distance_km([geo.zip_region(z) for z in zips], [geo.ip_region(i) for i in ips])
        if spec.transform == "reuse_count":
            return self.reuse[spec.name].others(cols[spec.sources[0]], reference_rows=reference_rows)
        if spec.transform == "age_years":
            born = epoch_seconds(cols[spec.sources[0]], "datetime")
            at = epoch_seconds(cols[spec.sources[1]], det.time_kind)
            return (at - born) / SECONDS_PER_YEAR
        if spec.transform == "hour_of_day":
            return np.mod(epoch_seconds(cols[spec.sources[0]], det.time_kind), 86400.0) / 3600.0
        raise ValueError(f"unknown transform {spec.transform!r}")

    def _candidates(self, cols: Columns, reference_rows: bool) -> dict[str, tuple[str, np.ndarray]]:
        """Every column that may become a feature, with its treatment ('numeric'/'categorical')."""
        det = self.detector
        out: dict[str, tuple[str, np.ndarray]] = {}
        for f in det.fields:
            if f.name in (det.label, det.time_field):
                continue
            treatment = "numeric" if f.kind in NUMERIC_KINDS else "categorical"
            out[f.name] = (treatment, cols[f.name] if f.name in cols else np.full(_n_rows(cols), None, object))
        for spec in det.derived:
            treatment = "numeric" if spec.transform in NUMERIC_DERIVED else "categorical"
            out[spec.name] = (treatment, self._derive_one(spec, cols, reference_rows))
        return out

    # ---- fit / transform -------------------------------------------------------------
    def fit(self, cols: Columns) -> FeatureBuilder:
        """Learn imputation values, category levels, reuse tables and what to drop."""
        n = _n_rows(cols)
        self.reuse = {
            spec.name: ReuseTable.fit(cols[spec.sources[0]])
            for spec in self.detector.derived
            if spec.transform == "reuse_count"
        }
        self.numeric, self.categorical, self.dropped, self.training_stats = [], [], {}, {}
        for name, (treatment, values) in self._candidates(cols, reference_rows=True).items():
            if treatment == "numeric":
                self._fit_numeric(name, as_float(values))
            else:
                self._fit_categorical(name, as_text(values), n)
        return self

    def _fit_numeric(self, name: str, values: np.ndarray) -> None:
        present = values[~np.isnan(values)]
        if np.unique(present).size <= 1:
            self.dropped[name] = "constant (cardinality 1)" if present.size else "no values"
            return
        missing = bool(present.size < values.size)
        self.numeric.append({"name": name, "median": float(np.median(present)), "missing_indicator": missing})
        edges = np.unique(np.quantile(present, np.linspace(0, 1, 11)))
        hist = np.histogram(present, bins=edges)[0] if edges.size > 1 else np.array([present.size])
        self.training_stats[name] = {"bin_edges": edges.tolist(), "bin_share": (hist / max(present.size, 1)).tolist()}

    def _fit_categorical(self, name: str, values: np.ndarray, n: int) -> None:
        counts = Counter(v for v in values if v is not None)
        distinct = len(counts)
        if distinct <= 1:
            self.dropped[name] = "constant (cardinality 1)" if distinct else "no values"
            return
        if distinct > self.high_cardinality_count or distinct > self.high_cardinality_share * n:
            self.dropped[name] = f"high cardinality ({distinct} distinct in {n} rows)"
            return
        floor = max(1, int(np.ceil(self.min_category_share * n)))
        levels = [v for v, c in counts.most_common(self.max_levels) if c >= floor]
        if not levels:
            self.dropped[name] = f"no level reaches {floor} rows"
            return
        self.categorical.append({"name": name, "levels": sorted(levels)})

    def transform(self, cols: Columns, *, reference_rows: bool = False) -> np.ndarray:
        """The float32 feature matrix. `reference_rows` marks the training window's own rows."""
        candidates = self._candidates(cols, reference_rows)
        parts: list[np.ndarray] = []
        for spec in self.numeric:
            values = as_float(candidates[spec["name"]][1])
            missing = np.isnan(values)
            parts.append(np.where(missing, spec["median"], values))
            if spec["missing_indicator"]:
                parts.append(missing.astype(np.float64))
        for spec in self.categorical:
            values = as_text(candidates[spec["name"]][1])
            parts.extend((values == level).astype(np.float64) for level in spec["levels"])
        return np.column_stack(parts).astype(np.float32) if parts else np.empty((_n_rows(cols), 0), np.float32)

    def transform_records(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The serving path: a list of validated records -> the feature matrix."""
        return self.transform(columns_from_records(records, self.detector.field_names))

    @property
    def feature_names(self) -> list[str]:
        names: list[str] = []
        for spec in self.numeric:
            names.append(spec["name"])
            if spec["missing_indicator"]:
                names.append(f"{spec['name']}__missing")
        for spec in self.categorical:
            names.extend(f"{spec['name']}={level}" for level in spec["levels"])
        return names

    # ---- persistence -----------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.VERSION,
            "detector": self.detector.name,
            "numeric": self.numeric,
            "categorical": self.categorical,
            "dropped": self.dropped,
            "reuse": {k: {"key": t.key.hex(), "counts": t.counts} for k, t in self.reuse.items()},
            "feature_names": self.feature_names,
            "training_stats": self.training_stats,
        }

    @classmethod
    def from_dict(cls, detector: Detector, data: Mapping[str, Any]) -> FeatureBuilder:
        if data.get("version") != cls.VERSION or data.get("detector") != detector.name:
            raise ValueError(f"features.json is for {data.get('detector')!r} v{data.get('version')}")
        fb = cls(detector)
        fb.numeric = list(data["numeric"])
        fb.categorical = list(data["categorical"])
        fb.dropped = dict(data["dropped"])
        fb.reuse = {k: ReuseTable(bytes.fromhex(v["key"]), dict(v["counts"])) for k, v in data["reuse"].items()}
        fb.training_stats = dict(data.get("training_stats", {}))
        return fb


def _n_rows(cols: Columns) -> int:
    return len(next(iter(cols.values()))) if cols else 0

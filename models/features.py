"""Feature transforms (the seed's data munging), one implementation for training and serving.

A `FeatureBuilder` is fitted on the training window and saved inside the model bundle
(`features.json`); every runtime applies the same fitted builder before the model, so a
served model sees exactly the matrix it was trained on. The steps:

- derived features declared by the detector (email -> domain, zip-to-IP distance, SSN and
  device reuse counts, age in whole years, hour of day);
- columns with a single value, and non-numeric columns of very high cardinality (names,
  SSNs, raw emails, IPs), are dropped, with the reason recorded;
- numbers: median imputation plus a missing indicator where training data had gaps;
- categories: one-hot over the levels frequent enough in training, unseen levels -> all zero.

The derivations that read PII are also recorded with each stored application
(`recorded_derivations`: the e-mail's domain, the zip-to-IP distance, the age in whole years,
identity digests for the reuse counts), because the stored application keeps its PII only as keyed
hashes. A record that carries them under the derived features' names (`transform_records`) is
transformed from them instead of from its PII fields: a backtest on stored history reproduces
serving. Validation refuses those names from clients, so only the platform can supply them.
"""

from __future__ import annotations

import hashlib
import hmac
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd

from models import geo
from models.drift import decile_bins
from models.identity import deployment_key, key_fingerprint, reuse_key
from models.schema import NUMERIC_KINDS, Derived, Detector

Columns = Mapping[str, np.ndarray]

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


def text_or_none(value: object) -> str | None:
    """One value as `as_text` reads it: a non-empty string, or None."""
    return value if isinstance(value, str) and value != "" else None


def as_text(values: np.ndarray) -> np.ndarray:
    """Strings as an object array; missing values (None, NaN, NA) become None."""
    return np.array([text_or_none(v) for v in values], dtype=object)


def email_domain(email: str | None) -> str | None:
    return email.rsplit("@", 1)[-1].lower() if email and "@" in email else None


class NeedsColumns(ValueError):
    """A value only the column-wise path reads (it coerces text in numeric fields with pandas)."""


def _scalar_seconds(value: object, kind: str) -> float:
    """`epoch_seconds` of a one-value object column, without numpy: same result, to the bit."""
    if kind != "seconds":
        return _iso_seconds(value)
    if value is None:
        return np.nan
    if isinstance(value, int | float):
        return float(value)
    raise NeedsColumns(f"time value of type {type(value).__name__}")


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

    Only values seen at least twice are kept, and only as HMAC digests under a subkey of the
    deployment's `ARBITER_PII_KEY` (`models.identity`): no SSN or device id is stored in clear, and
    no key travels with the bundle.
    """

    def __init__(self, key: bytes, counts: dict[str, int]) -> None:
        self.key = key
        self.counts = counts

    def digest(self, value: str) -> str:
        return hmac.new(self.key, _normalise_identity(value).encode(), hashlib.sha256).hexdigest()[:32]

    @classmethod
    def fit(cls, values: np.ndarray, key: bytes) -> ReuseTable:
        table = cls(key, {})
        counts = Counter(table.digest(v) for v in as_text(values) if v is not None)
        table.counts = {k: n for k, n in counts.items() if n >= 2}
        return table

    def others(self, values: np.ndarray, *, reference_rows: bool) -> np.ndarray:
        """Occurrences of each value among *other* applications of the reference window."""
        texts = as_text(values)
        if reference_rows:  # the row itself is in the window: do not count it
            return np.array([0 if v is None else self.counts.get(self.digest(v), 1) - 1 for v in texts], float)
        return np.array([self.count(v) for v in texts], float)

    def count(self, value: str | None) -> float:
        """Occurrences of one (serving-time) value in the reference window."""
        return 0.0 if value is None else float(self.counts.get(self.digest(value), 0))

    def count_digest(self, digest: str | None) -> float:
        """`count` of a value recorded as its digest (`recorded_derivations`)."""
        return 0.0 if digest is None else float(self.counts.get(digest, 0))


def pii_derived(detector: Detector) -> list[Derived]:
    """The detector's derived features that read a PII field: recorded with each application."""
    pii = set(detector.pii_fields)
    return [spec for spec in detector.derived if pii.intersection(spec.sources)]


def recorded_derivations(detector: Detector, records: Sequence[Mapping[str, Any]], identity_key: bytes
                         ) -> list[dict[str, Any]]:
    """What each stored application keeps of its PII for the feature transforms (validated records in
    clear): per derived feature reading PII, its value (an e-mail domain, a distance, an age in whole
    years), or for a reuse count the identity's digest under `identity_key`'s reuse subkey (the count
    itself depends on the model's training window). Column-wise, as a batch is transformed (the
    same values, to the bit, as one record's). Text values are the caller's to hash."""
    specs = pii_derived(detector)
    cols = columns_from_records(records, sorted({src for spec in specs for src in spec.sources}))
    builder, key = FeatureBuilder(detector), reuse_key(identity_key)
    columns: dict[str, list[Any]] = {}
    for spec in specs:
        if spec.transform == "reuse_count":
            table = ReuseTable(key, {})
            columns[spec.name] = [None if v is None else table.digest(v) for v in as_text(cols[spec.sources[0]])]
        elif spec.transform in NUMERIC_DERIVED:  # NaN -> None: JSON has no NaN
            values = as_float(builder._derive_one(spec, cols, False))
            columns[spec.name] = [None if v != v else float(v) for v in values]
        else:
            columns[spec.name] = list(as_text(builder._derive_one(spec, cols, False)))
    return [{name: values[i] for name, values in columns.items()} for i in range(len(records))]


class FeatureBuilder:
    """Raw detector records -> the float32 matrix a model consumes. Fit once, then transform.

    Version 2 computes the age in whole years (version 1 bundles keep their fractional age): an age
    to the second and the submission time stored with it would give away the date of birth.
    """

    VERSION = 2
    VERSIONS = (1, 2)

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
        self.key_fingerprint: str | None = None  # of the identity key the reuse tables were digested under
        self.version = self.VERSION
        self._cached_plan: _Plan | None = None

    # ---- derived columns -------------------------------------------------------------
    def _derive_one(self, spec: Derived, cols: Columns, reference_rows: bool,
                    recorded: Collection[str] = ()) -> np.ndarray:
        det = self.detector
        if spec.name in recorded:  # recorded with the stored application (`recorded_derivations`)
            if spec.transform == "reuse_count":
                return np.array([self.reuse[spec.name].count_digest(d) for d in as_text(cols[spec.name])], float)
            return cols[spec.name]
        if spec.transform == "email_domain":
            return np.array([email_domain(e) for e in as_text(cols[spec.sources[0]])], object)
        if spec.transform == "geo_distance_km":
            zips, ips = as_text(cols[spec.sources[0]]), as_text(cols[spec.sources[1]])
            return geo.region_distance_km([geo.zip_region(z) for z in zips], [geo.ip_region(i) for i in ips])
        if spec.transform == "reuse_count":
            return self.reuse[spec.name].others(cols[spec.sources[0]], reference_rows=reference_rows)
        if spec.transform == "age_years":
            born = epoch_seconds(cols[spec.sources[0]], "datetime")
            at = epoch_seconds(cols[spec.sources[1]], det.time_kind)
            years = (at - born) / SECONDS_PER_YEAR
            return np.floor(years) if self.version >= 2 else years
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
    def fit(self, cols: Columns, identity_key: bytes | None = None) -> FeatureBuilder:
        """Learn imputation values, category levels, reuse tables (digested under `identity_key`'s
        subkey: the deployment's `ARBITER_PII_KEY` by default) and what to drop."""
        n = _n_rows(cols)
        key = deployment_key(identity_key)
        self.key_fingerprint = key_fingerprint(key)
        self.reuse = {
            spec.name: ReuseTable.fit(cols[spec.sources[0]], reuse_key(key))
            for spec in self.detector.derived
            if spec.transform == "reuse_count"
        }
        self.numeric, self.categorical, self.dropped, self.training_stats = [], [], {}, {}
        self._cached_plan = None
        pii = set(self.detector.pii_fields)
        for name, (treatment, values) in self._candidates(cols, reference_rows=True).items():
            if name in pii:  # never a feature itself (its levels or bins would sit in the bundle in clear)
                self.dropped[name] = "PII: used only through derived features"
            elif treatment == "numeric":
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
        reference = decile_bins(present)
        self.training_stats[name] = {"bin_edges": reference["bin_edges"], "bin_share": reference["bin_share"]}

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
        plan = self._plan()
        block = np.column_stack([as_float(cols[name]) if name in cols else np.full(_n_rows(cols), np.nan)
                                 for name in plan.raw_numeric]) if plan.raw_numeric else None
        return self._assemble(cols, block, _n_rows(cols), reference_rows)

    def transform_records(self, records: Sequence[Mapping[str, Any]]) -> np.ndarray:
        """The serving path: a list of validated records -> the feature matrix."""
        if len(records) == 1:  # the gateway's call: one application, without numpy's per-call overhead
            row = self.transform_one(records[0])
            if row is not None:
                return row
        plan = self._plan()
        recorded = [spec.name for spec in plan.derived_specs if spec.name in records[0]] if records else []
        block = None
        if plan.raw_numeric:
            try:  # numbers and None (-> NaN) in one array: the common case, one call for all fields
                block = np.array([[r.get(name) for name in plan.raw_numeric] for r in records], dtype=np.float64)
            except (TypeError, ValueError):
                block = np.column_stack([as_float(c) for c in
                                         columns_from_records(records, plan.raw_numeric).values()])
            block = block.reshape(len(records), len(plan.raw_numeric))
        return self._assemble(columns_from_records(records, plan.other_fields + recorded), block, len(records), False,
                              recorded)

    def transform_one(self, record: Mapping[str, Any]) -> np.ndarray | None:
        """One record's 1-row matrix, equal to the bit to the column-wise path's, in plain Python (a few
        microseconds instead of ~40 numpy calls); None for a record only the column-wise path reads."""
        plan = self._plan()
        try:
            derived = {spec.name: self._derive_scalar(spec, record) for spec in plan.derived_specs}
        except NeedsColumns:
            return None
        row = [0.0] * len(plan.names)
        for name, is_derived, value_at, missing_at, median in plan.numeric_slots:
            value = derived[name] if is_derived else record.get(name)
            if value is None or value != value:  # missing or NaN: the median, and the indicator if any
                row[value_at] = median
                if missing_at >= 0:
                    row[missing_at] = 1.0
            elif isinstance(value, int | float):
                row[value_at] = float(value)  # via float64, as the column-wise path converts
            else:
                return None
        for name, is_derived, positions in plan.level_slots:
            position = positions.get(text_or_none(derived[name] if is_derived else record.get(name)))
            if position is not None:
                row[position] = 1.0
        return np.array([row], dtype=np.float32)

    def _derive_scalar(self, spec: Derived, record: Mapping[str, Any]) -> Any:
        """`_derive_one` for one record (serving time, so never a reference row)."""
        if spec.name in record:  # recorded with the stored application (`recorded_derivations`)
            value = record[spec.name]
            if spec.transform == "reuse_count":
                return self.reuse[spec.name].count_digest(text_or_none(value))
            if spec.transform == "email_domain":
                return text_or_none(value)
            if value is not None and not isinstance(value, int | float):
                raise NeedsColumns(f"recorded {spec.name} of type {type(value).__name__}")
            return value
        source = [record.get(name) for name in spec.sources]
        if spec.transform == "email_domain":
            return email_domain(text_or_none(source[0]))
        if spec.transform == "geo_distance_km":  # numpy's trigonometry, exactly as the column-wise path
            return float(geo.region_distance_km([geo.zip_region(text_or_none(source[0]))],
                                                [geo.ip_region(text_or_none(source[1]))])[0])
        if spec.transform == "reuse_count":
            return self.reuse[spec.name].count(text_or_none(source[0]))
        if spec.transform == "age_years":
            at = _scalar_seconds(source[1], self.detector.time_kind)
            years = (at - _scalar_seconds(source[0], "datetime")) / SECONDS_PER_YEAR
            return float(np.floor(years)) if self.version >= 2 else years
        if spec.transform == "hour_of_day":  # Python's float % is numpy's mod (sign of the divisor)
            return (_scalar_seconds(source[0], self.detector.time_kind) % 86400.0) / 3600.0
        raise ValueError(f"unknown transform {spec.transform!r}")

    def _assemble(self, cols: Columns, block: np.ndarray | None, n: int, reference_rows: bool,
                  recorded: Collection[str] = ()) -> np.ndarray:
        plan = self._plan()
        derived = {spec.name: self._derive_one(spec, cols, reference_rows, recorded)
                   for spec in self.detector.derived if spec.name in plan.used_derived}
        values = np.empty((n, len(self.numeric)), dtype=np.float64)
        if block is not None:
            values[:, plan.raw_numeric_slots] = block
        for slot, name in plan.derived_numeric:
            values[:, slot] = as_float(derived[name])
        missing = np.isnan(values)
        out = np.empty((n, len(plan.names)), dtype=np.float32)
        out[:, plan.value_positions] = np.where(missing, plan.medians, values)
        out[:, plan.missing_positions] = missing[:, plan.missing_slots]
        for spec, positions in zip(self.categorical, plan.level_positions, strict=True):
            name = spec["name"]
            texts = as_text(derived[name] if name in derived else cols.get(name, np.full(n, None, object)))
            for level, position in zip(spec["levels"], positions, strict=True):
                out[:, position] = texts == level
        return out

    def _plan(self) -> _Plan:
        if self._cached_plan is None:
            self._cached_plan = _Plan.of(self)
        return self._cached_plan

    def unreproducible(self, identity_key: bytes) -> list[str]:
        """Why this builder's features cannot be computed again from a stored application (its PII as
        keyed hashes, plus `recorded_derivations` under `identity_key`); empty when they can."""
        used = self._plan().used_derived
        pii = set(self.detector.pii_fields)
        why = [f"it reads the PII field {name} itself" for name in
               [s["name"] for s in self.numeric] + [s["name"] for s in self.categorical] if name in pii]
        ages = [spec.name for spec in self.detector.derived if spec.transform == "age_years" and spec.name in used]
        if self.version < 2 and ages:
            why.append("its age is in fractions of a year (features v1); ages are recorded in whole years")
        if any(table.key != reuse_key(identity_key) for name, table in self.reuse.items() if name in used):
            why.append("its reuse tables are digested under a key of its own, not this deployment's")
        return why

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
            "version": self.version,
            "detector": self.detector.name,
            "numeric": self.numeric,
            "categorical": self.categorical,
            "dropped": self.dropped,
            "reuse": {k: {"counts": t.counts} for k, t in self.reuse.items()},
            "identity_key_fingerprint": self.key_fingerprint,
            "feature_names": self.feature_names,
            "training_stats": self.training_stats,
        }

    @classmethod
    def from_dict(cls, detector: Detector, data: Mapping[str, Any], identity_key: bytes | None = None
                  ) -> FeatureBuilder:
        """The fitted builder, its reuse tables keyed by this deployment's `identity_key`
        (`ARBITER_PII_KEY` by default); ValueError when they were digested under another key."""
        if data.get("version") not in cls.VERSIONS or data.get("detector") != detector.name:
            raise ValueError(f"features.json is for {data.get('detector')!r} v{data.get('version')}")
        key = deployment_key(identity_key)
        recorded = data.get("identity_key_fingerprint")
        legacy = any("key" in v for v in data["reuse"].values())  # registered before keys left bundles
        if data["reuse"] and not legacy and recorded != key_fingerprint(key):
            raise ValueError(f"its identity digests were made under another ARBITER_PII_KEY (fingerprint "
                             f"{recorded}, this deployment's {key_fingerprint(key)}): train it with this "
                             "deployment's key")
        fb = cls(detector)
        fb.key_fingerprint = recorded
        fb.version = int(data["version"])
        fb.numeric = list(data["numeric"])
        fb.categorical = list(data["categorical"])
        fb.dropped = dict(data["dropped"])
        fb.reuse = {k: ReuseTable(bytes.fromhex(v["key"]) if legacy else reuse_key(key), dict(v["counts"]))
                    for k, v in data["reuse"].items()}
        fb.training_stats = dict(data.get("training_stats", {}))
        fb._cached_plan = None
        return fb


@dataclass(frozen=True)
class _Plan:
    """Where every input lands in the output matrix, worked out once per fitted builder."""

    names: list[str]
    raw_numeric: list[str]
    raw_numeric_slots: list[int]
    derived_numeric: list[tuple[int, str]]
    used_derived: set[str]
    other_fields: list[str]
    medians: np.ndarray
    value_positions: list[int]
    missing_positions: list[int]
    missing_slots: list[int]
    level_positions: list[list[int]]
    derived_specs: list[Derived]  # the derived features in use, in declaration order
    numeric_slots: list[tuple[str, bool, int, int, float]]  # name, derived?, value at, indicator at (-1), median
    level_slots: list[tuple[str, bool, dict[str, int]]]  # name, derived?, level -> position

    @classmethod
    def of(cls, fb: FeatureBuilder) -> _Plan:
        fields = set(fb.detector.field_names)
        derived_names = {d.name for d in fb.detector.derived}
        raw_numeric = [s["name"] for s in fb.numeric if s["name"] in fields]
        raw_slots = [k for k, s in enumerate(fb.numeric) if s["name"] in fields]
        derived_numeric = [(k, s["name"]) for k, s in enumerate(fb.numeric) if s["name"] in derived_names]
        used = {name for _, name in derived_numeric} | {s["name"] for s in fb.categorical if s["name"] in derived_names}
        sources = {src for d in fb.detector.derived if d.name in used for src in d.sources}
        other = sorted(sources | {s["name"] for s in fb.categorical if s["name"] in fields})
        position, values, missing, missing_slots = 0, [], [], []
        for k, spec in enumerate(fb.numeric):
            values.append(position)
            position += 1
            if spec["missing_indicator"]:
                missing.append(position)
                missing_slots.append(k)
                position += 1
        levels = []
        for spec in fb.categorical:
            levels.append(list(range(position, position + len(spec["levels"]))))
            position += len(spec["levels"])
        medians = np.array([s["median"] for s in fb.numeric], dtype=np.float64)
        indicator = dict(zip(missing_slots, missing, strict=True))
        numeric_slots = [(s["name"], s["name"] in derived_names, values[k], indicator.get(k, -1), float(s["median"]))
                         for k, s in enumerate(fb.numeric)]
        level_slots = [(s["name"], s["name"] in derived_names, dict(zip(s["levels"], positions, strict=True)))
                       for s, positions in zip(fb.categorical, levels, strict=True)]
        derived_specs = [d for d in fb.detector.derived if d.name in used]
        return cls(fb.feature_names, raw_numeric, raw_slots, derived_numeric, used, other, medians, values,
                   missing, missing_slots, levels, derived_specs, numeric_slots, level_slots)


def _n_rows(cols: Columns) -> int:
    return len(next(iter(cols.values()))) if cols else 0

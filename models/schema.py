"""Declarative detector schemas: the one place that says what an input looks like.

Validation (gateway), synthesis, training and serving all read a `Detector`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, Literal

FieldKind = Literal["number", "integer", "category", "text", "datetime", "date", "ip"]
NUMERIC_KINDS = frozenset({"number", "integer"})
TimeKind = Literal["seconds", "datetime"]


@dataclass(frozen=True)
class Field:
    """One input field of a detector."""

    name: str
    kind: FieldKind
    required: bool = True
    pii: bool = False
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    max_length: int | None = None
    pattern: str | None = None
    description: str = ""


@dataclass(frozen=True)
class Derived:
    """A feature computed from raw fields (see `models.features`)."""

    name: str
    transform: Literal["email_domain", "geo_distance_km", "reuse_count", "age_years", "hour_of_day"]
    sources: tuple[str, ...]


@dataclass(frozen=True)
class Detector:
    """A fraud use case: its input fields, label, time column and derived features."""

    name: str
    description: str
    fields: tuple[Field, ...]
    label: str
    time_field: str
    time_kind: TimeKind
    amount_field: str | None = None
    derived: tuple[Derived, ...] = ()
    fraud_rate: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    @cached_property
    def field_set(self) -> frozenset[str]:
        """The field names as a set, built once (validation looks every key of every record up in it)."""
        return frozenset(f.name for f in self.fields)

    @property
    def pii_fields(self) -> list[str]:
        return [f.name for f in self.fields if f.pii]

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    def schema_dict(self) -> dict[str, Any]:
        """The input schema as plain data (stored in manifests and the `detectors` table)."""
        return {
            "detector": self.name,
            "label": self.label,
            "time_field": self.time_field,
            "time_kind": self.time_kind,
            "amount_field": self.amount_field,
            "fields": [_field_dict(f) for f in self.fields],
            "derived": [asdict(d) | {"sources": list(d.sources)} for d in self.derived],
        }

    def fingerprint(self) -> str:
        """sha256 of the schema: a bundle trained on another shape of input is refused."""
        blob = json.dumps(self.schema_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


def _field_dict(f: Field) -> dict[str, Any]:
    data = asdict(f)
    data["choices"] = list(f.choices)
    return {k: v for k, v in data.items() if v not in (None, [], "")}

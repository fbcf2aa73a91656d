"""Declarative detector schemas: the one place that says what an input looks like.

Validation (gateway), synthesis, training and serving all read a `Detector`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any, Literal

FieldKind = Literal["number", "integer", "category", "text", "datetime", "date", "ip"]
NUMERIC_KINDS = frozenset({"number", "integer"})
TimeKind = Literal["seconds", "datetime"]
MAX_TEXT = 1000  # characters of a text field without a max_length of its own
CONTROL_CHARACTERS = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f"  # refused in text (tab, LF and CR are not)
_NO_CONTROL = f"^[^{CONTROL_CHARACTERS}]*$"


def _refusing_control(pattern: str) -> str | None:
    """`pattern` made to refuse control characters too (one pattern, which generators handle far better
    than two), when its only way to match one is a negated class; None when it has another (a dot,
    a negated escape)."""
    outside = re.sub(r"\[(?:\\.|[^\]\\])*\]", "", pattern.replace("\\\\", ""))  # without classes
    if re.search(r"(?<!\\)\.|\\[SWD]", outside):
        return None
    return re.sub(r"(?<!\\)\[\^", lambda _: "[^" + CONTROL_CHARACTERS, pattern)


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

    def json_schema(self) -> dict[str, Any]:
        """What validation (`models.validation`) accepts for this field, as JSON Schema (OpenAPI 3.1);
        an optional field may be null."""
        schema: dict[str, Any]
        if self.kind in NUMERIC_KINDS:
            schema = {"type": self.kind} | {k: v for k, v in (("minimum", self.minimum), ("maximum", self.maximum))
                                            if v is not None}
        elif self.kind == "category":
            schema = {"type": "string", "enum": list(self.choices)}
        elif self.kind in ("datetime", "date"):
            schema = {"type": "string", "format": "date-time" if self.kind == "datetime" else "date",
                      "maxLength": 40}
        elif self.kind == "ip":
            schema = {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}], "maxLength": 45}
        else:
            schema = {"type": "string", "maxLength": self.max_length or MAX_TEXT}
            exact = _refusing_control(self.pattern) if self.pattern else _NO_CONTROL
            if exact is not None:
                schema["pattern"] = exact
            else:
                schema["allOf"] = [{"pattern": self.pattern}, {"pattern": _NO_CONTROL}]
        if self.description:
            schema["description"] = self.description
        if not self.required:
            schema = {"anyOf": [schema, {"type": "null"}]}
        return schema


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

    def data_schema(self) -> dict[str, Any]:
        """JSON Schema of one application's `data`: every field with its type and bounds, the required
        ones, nothing else (what `models.validation.validate_record` accepts)."""
        return {"type": "object", "title": f"{self.name} application", "description": self.description,
                "properties": {f.name: f.json_schema() for f in self.fields},
                "required": [f.name for f in self.fields if f.required], "additionalProperties": False}

    def fingerprint(self) -> str:
        """sha256 of the schema: a bundle trained on another shape of input is refused."""
        blob = json.dumps(self.schema_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()


def _field_dict(f: Field) -> dict[str, Any]:
    data = asdict(f)
    data["choices"] = list(f.choices)
    return {k: v for k, v in data.items() if v not in (None, [], "")}

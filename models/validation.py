"""Validating one input record against its detector's declaration.

Strict and explicit: numbers must be JSON numbers (not strings, not booleans) and finite;
text has a length limit, an optional pattern and no control characters; dates and times are
ISO 8601; unknown fields are refused. Every problem is reported with the field it concerns,
so the gateway can answer 422 naming each one.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import cache
from typing import Any

from models.schema import CONTROL_CHARACTERS, MAX_TEXT, Detector, Field

_CONTROL = re.compile(f"[{CONTROL_CHARACTERS}]")


@dataclass(frozen=True)
class FieldError:
    field: str
    message: str


@cache
def _pattern(expr: str) -> re.Pattern[str]:
    # ASCII classes (\d is 0-9, \s the six ASCII spaces), as JSON Schema's ECMA-262 patterns read them in
    # /openapi.json: a body a client builds from the published schema is one this accepts
    return re.compile(expr, re.ASCII)


_NUMBER_TYPES = (int, float)


def _number(f: Field, value: Any) -> tuple[Any, str | None]:
    if isinstance(value, bool) or not isinstance(value, _NUMBER_TYPES):
        return None, "must be a number"
    if isinstance(value, float) and not math.isfinite(value):
        return None, "must be a finite number"
    if f.kind == "integer" and not float(value).is_integer():
        return None, "must be a whole number"
    if f.minimum is not None and value < f.minimum:
        return None, f"must be >= {f.minimum:g}"
    if f.maximum is not None and value > f.maximum:
        return None, f"must be <= {f.maximum:g}"
    return (int(value) if f.kind == "integer" else float(value)), None


def _text(f: Field, value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, str):
        return None, "must be a string"
    limit = f.max_length or MAX_TEXT
    if len(value) > limit:
        return None, f"must be at most {limit} characters"
    if _CONTROL.search(value):
        return None, "must not contain control characters"
    if f.kind == "category" and value not in f.choices:
        return None, f"must be one of: {', '.join(f.choices)}"
    if f.pattern and not _pattern(f.pattern).match(value):
        return None, "has an invalid format"
    return value, None


def _temporal(f: Field, value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, str) or len(value) > 40:
        return None, "must be an ISO 8601 string"
    try:
        if f.kind == "date":
            return date.fromisoformat(value).isoformat(), None
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None, f"must be an ISO 8601 {'date' if f.kind == 'date' else 'date-time'}"
    parsed = parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return parsed.isoformat().replace("+00:00", "Z"), None


def _ip(f: Field, value: Any) -> tuple[Any, str | None]:
    if not isinstance(value, str) or len(value) > 45:
        return None, "must be an IP address"
    try:
        return str(ipaddress.ip_address(value)), None
    except ValueError:
        return None, "must be an IPv4 or IPv6 address"


_CHECKS = {"number": _number, "integer": _number, "text": _text, "category": _text,
           "datetime": _temporal, "date": _temporal, "ip": _ip}


def validate_record(detector: Detector, record: Any, *, hashed: Collection[str] = ()
                    ) -> tuple[dict[str, Any], list[FieldError]]:
    """The normalised record and the list of problems (empty when it is valid). Fields in `hashed` hold
    keyed hashes (a stored application's PII), taken as they are."""
    if not isinstance(record, Mapping):
        return {}, [FieldError("data", "must be an object")]
    clean: dict[str, Any] = {}
    errors: list[FieldError] = []
    known = detector.field_set
    for name in record:
        if name not in known:
            shown = name if isinstance(name, str) and len(name) <= 64 else f"{str(name)[:64]}..."
            errors.append(FieldError(shown, "is not a field of this detector"))
    for f in detector.fields:
        value = record.get(f.name)
        if value is None:
            if f.required:
                errors.append(FieldError(f.name, "is required"))
            else:
                clean[f.name] = None
            continue
        if f.name in hashed:
            clean[f.name] = value
            continue
        normalised, problem = _CHECKS[f.kind](f, value)
        if problem:
            errors.append(FieldError(f.name, problem))
        else:
            clean[f.name] = normalised
    return clean, errors

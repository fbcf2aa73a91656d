"""Certification rows without real people: each PII field of a validation row replaced by a
stand-in that keeps what the feature transforms read coarsely (an email's common domain, the zip
code's first three digits, the IP's /16, the birth year) and nothing that identifies anyone.

Training then scores the stand-in rows with the training library itself, so certification still
covers the whole path from raw input to score, on inputs that are nobody's.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pandas as pd

from models.schema import Detector

FALLBACK_DOMAIN = "example.com"


def _email(i: int, value: Any, common_domains: Collection[str]) -> str:
    domain = str(value).rsplit("@", 1)[-1].lower() if isinstance(value, str) and "@" in value else ""
    return f"cert-{i}@{domain if domain in common_domains else FALLBACK_DOMAIN}"


def _zip(value: Any) -> Any:
    text = str(value) if value is not None else ""
    return f"{text[:3]}00" if len(text) >= 3 and text[:3].isdigit() else "00000"


def _ip(value: Any) -> str:
    parts = str(value).split(".") if isinstance(value, str) else []
    if len(parts) == 4 and all(p.isdigit() for p in parts):
        return f"{parts[0]}.{parts[1]}.0.1"
    return "192.0.2.1"  # documentation range (RFC 5737)


def _birth(value: Any) -> Any:
    text = str(value) if value is not None else ""
    return f"{text[:4]}-07-01" if len(text) >= 4 and text[:4].isdigit() else None


def stand_in(detector: Detector, rows: pd.DataFrame, common_domains: Collection[str] = ()) -> pd.DataFrame:
    """`rows` with every PII field of `detector` replaced by a stand-in (`common_domains`: the
    email domains frequent enough to be features, which carry no one's identity)."""
    out = rows.copy()
    for field in detector.pii_fields:
        if field not in out.columns:
            continue
        values = list(out[field])
        if field == "email":
            replaced = [_email(i, v, common_domains) for i, v in enumerate(values)]
        elif field == "ssn":
            replaced = [f"9{i // 10000 % 100:02d}-{i // 100 % 100:02d}-{i % 10000:04d}" for i in range(len(values))]
        elif field == "phone":
            replaced = [f"+1 555 01{i % 100:02d}" for i in range(len(values))]  # the fictional 555-01xx range
        elif field == "zip":
            replaced = [_zip(v) for v in values]
        elif field == "ip":
            replaced = [_ip(v) for v in values]
        elif field == "date_of_birth":
            replaced = [_birth(v) for v in values]
        elif field == "full_name":
            replaced = [f"Certification Row {i}" for i in range(len(values))]
        else:
            replaced = [f"cert-{field}-{i}" for i in range(len(values))]
        out[field] = [None if v is None or (isinstance(v, float) and v != v) else r for v, r in zip(values, replaced,
                                                                                                  strict=True)]
    return out

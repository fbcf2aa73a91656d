"""Keyed hashing of PII (HMAC-SHA256 with ARBITER_PII_KEY) before anything is stored or compared.

Values are normalised per kind first, so `123-45-6789` and `123456789` hash alike, and the
kind is part of the message, so the same string in two fields hashes differently.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
from collections.abc import Mapping
from typing import Any

from models.identity import DEV_KEY
from models.schema import Detector

log = logging.getLogger(__name__)
PREFIX = "h:"


def normalise(kind: str, value: str) -> str:
    value = value.strip()
    if kind == "ssn":
        return "".join(ch for ch in value if ch.isdigit())
    if kind in ("email", "device_id", "device", "email_domain"):
        return value.lower()
    return value


class PiiHasher:
    """HMAC-SHA256 of normalised values, hex, prefixed `h:` so hashed values are recognisable."""

    def __init__(self, key: bytes | None) -> None:
        self._key = key or DEV_KEY
        self._warn = not key  # said once, when the development key is first used

    @property
    def identity_key(self) -> bytes:
        """The key itself, for the subkeys derived from it (`models.identity.reuse_key`); never stored."""
        return self._key

    def digest(self, kind: str, value: str) -> str:
        if self._warn:
            self._warn = False
            log.warning("ARBITER_PII_KEY is not set: hashing PII with the development key; set it in production")
        message = f"{kind}\x1f{normalise(kind, value)}".encode()
        return PREFIX + hmac.new(self._key, message, hashlib.sha256).hexdigest()

    def protect(self, detector: Detector, record: Mapping[str, Any]) -> dict[str, Any]:
        """A copy of `record` with every PII field of the detector replaced by its keyed hash."""
        pii = set(detector.pii_fields)
        return {k: (self.digest(k, str(v)) if k in pii and v is not None else v) for k, v in record.items()}

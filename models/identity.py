"""The deployment's identity key (`ARBITER_PII_KEY`) as the feature transforms use it.

Reuse tables (how often an SSN or a device appeared among the training window's applications)
hold keyed digests. The key is the deployment's, never the bundle's: training derives a subkey
from it, the bundle carries only a fingerprint, and a gateway loading the bundle derives the same
subkey from its own key. A bundle trained under another key is refused (its digests would never
match), and a bundle that leaves the bank holds digests nobody can test guesses against.
"""

from __future__ import annotations

import hashlib
import hmac
import os

ENVIRONMENT = "ARBITER_PII_KEY"
DEV_KEY = b"arbiter-development-pii-key-do-not-use-in-production"


def deployment_key(value: str | bytes | None = None) -> bytes:
    """`value`, else `ARBITER_PII_KEY` from the environment, else the development key."""
    if value is None:
        value = os.environ.get(ENVIRONMENT) or None
    if value is None:
        return DEV_KEY
    return value.encode() if isinstance(value, str) else value


def reuse_key(key: bytes) -> bytes:
    """The subkey reuse tables are digested under (never the key itself, never stored)."""
    return hmac.new(key, b"arbiter/reuse-tables/v1", hashlib.sha256).digest()


def key_fingerprint(key: bytes) -> str:
    """What a bundle records of the key: enough to tell two keys apart, nothing to recover one."""
    return hmac.new(key, b"arbiter/key-fingerprint/v1", hashlib.sha256).hexdigest()[:16]

"""Message bodies: one application, the champion's result and a schema version.

Bodies are JSON. With a message key they are sealed with AES-GCM (a fresh 96-bit nonce per
message), so the PII an application carries never rests in clear on the broker's disk or in
the local spool. A body that cannot be opened or parsed raises `UndecodableMessage`: the
consumer dead-letters it, it can never succeed.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SCHEMA_VERSION = 1
SEALED_PREFIX = b"AG1"  # never the first bytes of a JSON document
_AAD = b"arbiter.applications/v1"
_NONCE = 12


class UndecodableMessage(ValueError):
    """A body that is not a message of a known schema version (or cannot be opened with our key)."""


@dataclass(frozen=True)
class ApplicationMessage:
    """What a consumer receives: enough to record the decision and to score the application again."""

    detector: str
    application_id: str
    record: dict[str, Any]
    result: dict[str, Any]
    received_at: datetime
    published_at: datetime


def _key_bytes(secret: str) -> bytes:
    # operators set a passphrase-like secret; derive a fixed 256-bit key from it
    return hashlib.sha256(b"arbiter-message-key\x00" + secret.encode()).digest()


class MessageCodec:
    """Encodes and decodes message bodies, sealing them when a key is configured."""

    def __init__(self, secret: str | None = None) -> None:
        self._aead = AESGCM(_key_bytes(secret)) if secret else None

    @property
    def sealed(self) -> bool:
        return self._aead is not None

    def encode(self, detector: str, record: dict[str, Any], result: dict[str, Any], received_at: datetime) -> bytes:
        body = json.dumps({
            "v": SCHEMA_VERSION, "detector": detector, "application_id": result["application_id"],
            "received_at": received_at.isoformat(), "published_at": datetime.now(UTC).isoformat(),
            "record": record, "result": result,
        }, separators=(",", ":"), allow_nan=False).encode()
        if self._aead is None:
            return body
        nonce = os.urandom(_NONCE)
        return SEALED_PREFIX + nonce + self._aead.encrypt(nonce, body, _AAD)

    def decode(self, body: bytes) -> ApplicationMessage:
        if body.startswith(SEALED_PREFIX):
            if self._aead is None:
                raise UndecodableMessage("sealed message but no ARBITER_MESSAGE_KEY is configured")
            nonce = body[len(SEALED_PREFIX):len(SEALED_PREFIX) + _NONCE]
            try:
                body = self._aead.decrypt(nonce, body[len(SEALED_PREFIX) + _NONCE:], _AAD)
            except InvalidTag:
                raise UndecodableMessage("sealed message does not open with this ARBITER_MESSAGE_KEY") from None
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError) as exc:
            raise UndecodableMessage(f"not JSON: {exc}") from None
        return _parse(data)


def _parse(data: Any) -> ApplicationMessage:
    if not isinstance(data, dict):
        raise UndecodableMessage("not a JSON object")
    if data.get("v") != SCHEMA_VERSION:
        raise UndecodableMessage(f"unknown schema version {data.get('v')!r}")
    try:
        message = ApplicationMessage(
            detector=str(data["detector"]), application_id=str(data["application_id"]),
            record=dict(data["record"]), result=dict(data["result"]),
            received_at=datetime.fromisoformat(data["received_at"]),
            published_at=datetime.fromisoformat(data["published_at"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise UndecodableMessage(f"malformed message: {type(exc).__name__} {exc}") from None
    if not 1 <= len(message.application_id) <= 128:
        raise UndecodableMessage("application_id must be 1-128 characters")
    return message

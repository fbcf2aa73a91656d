"""Message bodies: applications, the champion's results and a schema version.

A message carries one or more applications of one detector (the publisher groups what arrives
together, up to `MAX_PER_MESSAGE`): publishing with confirms costs about the same per message
whatever its size, so grouping is what lets one gateway process keep up with its own traffic.
Bodies are JSON: `{"v": 1, "detector", "published_at", "applications": [{"application_id",
"received_at", "record", "result"}, ...]}`. With a message key they are sealed with AES-GCM (a fresh 96-bit nonce per
message), so the PII an application carries never rests in clear on the broker's disk or in
the local spool. A body that cannot be opened or parsed raises `UndecodableMessage`: the
consumer dead-letters it, it can never succeed.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

SCHEMA_VERSION = 1
MAX_PER_MESSAGE = 100
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

    def encode(self, detector: str, applications: Sequence[tuple[dict[str, Any], dict[str, Any], datetime]],
               published_at: datetime | None = None) -> bytes:
        """One body for `applications`: (clean record, champion result, received_at) each; published now,
        unless `published_at` says when it first was (the lag a worker measures runs from it)."""
        return self._seal({
            "v": SCHEMA_VERSION, "detector": detector,
            "published_at": (published_at or datetime.now(UTC)).isoformat(),
            "applications": [{"application_id": result["application_id"], "received_at": at.isoformat(),
                              "record": record, "result": result} for record, result, at in applications]})

    def encode_messages(self, messages: Sequence[ApplicationMessage]) -> bytes:
        """A body for decoded messages of one detector again (a retry or a dead letter of just these)."""
        return self.encode(messages[0].detector, [(m.record, m.result | {"application_id": m.application_id},
                                                   m.received_at) for m in messages])

    def _seal(self, document: dict[str, Any]) -> bytes:
        body = orjson.dumps(document)
        if self._aead is None:
            return body
        nonce = os.urandom(_NONCE)
        return SEALED_PREFIX + nonce + self._aead.encrypt(nonce, body, _AAD)

    def decode(self, body: bytes) -> list[ApplicationMessage]:
        if body.startswith(SEALED_PREFIX):
            if self._aead is None:
                raise UndecodableMessage("sealed message but no ARBITER_MESSAGE_KEY is configured")
            nonce = body[len(SEALED_PREFIX):len(SEALED_PREFIX) + _NONCE]
            try:
                body = self._aead.decrypt(nonce, body[len(SEALED_PREFIX) + _NONCE:], _AAD)
            except InvalidTag:
                raise UndecodableMessage("sealed message does not open with this ARBITER_MESSAGE_KEY") from None
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise UndecodableMessage(f"not JSON: {exc}") from None
        return _parse(data)


def _parse(data: Any) -> list[ApplicationMessage]:
    if not isinstance(data, dict):
        raise UndecodableMessage("not a JSON object")
    if data.get("v") != SCHEMA_VERSION:
        raise UndecodableMessage(f"unknown schema version {data.get('v')!r}")
    try:
        detector, published_at = str(data["detector"]), datetime.fromisoformat(data["published_at"])
        items = data["applications"]
        if not isinstance(items, list) or not items:
            raise ValueError("applications must be a non-empty list")
        messages = [ApplicationMessage(
            detector=detector, application_id=str(item["application_id"]), record=dict(item["record"]),
            result=dict(item["result"]), received_at=datetime.fromisoformat(item["received_at"]),
            published_at=published_at) for item in items]
    except (KeyError, TypeError, ValueError) as exc:
        raise UndecodableMessage(f"malformed message: {type(exc).__name__} {exc}") from None
    if any(not 1 <= len(m.application_id) <= 128 for m in messages):
        raise UndecodableMessage("application_id must be 1-128 characters")
    return messages

"""The audit trail's hash chain, as pure code.

Each event's hash is the SHA-256 of the previous event's hash and the event's canonical form (its
position, time, actor, action, subject and details as sorted-key JSON). Editing an event changes its
hash; deleting or moving one breaks the link the next event holds; so `verify` names the first
event that does not match. (Removing events from the end leaves a shorter chain that still holds:
compare the head with an exported copy to see that.)
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from arbiter.domain.evidence import utc

GENESIS = "0" * 64


def canonical(position: int, at: datetime, actor: str, action: str, subject: str, detail: Mapping[str, Any]) -> str:
    return json.dumps({"id": position, "at": utc(at).isoformat(), "actor": actor, "action": action,
                       "subject": subject, "detail": detail}, sort_keys=True, separators=(",", ":"), default=str)


def chain_hash(previous: str, event: str) -> str:
    return hashlib.sha256(f"{previous}\n{event}".encode()).hexdigest()


@dataclass(frozen=True)
class Verdict:
    """How many events were checked, and the first that does not match (None: the chain holds)."""

    events: int
    broken_at: int | None = None
    reason: str = ""


def verify(rows: Iterable[tuple[int, datetime, str, str, str, Mapping[str, Any], str, str]]) -> Verdict:
    """`rows`: (id, at, actor, action, subject, detail, prev_hash, hash) in id order."""
    previous, count, expected_id = GENESIS, 0, 1
    for position, at, actor, action, subject, detail, prev_hash, stored in rows:
        count += 1
        if position != expected_id:
            return Verdict(count, position, f"event {position} follows event {expected_id - 1}: "
                                            "events are missing or out of order")
        if prev_hash != previous:
            return Verdict(count, position, f"event {position} does not link to the event before it")
        if chain_hash(previous, canonical(position, at, actor, action, subject, detail)) != stored:
            return Verdict(count, position, f"event {position} was changed after it was written")
        previous, expected_id = stored, expected_id + 1
    return Verdict(count)

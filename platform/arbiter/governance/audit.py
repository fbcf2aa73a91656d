"""The audit trail: what was done, by whom, in order; verified and exported.

Every governance use case appends its event in its own transaction (`store/audit_repo.append`):
registration, shadow start and stop, promotion (accepted, refused or forced), rollback, strategy,
model strategy and rule changes, retention. `verify` recomputes the hash chain.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from arbiter.bootstrap import Platform
from arbiter.domain.audit import Verdict, verify
from arbiter.store import audit_repo


def verify_trail(platform: Platform) -> Verdict:
    """The chain recomputed from the first event to the last."""
    with platform.sessions() as session:
        return verify((e.id, e.at, e.actor, e.action, e.subject, e.detail, e.prev_hash, e.hash)
                      for e in audit_repo.rows(session))


def events(platform: Platform, since: datetime | None = None) -> list[dict[str, Any]]:
    with platform.sessions() as session:
        return [audit_repo.event_dict(e) for e in audit_repo.rows(session, since)]


def export_trail(platform: Platform, path: Path) -> int:
    """Every event as a JSON line in `path`; how many."""
    count = 0
    with platform.sessions() as session, path.open("w") as out:
        for event in audit_repo.rows(session):
            out.write(json.dumps(audit_repo.event_dict(event), sort_keys=True, default=str) + "\n")
            count += 1
    return count

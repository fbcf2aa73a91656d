"""Appending to the audit trail and reading it back, in the caller's transaction.

Appends are serialised (an advisory lock on Postgres; SQLite has one writer at a time) so that each
event links to the one before it. Only governance actions append: nothing on the request or
shadow path waits for this lock.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from arbiter.domain.audit import GENESIS, canonical, chain_hash
from arbiter.store import tables

AUDIT_LOCK = 0x6175_6469_74  # "audit"


def append(session: Session, actor: str, action: str, subject: str, detail: Mapping[str, Any] | None = None
           ) -> tables.AuditEvent:
    """Add an event at the end of the chain (commits with the caller's transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text(f"SELECT pg_advisory_xact_lock({AUDIT_LOCK})"))
    last = session.execute(select(tables.AuditEvent.id, tables.AuditEvent.hash)
                           .order_by(tables.AuditEvent.id.desc()).limit(1)).first()
    position, previous = (last.id + 1, last.hash) if last else (1, GENESIS)
    at, body = datetime.now(UTC), dict(detail or {})
    event = tables.AuditEvent(id=position, at=at, actor=actor, action=action, subject=subject, detail=body,
                              prev_hash=previous,
                              hash=chain_hash(previous, canonical(position, at, actor, action, subject, body)))
    session.add(event)
    session.flush()
    return event


def rows(session: Session, since: datetime | None = None) -> Iterator[tables.AuditEvent]:
    """The events in chain order (from `since` on)."""
    query = select(tables.AuditEvent).order_by(tables.AuditEvent.id)
    if since is not None:
        query = query.where(tables.AuditEvent.at >= since)
    yield from session.scalars(query.execution_options(yield_per=5_000))


def event_dict(e: tables.AuditEvent) -> dict[str, Any]:
    return {"id": e.id, "at": e.at.replace(tzinfo=e.at.tzinfo or UTC).isoformat(), "actor": e.actor,
            "action": e.action, "subject": e.subject, "detail": e.detail, "prev_hash": e.prev_hash, "hash": e.hash}

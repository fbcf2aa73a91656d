"""Labels that arrive later: checking them (HTTP and CSV share this) and storing them.

A label is `(application_id, is_fraud, observed_at)`. Storing is idempotent: the same label again
changes nothing; a label observed later than the stored one replaces it (revision + 1) and both
stay on record in `outcome_history`; an older one is ignored as stale. Labels for applications
the platform never saw are counted and reported, not stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from arbiter.bootstrap import Platform
from arbiter.domain.evidence import UNLABELLED, label_state
from arbiter.store import tables
from arbiter.store.evidence_repo import lock_evidence, move_labels

TRUE_WORDS, FALSE_WORDS = {"true", "1", "yes"}, {"false", "0", "no"}
REPORTED_UNKNOWN = 20  # how many unknown ids a summary lists (all are counted)
CHUNK = 5_000  # labels per transaction (each holds the evidence lock alone until it commits: store/evidence_repo.py)


@dataclass(frozen=True)
class Label:
    application_id: str
    is_fraud: bool
    observed_at: datetime


@dataclass
class OutcomeSummary:
    received: int = 0
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    stale: int = 0
    unknown: int = 0
    unknown_ids: list[str] = field(default_factory=list)

    def add(self, other: OutcomeSummary) -> None:
        for name in ("received", "inserted", "updated", "unchanged", "stale", "unknown"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.unknown_ids = (self.unknown_ids + other.unknown_ids)[:REPORTED_UNKNOWN]

    def as_dict(self) -> dict[str, Any]:
        return {"received": self.received, "inserted": self.inserted, "updated": self.updated,
                "unchanged": self.unchanged, "stale": self.stale, "unknown": self.unknown,
                "unknown_ids": self.unknown_ids}


def _flag(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS | FALSE_WORDS:
        return value.strip().lower() in TRUE_WORDS
    return None


def _moment(value: Any) -> datetime | None:
    if not isinstance(value, str) or not 10 <= len(value) <= 40:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return _utc(moment)  # naive times are UTC


def parse_label(item: Any, where: str, *, text_flags: bool = False) -> tuple[Label | None, list[dict[str, str]]]:
    """One label from a JSON object (or a CSV row, `text_flags`), or the problems naming each field."""
    if not isinstance(item, Mapping):
        return None, [{"field": where.rstrip("."), "message": "must be an object"}]
    errors = [{"field": f"{where}{str(k)[:64]}", "message": "is not allowed"} for k in item
              if k not in ("application_id", "is_fraud", "observed_at")]
    app_id = item.get("application_id")
    if not isinstance(app_id, str) or not 1 <= len(app_id) <= 128 or not app_id.isprintable():
        errors.append({"field": f"{where}application_id", "message": "must be a printable string of 1-128 chars"})
    flag = _flag(item.get("is_fraud")) if text_flags else item.get("is_fraud")
    if not isinstance(flag, bool):
        errors.append({"field": f"{where}is_fraud", "message": "must be true or false"})
    moment = _moment(item.get("observed_at"))
    if moment is None:
        errors.append({"field": f"{where}observed_at", "message": "must be an ISO 8601 date-time"})
    if errors:
        return None, errors
    return Label(app_id, bool(flag), moment), []


def _latest_per_application(labels: Iterable[Label]) -> dict[str, Label]:
    latest: dict[str, Label] = {}
    for label in labels:
        seen = latest.get(label.application_id)
        if seen is None or label.observed_at > seen.observed_at:
            latest[label.application_id] = label
    return latest


def import_outcomes(platform: Platform, labels: Sequence[Label], *, source: str,
                    progress: Callable[[int], None] | None = None) -> OutcomeSummary:
    """Store `labels`, one transaction per `CHUNK` (each holds the evidence lock alone while it runs,
    so scores being stored wait for it: keep it short); what happened to each.
    Storing is idempotent: after a failure, importing the same labels again completes the job.
    `progress(n)` is told each time n more are stored."""
    total = OutcomeSummary()
    for start in range(0, len(labels), CHUNK):
        chunk = labels[start:start + CHUNK]
        with platform.sessions() as session, session.begin():
            total.add(record_outcomes(session, chunk, source=source, evidence=platform.settings.evidence))
        if progress is not None:
            progress(len(chunk))
    return total


def record_outcomes(session: Session, labels: Sequence[Label], *, source: str, evidence: bool = True
                    ) -> OutcomeSummary:
    """Store `labels` (one transaction: the caller's); what happened to each. With `evidence`, the
    applications' counts move to their new label state in the same transaction."""
    summary = OutcomeSummary(received=len(labels))
    latest = _latest_per_application(labels)
    summary.unchanged += len(labels) - len(latest)  # superseded within this very batch
    ids = list(latest)
    moves: dict[str, tuple[str, str]] = {}
    if evidence:
        lock_evidence(session, labels=True)
    known = set(session.scalars(select(tables.Application.application_id)
                                .where(tables.Application.application_id.in_(ids))))
    stored = {o.application_id: o for o in session.scalars(select(tables.Outcome)
                                                           .where(tables.Outcome.application_id.in_(ids)))}
    now = datetime.now(UTC)
    for app_id, label in latest.items():
        if app_id not in known:
            summary.unknown += 1
            if len(summary.unknown_ids) < REPORTED_UNKNOWN:
                summary.unknown_ids.append(app_id)
            continue
        current = stored.get(app_id)
        if current is None:
            current = tables.Outcome(application_id=app_id, is_fraud=label.is_fraud, observed_at=label.observed_at,
                                     recorded_at=now, revision=1, source=source)
            session.add(current)
            moves[app_id] = (UNLABELLED, label_state(label.is_fraud))
            summary.inserted += 1
        elif (current.is_fraud, _utc(current.observed_at)) == (label.is_fraud, label.observed_at):
            summary.unchanged += 1
            continue
        elif label.observed_at <= _utc(current.observed_at):
            summary.stale += 1
            continue
        else:
            moves[app_id] = (label_state(current.is_fraud), label_state(label.is_fraud))
            current.is_fraud, current.observed_at = label.is_fraud, label.observed_at
            current.recorded_at, current.revision, current.source = now, current.revision + 1, source
            summary.updated += 1
        session.add(tables.OutcomeHistory(application_id=app_id, revision=current.revision, is_fraud=label.is_fraud,
                                          observed_at=label.observed_at, recorded_at=now, source=source))
    session.flush()
    if evidence:
        move_labels(session, moves)
    return summary


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)  # SQLite hands back naive UTC

"""`arbiter evidence rebuild`: the aggregates recounted from the raw tables, day by day.

For an existing database (rows stored before the aggregates existed), rows loaded by hand, or a
repair. Each day is one transaction that replaces that day's aggregates, so the rebuild is
idempotent and resumable (run it again, or from `--since`), and memory is bounded by one day's
aggregates. On Postgres each day is read in a repeatable-read snapshot: a worker that commits
into that day meanwhile makes the day fail and be recounted, never counted twice.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.exc import DBAPIError, IntegrityError

from arbiter.bootstrap import Platform
from arbiter.domain.evidence import day_of
from arbiter.store import evidence_repo
from models.detectors import DETECTORS

ATTEMPTS = 5  # per day, when concurrent writers keep conflicting with its recount


@dataclass
class RebuildSummary:
    days: int = 0
    scores: int = 0


def days_to_rebuild(platform: Platform, detector: str | None, since: datetime | None) -> list[tuple[str, date]]:
    """(detector, day) for every day from the first arrival (or `since`) to the last."""
    todo = []
    with platform.sessions() as session:
        for name in [detector] if detector else sorted(DETECTORS):
            span = evidence_repo.arrival_span(session, name)
            if span is None:
                continue
            first, last = day_of(span[0]), day_of(span[1])
            if since is not None:
                first = max(first, day_of(since))
            todo += [(name, first + timedelta(days=i)) for i in range((last - first).days + 1)]
    return todo


def default_jobs(platform: Platform) -> int:
    """Days recounted at once: one per CPU up to four on Postgres; one on SQLite (one writer at a time)."""
    return min(4, os.cpu_count() or 1) if platform.engine.dialect.name == "postgresql" else 1


def rebuild(platform: Platform, detector: str | None = None, since: datetime | None = None,
            progress: Callable[[int], None] | None = None, jobs: int = 1) -> RebuildSummary:
    """Recount the aggregates of `detector` (every detector by default) from `since` (the first
    arrival by default), `jobs` days at once (each its own transaction: days share no aggregate
    row); `progress(1)` after each day."""
    summary = RebuildSummary()
    with ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="rebuild") as pool:
        for scores in pool.map(lambda todo: _recount(platform, *todo), days_to_rebuild(platform, detector, since)):
            summary.scores += scores
            summary.days += 1
            if progress is not None:
                progress(1)
    refresh(platform)
    return summary


def refresh(platform: Platform) -> int:
    """Keep the daily figures of the days whose bins changed (`evidence_repo.refresh_daily`); how many days."""
    with platform.sessions() as session, session.begin():
        return evidence_repo.refresh_daily(session)


def _recount(platform: Platform, detector: str, day: date) -> int:
    for attempt in range(ATTEMPTS):
        try:
            with platform.sessions() as session, session.begin():
                if platform.engine.dialect.name == "postgresql":
                    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
                return evidence_repo.recount_day(session, detector, day)
        except (IntegrityError, DBAPIError) as exc:
            concurrent = isinstance(exc, IntegrityError) or getattr(exc.orig, "pgcode", None) in ("40001", "40P01")
            if not concurrent or attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")  # pragma: no cover

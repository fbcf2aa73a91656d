"""Retention of the raw rows: months past the window are dropped, the evidence aggregates stay.

The window must cover label maturity: a label moves its application's counts only while the
application's rows are there to say what to move.
"""

from __future__ import annotations

import math
import re
from datetime import datetime

from sqlalchemy import select

from arbiter.bootstrap import Platform
from arbiter.domain.errors import Invalid
from arbiter.store import audit_repo, partitions, tables

_KEEP = re.compile(r"^\s*(\d+)\s*(mo|months?)?\s*$")


def parse_keep(text: str) -> int:
    """`13mo`, `13 months` or `13`: how many months of raw rows to keep."""
    match = _KEEP.match(text)
    if not match or int(match[1]) < 1:
        raise Invalid(f"--keep {text!r}: expected a number of months, such as 13mo")
    return int(match[1])


def apply_retention(platform: Platform, keep: str | None = None, *, dry_run: bool = False,
                    now: datetime | None = None, actor: str = "system") -> partitions.RetentionResult:
    """Keep `keep` (the `retention` setting by default) months of raw applications, decisions and
    shadow scores, the current month included; create the months ahead."""
    months = parse_keep(keep or platform.settings.retention)
    with platform.engine.begin() as conn:
        maturity = conn.execute(select(tables.ViewSettings.label_maturity_days)).scalar() or 0.0
        needed = math.ceil(maturity / 30) + 2  # the maturity window, whatever day of the month it is
        if months < needed:
            raise Invalid(f"--keep {months}mo is shorter than label maturity ({maturity:g} days) allows: "
                          f"keep at least {needed}mo, or labels would arrive for rows already dropped")
        result = partitions.apply_retention(conn, months, now=now, dry_run=dry_run)
    if not dry_run:
        with platform.sessions() as session, session.begin():
            audit_repo.append(session, actor, "retention.applied", "raw tables", {
                "keep_months": months, "cutoff": result.cutoff.isoformat(), "dropped": result.dropped,
                "deleted_rows": result.deleted, "created": result.created})
    return result

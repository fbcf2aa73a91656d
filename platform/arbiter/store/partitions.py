"""Monthly partitions of the raw tables on Postgres, and retention of the raw rows.

`applications`, `decisions` and `shadow_scores` are range-partitioned by month on the moment the
application arrived (`received_at`; a decision's `decided_at` is that moment too), each with a
DEFAULT partition that catches rows of a month nobody created yet (rows loaded by hand, a replay
of old data). The workers create the months their messages fall in before writing them (once per
month per process), and `arbiter retention apply` creates the months ahead and moves stray rows
out of DEFAULT. Retention drops whole months: the evidence aggregates keep counting them.
SQLite keeps plain tables; there retention deletes the rows.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import SQLAlchemyError

from arbiter.domain.evidence import utc

log = logging.getLogger("arbiter.partitions")
PARTITIONED = {"applications": "received_at", "decisions": "decided_at", "shadow_scores": "received_at"}
LOCK_KEY = 0x6172_6269_7465_73  # the partition makers' advisory lock
_MONTH = re.compile(r"_(\d{4})_(\d{2})$")


def month_of(moment: datetime) -> date:
    """The first day of the UTC month `moment` lies in."""
    return utc(moment).date().replace(day=1)


def add_months(month: date, months: int) -> date:
    index = month.year * 12 + month.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: date) -> str:
    return f"{table}_{month:%Y_%m}"


def _start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def months_present(conn: Connection, table: str) -> list[date]:
    """The months `table` has a partition for (Postgres)."""
    names = conn.execute(text("SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
                              "WHERE i.inhparent = to_regclass(:t)"), {"t": table}).scalars()
    found = [_MONTH.search(n) for n in names if n.startswith(f"{table}_")]
    return sorted(date(int(m[1]), int(m[2]), 1) for m in found if m)


def is_partitioned(conn: Connection) -> bool:
    return conn.dialect.name == "postgresql" and bool(conn.execute(text(
        "SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass('applications')")).scalar())


def create_months(conn: Connection, months: Iterable[date]) -> list[str]:
    """Create each table's partition for `months` (those missing), moving any of their rows the
    DEFAULT partition holds into them; the partitions created. Serialised among processes."""
    conn.execute(text(f"SELECT pg_advisory_xact_lock({LOCK_KEY})"))
    created = []
    for month in sorted(set(months)):
        low, high = _start(month), _start(add_months(month, 1))
        for table, key in PARTITIONED.items():
            name = partition_name(table, month)
            if conn.execute(text("SELECT to_regclass(:n)"), {"n": name}).scalar():
                continue
            bounds = f"FOR VALUES FROM ('{low.isoformat()}') TO ('{high.isoformat()}')"
            in_month = f"{key} >= :low AND {key} < :high"
            stray = conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {table}_default WHERE {in_month})"),
                                 {"low": low, "high": high}).scalar()
            if stray:  # a partition cannot be made for rows DEFAULT holds: take DEFAULT off while they move
                conn.execute(text(f"ALTER TABLE {table} DETACH PARTITION {table}_default"))
                conn.execute(text(f"CREATE TABLE {name} PARTITION OF {table} {bounds}"))
                conn.execute(text(f"INSERT INTO {name} SELECT * FROM {table}_default WHERE {in_month}"),
                             {"low": low, "high": high})
                conn.execute(text(f"DELETE FROM {table}_default WHERE {in_month}"), {"low": low, "high": high})
                conn.execute(text(f"ALTER TABLE {table} ATTACH PARTITION {table}_default DEFAULT"))
            else:
                conn.execute(text(f"CREATE TABLE {name} PARTITION OF {table} {bounds}"))
            created.append(name)
    return created


def stray_months(conn: Connection) -> set[date]:
    """The months of the rows the DEFAULT partitions hold."""
    months: set[date] = set()
    for table, key in PARTITIONED.items():
        months |= {d.date() for d in conn.execute(text(
            f"SELECT DISTINCT date_trunc('month', {key} AT TIME ZONE 'UTC') FROM {table}_default")).scalars()}
    return months


class Partitions:
    """The months this process knows have partitions, so that a worker asks the database once a month."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._known: set[date] | None = None  # None: not asked yet
        self._partitioned = engine.dialect.name == "postgresql"

    def ensure(self, moments: Iterable[datetime]) -> None:
        """Create the partitions for the months of `moments` that lack one. Best effort: a row
        whose month has none lands in DEFAULT, and `arbiter retention apply` moves it later."""
        if not self._partitioned:
            return
        months = {month_of(m) for m in moments}
        try:
            if self._known is None:
                with self.engine.connect() as conn:
                    self._partitioned = is_partitioned(conn)
                    self._known = set(months_present(conn, "shadow_scores"))
                if not self._partitioned:
                    return
            missing = months - self._known
            if missing:
                with self.engine.begin() as conn:
                    create_months(conn, missing)
                self._known |= missing
        except SQLAlchemyError as exc:
            log.warning("could not create the partitions for %s: %s", sorted(months), exc.__class__.__name__)


@dataclass
class RetentionResult:
    cutoff: date
    dropped: list[str]
    deleted: int
    created: list[str]


def apply_retention(conn: Connection, keep_months: int, *, now: datetime | None = None, ahead: int = 2,
                    dry_run: bool = False) -> RetentionResult:
    """Keep `keep_months` months of raw rows (the current one included): on Postgres drop older
    monthly partitions (and delete older rows DEFAULT holds), create the next `ahead` months and
    move stray rows out of DEFAULT; on SQLite delete the older rows."""
    this_month = month_of(now or datetime.now(UTC))
    cutoff = add_months(this_month, -(keep_months - 1))
    result = RetentionResult(cutoff, [], 0, [])
    postgres = conn.dialect.name == "postgresql" and is_partitioned(conn)
    for table, key in PARTITIONED.items():
        if postgres:
            old = [m for m in months_present(conn, table) if m < cutoff]
            result.dropped += [partition_name(table, m) for m in old]
            target = f"{table}_default"
        else:
            target = table
        result.deleted += conn.execute(text(f"SELECT count(*) FROM {target} WHERE {key} < :cutoff"),
                                       {"cutoff": _start(cutoff)}).scalar() or 0
    if dry_run:
        return result
    for name in result.dropped:
        conn.execute(text(f"DROP TABLE {name}"))
    for table, key in PARTITIONED.items():
        target = f"{table}_default" if postgres else table
        conn.execute(text(f"DELETE FROM {target} WHERE {key} < :cutoff"), {"cutoff": _start(cutoff)})
    if postgres:
        wanted = {add_months(this_month, i) for i in range(ahead + 1)} | stray_months(conn)
        result.created = create_months(conn, {m for m in wanted if m >= cutoff})
    return result

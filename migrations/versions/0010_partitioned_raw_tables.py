"""applications, decisions and shadow_scores partitioned by month on Postgres.

Range partitions on the moment the application arrived (`received_at`; a decision's `decided_at`
is that moment), one per month that holds rows plus the current and the next two, and a DEFAULT
partition for rows of months nobody created yet (`arbiter.store.partitions` makes new months and
moves such rows). A partitioned table's primary key must hold the partition key, so the keys
become (application_id, received_at), (application_id, decided_at) and (application_id, model_id,
received_at): a redelivered message carries the same moment, so it still makes no second row
(and the writers skip an application id already stored at another moment). shadow_scores rows
stored before 0009 without the application's arrival take their scoring time. The rows are
copied; the views are made again from their frozen copies. JIT is turned off for the database
(it cost the views more than it saved). SQLite keeps plain tables with the same keys.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 07:00:00
"""

import warnings
from collections.abc import Sequence
from datetime import UTC, date, datetime

import sqlalchemy as sa
from alembic import op

from migrations.frozen_views import create_view

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None
TABLES = {"applications": ("received_at", ["application_id", "received_at"], ["application_id"]),
          "decisions": ("decided_at", ["application_id", "decided_at"], ["application_id"]),
          "shadow_scores": ("received_at", ["application_id", "model_id", "received_at"],
                            ["application_id", "model_id"])}
VIEWS = {"model_scores": "0004", "champion_challenger_comparison": "0007", "model_daily_performance": "0008",
         "score_distribution": "0008", "shadow_coverage": "0009", "model_drift": "0009"}


def upgrade() -> None:
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    op.execute("UPDATE shadow_scores SET received_at = scored_at WHERE received_at IS NULL")
    for table, (key, primary, _) in TABLES.items():
        if op.get_bind().dialect.name == "postgresql":
            _copy(table, key, primary, partitioned=True)
        else:
            _rekey_sqlite(table, key, primary)
    for view, frozen in VIEWS.items():
        create_view(frozen, view)
    if op.get_bind().dialect.name == "postgresql":  # for strategists' own sessions too (psql, BI tools)
        op.execute(JIT.format(setting="SET jit = off"))


# JIT compilation costs the views more than it saves (0.6 s of 0.62 s for shadow_coverage); only the
# database's owner may change its settings, so a role that is not goes on without (Arbiter's own
# connections turn JIT off themselves)
JIT = """DO $$ BEGIN
  EXECUTE format('ALTER DATABASE %I {setting}', current_database());
EXCEPTION WHEN insufficient_privilege THEN
  RAISE NOTICE 'not the database owner: JIT left as it is';
END $$"""


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(JIT.format(setting="RESET jit"))
    for view in VIEWS:
        op.execute(f"DROP VIEW IF EXISTS {view}")
    for table, (key, _, primary) in TABLES.items():
        if op.get_bind().dialect.name == "postgresql":
            _copy(table, key, primary, partitioned=False)
        else:
            _rekey_sqlite(table, key, primary)
    for view, frozen in VIEWS.items():
        create_view(frozen, view)


def _copy(table: str, key: str, primary: list[str], *, partitioned: bool) -> None:
    """`table` made again (partitioned by month on `key`, or plain) with the primary key `primary`,
    its rows, foreign keys and indexes (when going back to a plain table, the first row of each key stays)."""
    bind = op.get_bind()
    foreign = bind.execute(sa.text("SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
                                   "WHERE conrelid = to_regclass(:t) AND contype = 'f'"), {"t": table}).all()
    indexes = bind.execute(sa.text("SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
                                   "AND tablename = :t AND indexname <> :pk"), {"t": table, "pk": f"pk_{table}"}).all()
    op.execute(f"ALTER TABLE {table} RENAME TO {table}_before_0010")
    old = f"{table}_before_0010"
    like = f"(LIKE {old} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"
    if partitioned:
        op.execute(f"CREATE TABLE {table} {like} PARTITION BY RANGE ({key})")
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {key} SET NOT NULL")
        op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
        now = datetime.now(UTC)
        months = {m.date() for m in bind.execute(sa.text(
            f"SELECT DISTINCT date_trunc('month', {key} AT TIME ZONE 'UTC') FROM {old}")).scalars()}
        months |= {_month(now.year * 12 + now.month - 1 + ahead) for ahead in range(3)}
        for month in sorted(months):
            after = _month(month.year * 12 + month.month)
            op.execute(f"CREATE TABLE {table}_{month:%Y_%m} PARTITION OF {table} FOR VALUES "
                       f"FROM ('{month.isoformat()} 00:00:00+00') TO ('{after.isoformat()} 00:00:00+00')")
        op.execute(f"INSERT INTO {table} SELECT * FROM {old}")
    else:
        op.execute(f"CREATE TABLE {table} {like}")
        op.execute(f"INSERT INTO {table} SELECT DISTINCT ON ({', '.join(primary)}) * FROM {old} "
                   f"ORDER BY {', '.join(primary)}, {key}")
    op.execute(f"DROP TABLE {old}")
    op.execute(f"ALTER TABLE {table} ADD CONSTRAINT pk_{table} PRIMARY KEY ({', '.join(primary)})")
    for name, definition in foreign:
        op.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
    for _, definition in indexes:
        op.execute(definition)  # read before the rename: it names the table as it is called again now


def _month(index: int) -> date:
    """The first day of month `index` (year * 12 + month - 1)."""
    return date(index // 12, index % 12 + 1, 1)


def _rekey_sqlite(table: str, key: str, primary: list[str]) -> None:
    """SQLite: the table copied with primary key `primary` (batch mode)."""
    with warnings.catch_warnings():  # SQLAlchemy notes that the copy's key differs from the original's: it should
        warnings.filterwarnings("ignore", message=".*not matching locally specified columns")
        with op.batch_alter_table(table, recreate="always") as batch:
            if table == "shadow_scores":
                batch.alter_column("received_at", existing_type=sa.DateTime(timezone=True),
                                   nullable=key not in primary)
            batch.create_primary_key(f"pk_{table}", primary)

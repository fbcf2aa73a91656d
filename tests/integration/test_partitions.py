"""Monthly partitions of the raw tables on Postgres, the writers' idempotency over them, and
retention: old months dropped while the views still show them from the evidence aggregates."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, func, insert, select, text

from arbiter.bootstrap import Platform, bootstrap
from arbiter.config import Settings
from arbiter.domain.errors import Invalid
from arbiter.governance.retention import apply_retention
from arbiter.insights.evidence import rebuild
from arbiter.store import migrate, tables
from arbiter.store.partitions import Partitions, months_present
from tests.integration.conftest import ADMIN_DSN, _admin
from tests.integration.strategist_data import add_model, add_scores

pytestmark = pytest.mark.integration
JAN, MAR = datetime(2025, 1, 20, 10, tzinfo=UTC), datetime(2025, 3, 5, 23, 30, tzinfo=UTC)


@pytest.fixture
def scratch_pg() -> Iterator[str]:
    name = f"arbiter_part_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    yield ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://", 1) + f"/{name}"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _count(conn, table: str) -> int:  # type: ignore[no-untyped-def]
    return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar()


def test_upgrade_moves_existing_rows_into_monthly_partitions_and_back(scratch_pg: str) -> None:
    engine = create_engine(scratch_pg)
    migrate.upgrade(engine, "0009")
    with engine.begin() as conn:
        conn.execute(insert(tables.Detector).values(name="card-transactions", description="", input_schema={},
                                                    schema_fingerprint="x"))
        add_model(conn, "m-1")
        for i, at in enumerate((JAN, JAN + timedelta(days=3), MAR)):
            conn.execute(text("INSERT INTO applications (application_id, detector, received_at, payload, amount, "
                              "schema_version) VALUES (:a, 'card-transactions', :t, '{}', 1.0, 1)"),
                         {"a": f"a{i}", "t": at})
            conn.execute(text("INSERT INTO decisions (application_id, detector, model_id, score, decision, reasons, "
                              "decided_at) VALUES (:a, 'card-transactions', 'm-1', 0.1, 'approve', '[]', :t)"),
                         {"a": f"a{i}", "t": at})
            conn.execute(text("INSERT INTO shadow_scores (application_id, model_id, detector, score, decision, "
                              "scored_at, received_at) VALUES (:a, 'm-1', 'card-transactions', 0.2, 'approve', :s, "
                              ":r)"), {"a": f"a{i}", "s": at + timedelta(seconds=5), "r": at if i else None})
    migrate.upgrade(engine, "head")
    with engine.connect() as conn:
        for table in ("applications", "decisions", "shadow_scores"):
            assert _count(conn, table) == 3
            assert {m.isoformat() for m in months_present(conn, table)} >= {"2025-01-01", "2025-03-01"}
            assert _count(conn, f"{table}_2025_01") == 2 and _count(conn, f"{table}_default") == 0
        assert conn.execute(text("SELECT count(*) FROM shadow_scores WHERE received_at IS NULL")).scalar() == 0
        assert _count(conn, "model_scores") == 6  # the views were made again over the new tables
    migrate.downgrade(engine, "0009")
    with engine.connect() as conn:
        assert all(_count(conn, t) == 3 for t in ("applications", "decisions", "shadow_scores"))
        assert not conn.execute(text("SELECT count(*) FROM pg_partitioned_table")).scalar()
    engine.dispose()


def test_a_month_nobody_created_lands_in_default_and_moves_to_its_own_partition(platform: Platform) -> None:
    at = datetime(2031, 5, 17, 8, tzinfo=UTC)
    with platform.engine.begin() as conn:
        add_model(conn, "m-1")
        add_scores(conn, "m-1", [("far-1", at, 0.3, "approve", None, 1.0)])
    with platform.engine.connect() as conn:
        assert _count(conn, "applications_default") == 1
    Partitions(platform.engine).ensure([at, at + timedelta(days=1)])
    with platform.engine.connect() as conn:
        assert _count(conn, "applications_default") == 0 and _count(conn, "shadow_scores_default") == 0
        assert _count(conn, "applications_2031_05") == 1 and _count(conn, "shadow_scores_2031_05") == 1


def test_the_first_of_an_application_id_stands_when_it_is_sent_again_later(db: Platform) -> None:
    from arbiter.broker.codec import MessageCodec
    from shadow_workers.handlers import RecorderHandler
    from tests.integration.test_evidence import _write  # the workers' handlers, over deliveries

    with db.engine.begin() as conn:
        add_model(conn, "m-champ", status="champion")
    recorder = RecorderHandler("arbiter.recorder", MessageCodec(), db.hasher)
    record = {f"V{i}": 0.0 for i in range(1, 29)} | {"Time": 1.0, "Amount": 10.0}
    result = {"application_id": "twice", "score": 0.1, "decision": "approve", "reasons": [],
              "model": {"id": "m-champ", "name": "m-champ", "version": 1}, "strategy_version": 1,
              "rules_version": 1, "elapsed_ms": 1.0}
    for at in (JAN, JAN, MAR):  # a redelivery, then the same id sent again weeks later
        _write(db, recorder, [(record, result, at)])
    with db.sessions() as session:
        assert session.scalar(select(func.count()).select_from(tables.Application)) == 1
        assert session.scalar(select(func.count()).select_from(tables.Decision)) == 1
        assert session.scalar(select(func.sum(tables.EvidenceDecision.applications))) == 1


def test_retention_drops_old_months_and_the_views_still_show_them(db: Platform) -> None:
    now = datetime(2026, 6, 15, tzinfo=UTC)
    old, recent = datetime(2025, 3, 10, 12, tzinfo=UTC), datetime(2026, 5, 2, 12, tzinfo=UTC)
    with db.engine.begin() as conn:
        add_model(conn, "m-1")
        add_scores(conn, "m-1", [(f"o{i}", old, 0.1 * i, "approve", i % 2 == 0, 5.0) for i in range(6)]
                   + [(f"r{i}", recent, 0.1 * i, "approve", i % 2 == 1, 5.0) for i in range(4)])
    Partitions(db.engine).ensure([old, recent])
    rebuild(db)
    with pytest.raises(Invalid, match="label maturity"):
        apply_retention(db, "1mo", now=now)
    preview = apply_retention(db, "13mo", now=now, dry_run=True)
    with db.engine.connect() as conn:
        assert _count(conn, "applications") == 10
    assert preview.cutoff.isoformat() == "2025-06-01"
    result = apply_retention(db, "13mo", now=now)
    if db.engine.dialect.name == "postgresql":
        assert "applications_2025_03" in result.dropped and "shadow_scores_2025_03" in result.dropped
        with db.engine.connect() as conn:
            assert {"2026-06-01", "2026-07-01", "2026-08-01"} <= {m.isoformat()
                                                                  for m in months_present(conn, "applications")}
    else:
        assert result.deleted == 6 * 2  # applications and shadow scores (no decisions stored)
    rebuild(db)  # a rebuild after retention leaves the dropped days alone
    with db.engine.connect() as conn:
        assert _count(conn, "applications") == 4
        days = {str(r.day): r for r in conn.execute(text(
            "SELECT day, volume, labelled FROM model_daily_performance WHERE model_id = 'm-1'"))}
    assert days["2025-03-10"].volume == 6 and days["2025-03-10"].labelled == 6
    assert days["2026-05-02"].volume == 4


def test_retention_command_says_what_it_drops(cli_env: dict[str, str], tmp_path: Path) -> None:
    from arbiter.cli import cli

    result = CliRunner().invoke(cli, ["retention", "apply", "--keep", "24mo", "--dry-run"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "would drop" in result.output
    bad = CliRunner().invoke(cli, ["retention", "apply", "--keep", "soon"], env=cli_env)
    assert bad.exit_code == 1 and "expected a number of months" in bad.output


def test_sqlite_tables_stay_plain(tmp_path: Path) -> None:
    lite = bootstrap(Settings(database_url=f"sqlite:///{tmp_path / 'p.db'}", registry_dir=tmp_path / "r"))
    lite.upgrade_database()
    Partitions(lite.engine).ensure([JAN])  # nothing to do, nothing raised
    with lite.engine.connect() as conn:
        assert "applications_default" not in {r[0] for r in conn.execute(text(
            "SELECT name FROM sqlite_master WHERE type = 'table'"))}
    lite.close()


def test_rebuild_command_recounts_days_in_parallel(platform: Platform, cli_env: dict[str, str]) -> None:
    from arbiter.cli import cli

    empty = CliRunner().invoke(cli, ["evidence", "rebuild"], env=cli_env)
    assert empty.exit_code == 1 and "nothing to rebuild" in empty.output
    with platform.engine.begin() as conn:
        add_model(conn, "m-1")
        add_scores(conn, "m-1", [(f"d{i}", JAN + timedelta(days=i % 5), 0.1, "approve", None, 1.0) for i in range(20)])
    result = CliRunner().invoke(cli, ["evidence", "rebuild", "--jobs", "3"], env=cli_env)
    assert result.exit_code == 0, result.output
    assert "rebuilt 5 days: 20 scores counted" in result.output
    with platform.engine.connect() as conn:
        assert conn.execute(text("SELECT sum(scored) FROM evidence_shadow_hours")).scalar() == 20
        assert conn.execute(text("SELECT count(*) FROM evidence_daily")).scalar() == 5

"""Alembic migrations on a fresh Postgres database (and SQLite for the embedded mode)."""

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import inspect, text

from arbiter.bootstrap import Platform, bootstrap
from arbiter.config import Settings
from arbiter.store import migrate
from arbiter.store.tables import metadata

pytestmark = pytest.mark.integration
CONTRACT_TABLES = {"detectors", "models", "promotions", "strategies", "rules", "applications", "decisions",
                   "shadow_scores", "outcomes"}


def test_migrations_create_the_contract_tables_on_postgres(migrated: Platform) -> None:
    tables = set(inspect(migrated.engine).get_table_names())
    assert tables >= CONTRACT_TABLES
    assert migrate.current_revision(migrated.engine) == migrate.head_revision()


def test_migrated_schema_matches_the_table_metadata(migrated: Platform) -> None:
    inspector = inspect(migrated.engine)
    for table in metadata.sorted_tables:
        columns = {c["name"] for c in inspector.get_columns(table.name)}
        assert columns == {c.name for c in table.columns}, table.name


def test_upgrade_is_idempotent_and_seeds_detectors(platform: Platform) -> None:
    platform.upgrade_database()
    platform.upgrade_database()
    from arbiter.store import tables

    with platform.sessions() as session:
        names = {d.name for d in session.query(tables.Detector)}
    assert names == {"card-applications", "card-transactions"}


def test_sqlite_round_trip(tmp_path: Path) -> None:
    platform = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/a.db", registry_dir=tmp_path / "r"))
    try:
        platform.upgrade_database()
        assert set(inspect(platform.engine).get_table_names()) >= CONTRACT_TABLES
        migrate.downgrade(platform.engine, "base")
        assert not CONTRACT_TABLES & set(inspect(platform.engine).get_table_names())
        platform.upgrade_database()
        assert set(inspect(platform.engine).get_table_names()) >= CONTRACT_TABLES
    finally:
        platform.close()


OLD_REVISION_VIEWS = {"0002": ["shadow_coverage"],
                      "0004": ["model_scores", "model_daily_performance", "champion_challenger_comparison",
                               "score_distribution"],
                      "0005": ["model_drift"]}
MARKER = "edited_after_the_fact"


@pytest.fixture
def edited_live_views() -> Iterator[None]:
    """Every live view file edited on disk (a column added), as someone changing a view would;
    restored afterwards."""
    from arbiter.insights import views

    originals = {name: views.live_text(name) for names in OLD_REVISION_VIEWS.values() for name in names}
    try:
        for name, sql in originals.items():
            head, _, rest = sql.partition("SELECT")
            (Path(views.__file__).parent / f"{name}.sql").write_text(f"{head}SELECT 1 AS {MARKER}, {rest}")
        yield
    finally:
        for name, sql in originals.items():
            (Path(views.__file__).parent / f"{name}.sql").write_text(sql)


def test_editing_a_live_view_changes_no_old_revision_on_sqlite(tmp_path: Path, edited_live_views: None) -> None:
    from arbiter.insights.views import live_text
    from arbiter.store.dialect_sql import expand
    from migrations.frozen_views import frozen_text

    platform = bootstrap(Settings(database_url=f"sqlite:///{tmp_path}/a.db", registry_dir=tmp_path / "r"))
    try:
        for revision, names in OLD_REVISION_VIEWS.items():
            migrate.upgrade(platform.engine, revision)
            with platform.engine.connect() as conn:
                for name in names:
                    created = conn.execute(text("SELECT sql FROM sqlite_master WHERE type = 'view' AND name = :n"),
                                           {"n": name}).scalar_one()
                    assert MARKER in live_text(name)  # the live file really was edited
                    frozen = f"CREATE VIEW {name} AS\n{expand(frozen_text(revision, name), 'sqlite')}"
                    assert created.rstrip() == frozen.rstrip()
                    assert MARKER not in created
    finally:
        platform.close()


def test_editing_a_live_view_changes_no_old_revision_on_postgres(pg_url: str, tmp_path: Path,
                                                                  edited_live_views: None) -> None:
    from tests.integration.conftest import _admin

    name = f"arbiter_history_{uuid.uuid4().hex[:8]}"
    _admin(f'CREATE DATABASE "{name}"')
    platform = bootstrap(Settings(database_url=f"{pg_url.rsplit('/', 1)[0]}/{name}", registry_dir=tmp_path / "r"))
    try:
        migrate.upgrade(platform.engine, "0005")
        inspector = inspect(platform.engine)
        for names in OLD_REVISION_VIEWS.values():
            for view in names:
                columns = [c["name"] for c in inspector.get_columns(view)]
                assert columns and MARKER not in columns, view
    finally:
        platform.close()
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

"""Alembic migrations on a fresh Postgres database (and SQLite for the embedded mode)."""

from pathlib import Path

import pytest
from sqlalchemy import inspect

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

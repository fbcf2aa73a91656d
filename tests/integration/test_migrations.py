"""Alembic migrations on a fresh Postgres database (and SQLite for the embedded mode)."""

import json
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


@pytest.mark.parametrize("dialect", ["postgresql", "sqlite"])
def test_models_registered_before_0013_start_with_their_detectors_thresholds(dialect: str, pg_url: str,
                                                                            tmp_path: Path) -> None:
    from tests.integration.conftest import _admin

    name = f"arbiter_strategies_{uuid.uuid4().hex[:8]}"
    url = f"{pg_url.rsplit('/', 1)[0]}/{name}" if dialect == "postgresql" else f"sqlite:///{tmp_path}/a.db"
    if dialect == "postgresql":
        _admin(f'CREATE DATABASE "{name}"')
    platform = bootstrap(Settings(database_url=url, registry_dir=tmp_path / "r"))
    try:
        migrate.upgrade(platform.engine, "0012")
        with platform.engine.begin() as conn:
            conn.execute(text("INSERT INTO detectors (name, description, input_schema, schema_fingerprint, created_at, "
                              "updated_at) VALUES ('card-transactions', '', '{}', 'x', CURRENT_TIMESTAMP, "
                              "CURRENT_TIMESTAMP)"))
            for version, review, decline in ((1, 0.5, 0.8), (2, 0.4, 0.7)):
                conn.execute(text("INSERT INTO strategies (detector, version, review_threshold, decline_threshold, "
                                  "note, created_by, created_at) VALUES ('card-transactions', :v, :r, :d, '', 'x', "
                                  "CURRENT_TIMESTAMP)"), {"v": version, "r": review, "d": decline})
            conn.execute(text(
                "INSERT INTO models (id, detector, name, version, flavour, recipe, runtime, sha256, status, location, "
                "metrics, certification, manifest, registered_at, registered_by, status_changed_at) VALUES "
                "('m.v1', 'card-transactions', 'm', 1, 'sklearn', 'rf', 'onnx', 'abc', 'shadow', 'x', '{}', '{}', "
                "'{}', CURRENT_TIMESTAMP, 'x', CURRENT_TIMESTAMP)"))
        migrate.upgrade(platform.engine, "head")
        with platform.engine.connect() as conn:
            row = conn.execute(text("SELECT model_id, version, review_threshold, decline_threshold, basis "
                                    "FROM model_strategies")).one()
        basis = row.basis if isinstance(row.basis, dict) else json.loads(row.basis)
        assert (row.model_id, row.version, row.review_threshold, row.decline_threshold) == ("m.v1", 1, 0.4, 0.7)
        assert basis["method"] == "detector strategy"
    finally:
        platform.close()
        if dialect == "postgresql":
            _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

"""Integration fixtures: a fresh database on the real Postgres, migrated by Alembic.

Postgres is not optional here: if it is unreachable the tests fail with a clear message
(CI starts it; see .ci/run). Set ARBITER_TEST_PG_ADMIN_URL to point elsewhere.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest
from sqlalchemy import text

from arbiter.bootstrap import Platform, bootstrap
from arbiter.broker.memory import MemoryBroker
from arbiter.config import Settings
from arbiter.store.tables import metadata
from tests.conftest import PII_KEY

ADMIN_DSN = os.environ.get("ARBITER_TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _admin(sql: str) -> None:
    try:
        conn = psycopg2.connect(ADMIN_DSN, connect_timeout=5)
    except psycopg2.OperationalError as exc:
        pytest.fail(f"the integration tests need the real Postgres at {ADMIN_DSN}: {exc}", pytrace=False)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute(sql)
    conn.close()


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A brand-new, empty database for this test session; dropped afterwards."""
    name = f"arbiter_test_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    base = ADMIN_DSN.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg2://", 1)
    yield f"{base}/{name}"
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def migrated(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    settings = Settings(database_url=pg_url, registry_dir=tmp_path_factory.mktemp("registry"),
                        spool_dir=tmp_path_factory.mktemp("spool"), pii_key=PII_KEY, governance="off")
    platform = bootstrap(settings)
    platform.upgrade_database()
    yield platform
    platform.close()


@pytest.fixture
def platform(migrated: Platform, tmp_path: Path) -> Iterator[Platform]:
    """The migrated platform with empty tables (detectors re-seeded) and its own registry dir."""
    migrated.settings.registry_dir = tmp_path / "registry"
    migrated.settings.governance = "off"  # a lab: each step at once; the `four_eyes` fixture turns them on
    with migrated.engine.begin() as conn:
        names = ", ".join(t.name for t in reversed(metadata.sorted_tables))
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    migrated.upgrade_database()
    if isinstance(migrated.broker, MemoryBroker):
        # one per process: an earlier test's messages its workers did not drain in time (a slow machine)
        # would be consumed by this test's workers, for models of the same ids
        migrated.broker.reset()
    yield migrated


@pytest.fixture
def cli_env(platform: Platform) -> dict[str, str]:
    """Environment for running the `arbiter` CLI as a subprocess against the test database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ARBITER_")}
    env |= {
        "ARBITER_DATABASE_URL": platform.settings.database_url,
        "ARBITER_REGISTRY_DIR": str(platform.settings.registry_dir),
        "ARBITER_SPOOL_DIR": str(platform.settings.spool_dir),
        "ARBITER_PII_KEY": PII_KEY,
        "ARBITER_GOVERNANCE": platform.settings.governance,
    }
    return env


@pytest.fixture
def four_eyes(platform: Platform) -> Platform:
    """The platform with four eyes, as in production (the default setting)."""
    platform.settings.governance = "four-eyes"
    return platform


@pytest.fixture(params=["postgresql", "sqlite"])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Platform]:
    """The migrated platform on the real Postgres, then on SQLite (embedded mode): tests that must
    hold on both."""
    if request.param == "postgresql":
        yield request.getfixturevalue("platform")
        return
    lite = bootstrap(Settings(database_url=f"sqlite:///{tmp_path / 'lite.db'}", registry_dir=tmp_path / "r",
                              governance="off"))
    lite.upgrade_database()
    yield lite
    lite.close()

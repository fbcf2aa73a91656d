"""Composes the platform once, for every entrypoint (CLI, HTTP gateway, message consumer)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from arbiter.broker.factory import make_broker
from arbiter.broker.transport import Broker
from arbiter.config import Settings, get_settings
from arbiter.domain.pii import PiiHasher
from arbiter.store import config_repo, migrate, models_repo
from arbiter.store.db import make_engine, session_factory
from models.detectors import DETECTORS
from models.identity import DEV_KEY, deployment_key


def identity_key_of(settings: Settings) -> bytes:
    """`settings`' ARBITER_PII_KEY as bytes, the development key when unset (as `PiiHasher` does)."""
    return deployment_key(settings.pii_key.get_secret_value() if settings.pii_key else DEV_KEY)


@dataclass
class Platform:
    """What every entrypoint needs: settings, the database, sessions, the PII hasher and the broker."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    hasher: PiiHasher
    broker: Broker

    @property
    def identity_key(self) -> bytes:
        """ARBITER_PII_KEY (the development key when unset): what bundles' reuse tables are keyed by."""
        return identity_key_of(self.settings)

    def upgrade_database(self) -> str | None:
        """Run the migrations and record the declared detectors; the revision now in force."""
        migrate.upgrade(self.engine)
        with self.sessions() as session, session.begin():
            for detector in DETECTORS.values():
                models_repo.ensure_detector(session, detector)
            config_repo.seed_defaults(session, self.hasher)
        return migrate.current_revision(self.engine)

    def database_status(self) -> str:
        """`ok` when the database answers a trivial query, else what is wrong (for /readyz)."""
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception as exc:
            return f"unreachable: {type(exc).__name__}"
        return "ok"

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(settings: Settings | None = None) -> Platform:
    """The composed platform for `settings` (the environment's by default)."""
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    key = settings.pii_key.get_secret_value().encode() if settings.pii_key else None
    return Platform(settings=settings, engine=engine, sessions=session_factory(engine), hasher=PiiHasher(key),
                    broker=make_broker(settings.broker_url))

"""Composes the platform once, for every entrypoint (CLI, HTTP gateway, message consumer)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from arbiter.config import Settings, get_settings
from arbiter.store import migrate, models_repo
from arbiter.store.db import make_engine, session_factory
from models.detectors import DETECTORS


@dataclass
class Platform:
    """What every entrypoint needs: settings, the database engine and a session factory."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]

    def upgrade_database(self) -> str | None:
        """Run the migrations and record the declared detectors; the revision now in force."""
        migrate.upgrade(self.engine)
        with self.sessions() as session, session.begin():
            for detector in DETECTORS.values():
                models_repo.ensure_detector(session, detector)
        return migrate.current_revision(self.engine)

    def close(self) -> None:
        self.engine.dispose()


def bootstrap(settings: Settings | None = None) -> Platform:
    """The composed platform for `settings` (the environment's by default)."""
    settings = settings or get_settings()
    engine = make_engine(settings.database_url)
    return Platform(settings=settings, engine=engine, sessions=session_factory(engine))

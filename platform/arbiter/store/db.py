"""Engines and sessions for Postgres (production) and SQLite (embedded mode)."""

from __future__ import annotations

import math
from pathlib import Path

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker


def make_engine(url: str) -> Engine:
    """An engine for `url`; SQLite gets its folder created, foreign keys on, WAL and synchronous=NORMAL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA journal_mode=WAL")
            # WAL + NORMAL: consistent after any crash; a power cut may lose the last commits.
            # Fine for the embedded mode; production runs on Postgres.
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.close()
            # the views use sqrt(), floor() and ln(); SQLite builds without the math functions lack them
            dbapi_connection.create_function("sqrt", 1, _sqrt, deterministic=True)
            dbapi_connection.create_function("floor", 1, _floor, deterministic=True)
            dbapi_connection.create_function("ln", 1, _ln, deterministic=True)

        return engine
    # JIT compiles a plan when its estimated cost is high, as the views' are (subqueries over the
    # partitions); compiling took 0.6 s of shadow_coverage's 0.62 s on a million applications, and no
    # query Arbiter runs reads enough rows to win it back. Migration 0010 sets it for the database too.
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5,
                         connect_args={"options": "-c jit=off"})


def _sqrt(value: float | None) -> float | None:
    return math.sqrt(value) if value is not None and value >= 0 else None


def _floor(value: float | None) -> float | None:
    return float(math.floor(value)) if value is not None else None


def _ln(value: float | None) -> float | None:
    return math.log(value) if value is not None and value > 0 else None


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)

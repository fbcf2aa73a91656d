"""What an operator's alerts read from the database, for the gateway's /metrics: each open shadow
window's coverage and lag (`shadow_coverage`), and each model's population stability on the latest
day it scored (`model_drift`). Both views read the evidence aggregates, so this stays a few
milliseconds at any volume; the gateway refreshes it at most every ARBITER_OPERATIONS_INTERVAL."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from arbiter.bootstrap import Platform
from arbiter.insights.reporting import Window, latest_drift

log = logging.getLogger(__name__)
_COVERAGE = text("SELECT detector, model_id, published, scored, lag_seconds FROM shadow_coverage "
                 "WHERE stopped_at IS NULL")


@dataclass(frozen=True)
class ShadowWindow:
    detector: str
    model_id: str
    coverage: float  # scored / published (1.0 before anything was published)
    lag_seconds: float


@dataclass(frozen=True)
class Drift:
    detector: str
    model_id: str
    kind: str
    variable: str
    psi: float


@dataclass(frozen=True)
class Operations:
    shadow: list[ShadowWindow] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)


def read_operations(platform: Platform, now: datetime | None = None) -> Operations:
    """The open shadow windows and the latest day's drift (days before yesterday are not today's news)."""
    since = (now or datetime.now(UTC)) - timedelta(days=1)
    with platform.engine.connect() as conn:
        shadow = [ShadowWindow(r.detector, r.model_id, r.scored / r.published if r.published else 1.0,
                               float(r.lag_seconds or 0.0)) for r in conn.execute(_COVERAGE)]
        drift = [Drift(r["detector"], r["model_id"], r["kind"], r["variable"], float(r["psi"]))
                 for r in latest_drift(conn, Window(since=since)) if r["psi"] is not None]
    return Operations(shadow, drift)


class OperationsCache:
    """`read_operations` at most every `interval` seconds (scrapes come more often, from every replica)."""

    def __init__(self, platform: Platform, interval: float) -> None:
        self.platform, self.interval = platform, interval
        self._lock = threading.Lock()
        self._value: Operations | None = None
        self._at = 0.0

    def get(self) -> Operations | None:
        """The latest reading; None when the database cannot be read (the other metrics still serve)."""
        with self._lock:
            if self._value is None or time.monotonic() - self._at >= self.interval:
                try:
                    self._value = read_operations(self.platform)
                except SQLAlchemyError as exc:  # a scrape must answer; /readyz reports the database
                    if self._value is not None or self._at == 0.0:  # once per outage, not per scrape
                        log.warning("shadow coverage and drift unreadable for /metrics: %s", type(exc).__name__)
                    self._value = None
                self._at = time.monotonic()
            return self._value

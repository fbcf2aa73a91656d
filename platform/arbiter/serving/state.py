"""What a gateway process serves with: per detector, the champion, strategy and rules in force.

The state is an immutable snapshot swapped in one reference assignment, so a request sees
either the old champion or the new one, fully loaded, never half of either. A background
thread compares a cheap fingerprint of the database (champion ids, strategy and rule
versions) every `interval` seconds and rebuilds the snapshot when it changes; promotions
and rollbacks thereby reach every worker process without a restart and without any database
I/O on the request path.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from arbiter.domain.rules import CompiledRules
from arbiter.domain.strategies import Strategy
from arbiter.store import config_repo, models_repo, tables
from models.detectors import DETECTORS, Detector
from models.runtimes import Runtime

log = logging.getLogger(__name__)
Fingerprint = tuple[tuple[str, str | None, int, int], ...]


@dataclass(frozen=True)
class Champion:
    model_id: str
    name: str
    version: int
    runtime: Runtime


@dataclass(frozen=True)
class DetectorState:
    detector: Detector
    champion: Champion | None
    strategy: Strategy
    rules: CompiledRules


@dataclass(frozen=True)
class Snapshot:
    detectors: dict[str, DetectorState] = field(default_factory=dict)
    fingerprint: Fingerprint = ()


def read_fingerprint(session: Session) -> Fingerprint:
    """Per detector: (name, champion id, strategy version, rules version), in three small queries."""
    champions = dict(session.execute(select(tables.Model.detector, tables.Model.id)
                                     .where(tables.Model.status == "champion")).all())
    strategies = dict(session.execute(select(tables.Strategy.detector, func.max(tables.Strategy.version))
                                      .group_by(tables.Strategy.detector)).all())
    rules = dict(session.execute(select(tables.RuleSet.detector, func.max(tables.RuleSet.version))
                                 .group_by(tables.RuleSet.detector)).all())
    return tuple((name, champions.get(name), strategies.get(name, 0), rules.get(name, 0)) for name in sorted(DETECTORS))


@contextmanager
def quick_thread_switches(interval: float = 0.001) -> Iterator[None]:
    """Hand the GIL around every `interval` s while this thread loads a new snapshot.

    Under load the event loop holds the GIL, and at Python's default 5 ms switch interval every
    GIL handback during a model load (file reads, hashing, onnxruntime) waits that long: a
    promotion took 1.5 s to land. Only for the rebuild: at 1 ms throughout, the publisher thread
    costs the event loop 15% of its requests/s.
    """
    previous = sys.getswitchinterval()
    sys.setswitchinterval(min(previous, interval))
    try:
        yield
    finally:
        sys.setswitchinterval(previous)


class ServingState:
    """Holds the current snapshot and rebuilds it when the database says something changed."""

    def __init__(self, sessions: sessionmaker[Session], registry_dir: Path, identity_key: bytes,
                 interval: float = 0.5) -> None:
        self._sessions = sessions
        self._registry_dir = Path(registry_dir)
        self._identity_key = identity_key
        self._interval = interval
        self._snapshot = Snapshot()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_error: str | None = None
        self.refused: dict[str, str] = {}  # models whose bundle no longer matches its registration

    @property
    def snapshot(self) -> Snapshot:
        return self._snapshot

    def refresh(self) -> bool:
        """Rebuild the snapshot if the fingerprint changed; True when it did."""
        with self._lock, self._sessions() as session:
            fingerprint = read_fingerprint(session)
            if fingerprint == self._snapshot.fingerprint:
                return False
            with quick_thread_switches():
                self._snapshot = self._rebuilt(session, fingerprint)
        log.info("serving state changed: %s", [(n, c, s, r) for n, c, s, r in fingerprint])
        return True

    def _rebuilt(self, session: Session, fingerprint: Fingerprint) -> Snapshot:
        current = self._snapshot.detectors
        states: dict[str, DetectorState] = {}
        for name, champion_id, _, _ in fingerprint:
            states[name] = self._build(session, DETECTORS[name], champion_id, current.get(name))
        return Snapshot(states, fingerprint)

    def _build(self, session: Session, detector: Detector, champion_id: str | None,
               previous: DetectorState | None) -> DetectorState:
        champion = previous.champion if previous and previous.champion and \
            previous.champion.model_id == champion_id else None
        if champion_id and champion is None:
            model = session.get(tables.Model, champion_id)
            try:  # verified against its registered digest and fully loaded here
                runtime = models_repo.load_registered(self._registry_dir, model, self._identity_key)
            except models_repo.IntegrityFailure as exc:
                self.refused[model.id] = str(exc)
                raise
            self.refused.pop(model.id, None)
            champion = Champion(model.id, model.name, model.version, runtime)
        strategy = config_repo.strategy_in_force(session, detector.name)
        rules_row = config_repo.current_rules(session, detector.name)
        rules = CompiledRules.compile(rules_row.version, rules_row.body) if rules_row else CompiledRules(0)
        return DetectorState(detector, champion, strategy, rules)

    def start(self) -> None:
        """Load now, then keep watching in a daemon thread."""
        self.try_refresh()
        self._thread = threading.Thread(target=self._watch, name="serving-state", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(timeout=5)

    def _watch(self) -> None:
        while not self._stop.wait(self._interval):
            self.try_refresh()

    def try_refresh(self) -> None:
        """`refresh`, keeping the last good snapshot (and saying why in `last_error`) when it fails."""
        try:
            self.refresh()
            self.last_error = None
        except Exception as exc:  # keep serving the last good snapshot
            self.last_error = f"{type(exc).__name__}: {exc}"
            log.warning("could not refresh serving state: %s", self.last_error)

"""The worker's batch logic on the in-process broker and SQLite: retries, dead letters, idempotence.

A fake runtime (unit tests may fake) fails on one marked record so the retry path can be seen.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from arbiter.bootstrap import Platform, bootstrap
from arbiter.broker import topology
from arbiter.broker.codec import MessageCodec
from arbiter.broker.transport import OutboundMessage
from arbiter.config import Settings
from arbiter.governance.registry import register_bundle
from arbiter.governance.shadowing import set_shadow
from arbiter.store import tables
from shadow_workers import worker as worker_module
from shadow_workers.selection import Selection
from shadow_workers.worker import Worker, WorkerOptions

POISON_AMOUNT = 13.37


class FailingOnMarker:
    """Wraps a real runtime; raises for any batch holding the marked record."""

    def __init__(self, runtime) -> None:  # type: ignore[no-untyped-def]
        self.runtime = runtime

    def score_records(self, records):  # type: ignore[no-untyped-def]
        if any(r.get("Amount") == POISON_AMOUNT for r in records):
            raise RuntimeError("model exploded")
        return self.runtime.score_records(records)


@pytest.fixture
def embedded(tmp_path: Path, rf_bundle: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Platform, str]]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'arbiter.db'}", registry_dir=tmp_path / "registry",
                        broker_url=f"memory://unit-{uuid.uuid4().hex}", spool_dir=tmp_path / "spool",
                        worker_max_attempts=3)
    platform = bootstrap(settings)
    platform.upgrade_database()
    model_id = register_bundle(platform, rf_bundle).model.id
    with platform.sessions() as session, session.begin():
        set_shadow(session, model_id, True)
    real = worker_module.load_registered
    monkeypatch.setattr(worker_module, "load_registered", lambda *args: FailingOnMarker(real(*args)))
    yield platform, model_id
    platform.close()


def _publish(platform: Platform, rows: list[dict]) -> None:
    codec, conn = MessageCodec(), platform.broker.connect()
    conn.declare_base()
    at = datetime.now(UTC)
    applications = [(row, {"application_id": f"w-{i}", "decision": "approve", "score": 0.1, "reasons": [],
                           "model": None}, at) for i, row in enumerate(rows)]
    # one message with the first half, one message per application for the rest, and one unreadable
    conn.publish([OutboundMessage("card-transactions", codec.encode("card-transactions", applications[:10]))]
                 + [OutboundMessage("card-transactions", codec.encode("card-transactions", [a]))
                    for a in applications[10:]]
                 + [OutboundMessage("card-transactions", b"not a message")])


def _run_until(worker: Worker, predicate, timeout: float = 20.0) -> None:  # type: ignore[no-untyped-def]
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.05)
    worker.stop()
    thread.join(timeout=10)


def test_failures_are_retried_then_dead_lettered_with_the_reason(embedded, rf_bundle: Path) -> None:  # type: ignore[no-untyped-def]
    platform, model_id = embedded
    rows = json.loads((rf_bundle / "certification.json").read_text())["rows"][:20]
    rows[5] = rows[5] | {"Amount": POISON_AMOUNT}
    worker = Worker(platform, Selection(), WorkerOptions(batch_size=50, max_wait=0.05, max_attempts=3,
                                                         refresh_interval=0.2))
    threading.Thread(target=lambda: (worker.connected.wait(5), _publish(platform, rows)), daemon=True).start()

    def dead_count() -> int:
        with platform.sessions() as s:
            return s.scalar(select(func.count()).select_from(tables.DeadLetter)) or 0
    _run_until(worker, lambda: dead_count() >= 3)

    with platform.sessions() as s:
        scored = s.scalar(select(func.count()).select_from(tables.ShadowScore)) or 0
        decisions = s.scalar(select(func.count()).select_from(tables.Decision)) or 0
        dead = {(d.queue, d.reason.split(":")[0], d.attempts) for d in s.scalars(select(tables.DeadLetter))}
    assert scored == 19 and decisions == 20  # the rest of the batch flowed; the recorder took all 20
    assert dead == {(topology.shadow_queue(model_id), "scoring failed", 3),
                    (topology.shadow_queue(model_id), "undecodable", 1), (topology.RECORDER_QUEUE, "undecodable", 1)}
    assert worker.stats["retried"] == 2 and worker.stats["dead_lettered"] == 3
    assert platform.broker.depth(topology.DEAD_QUEUE) == 3


def test_a_redelivered_batch_makes_no_second_row(embedded, rf_bundle: Path) -> None:  # type: ignore[no-untyped-def]
    platform, _ = embedded
    rows = json.loads((rf_bundle / "certification.json").read_text())["rows"][:10]
    for _ in range(2):  # the same applications twice, as after a crash between commit and ack
        worker = Worker(platform, Selection(), WorkerOptions(batch_size=50, max_wait=0.05, max_attempts=3,
                                                              refresh_interval=0.2))
        threading.Thread(target=lambda w=worker: (w.connected.wait(5), _publish(platform, rows)), daemon=True).start()
        _run_until(worker, lambda w=worker: w.stats["scored"] >= 10 and w.stats["recorded"] >= 10)
    with platform.sessions() as s:
        assert s.scalar(select(func.count()).select_from(tables.ShadowScore)) == 10
        assert s.scalar(select(func.count()).select_from(tables.Decision)) == 10

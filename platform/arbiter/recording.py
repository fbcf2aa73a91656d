"""The gateway's embedded recorder: decisions written to the database off the request path.

The request hands its results to a bounded in-memory queue (never blocking); a background
thread writes them in batches, idempotently, in one transaction per batch, retrying with
backoff while the database is down. A full queue drops the newest records and counts them
(`arbiter_records_dropped_total`). In-memory means a crashed process loses what it had not
written yet: durable delivery is the broker path's job (RabbitMQ plus a local spool).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter
from sqlalchemy.orm import Session, sessionmaker

from arbiter.pii import PiiHasher
from arbiter.store.records_repo import record_decisions
from models.detectors import get_detector

log = logging.getLogger(__name__)
DROPPED = Counter("arbiter_records_dropped_total", "Decisions not recorded because the recorder queue was full")
Item = tuple[str, list[dict[str, Any]], list[dict[str, Any]], datetime]


class BackgroundRecorder:
    """`sink(detector, records, results)` for the Scorer; `flush()` waits until all is written."""

    def __init__(self, sessions: sessionmaker[Session], hasher: PiiHasher, *, batch_size: int = 500,
                 max_wait: float = 0.2, capacity: int = 100_000) -> None:
        self._sessions, self._hasher = sessions, hasher
        self._batch_size, self._max_wait = batch_size, max_wait
        self._queue: queue.Queue[Item] = queue.Queue(maxsize=capacity)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="decision-recorder", daemon=True)
        self._thread.start()

    def __call__(self, detector: str, records: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
        try:
            self._queue.put_nowait((detector, records, results, datetime.now(UTC)))
        except queue.Full:
            DROPPED.inc(len(results))

    def flush(self, timeout: float = 30.0) -> bool:
        """Block until everything queued so far is committed (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.02)
        return False

    def close(self, timeout: float = 10.0) -> None:
        self.flush(timeout)
        self._stop.set()
        self._thread.join(timeout=timeout)

    def _take_batch(self) -> list[Item]:
        try:
            batch = [self._queue.get(timeout=self._max_wait)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self._max_wait
        while len(batch) < self._batch_size:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            try:  # block rather than poll: no wake-ups competing with requests for the GIL
                batch.append(self._queue.get(timeout=remaining))
            except queue.Empty:
                break
        return batch

    def _run(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            batch = self._take_batch()
            if not batch:
                continue
            delay = 0.1
            while True:
                try:
                    self._write(batch)
                    break
                except Exception as exc:  # the database is down or busy: keep the batch, retry
                    log.warning("recording %d decision batches failed (%s); retrying in %.1fs",
                                len(batch), type(exc).__name__, delay)
                    if self._stop.wait(delay):  # shutting down with the database still away
                        log.error("shutting down: %d decision batches were not recorded", len(batch))
                        return
                    delay = min(delay * 2, 10.0)
            for _ in batch:
                self._queue.task_done()

    def _write(self, batch: list[Item]) -> None:
        with self._sessions() as session, session.begin():
            for detector, records, results, at in batch:
                record_decisions(session, get_detector(detector), self._hasher, records, results, at)

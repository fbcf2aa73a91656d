"""The worker loop: consume, micro-batch, score, commit, then acknowledge.

- A batch (per queue) is flushed when it holds `batch_size` deliveries or its oldest has waited
  `max_wait` seconds. It is scored as one vector call and written in one transaction with
  idempotent inserts; only after the commit are its deliveries acknowledged. A crash anywhere
  before that makes the broker deliver them again, and the inserts ignore what already landed.
- A message that fails is published again with an attempt count; after `max_attempts` (or at
  once, when it can never succeed: undecodable, invalid) it goes to `arbiter.dead` with the
  reason, and to the `dead_letters` table. The rest of the batch carries on.
- While the database is down the batch waits (nothing acknowledged, the connection kept alive);
  a broken broker connection is re-opened with backoff. `stop()` (SIGTERM) finishes the
  batch in hand and returns.
- Every `refresh_interval` the worker re-reads which challengers are in shadow mode: new ones
  are declared and consumed, former ones unbound, drained and deleted; strategies are re-read.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.exc import InterfaceError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from arbiter.bootstrap import Platform
from arbiter.broker import topology
from arbiter.broker.factory import make_codec
from arbiter.broker.transport import BrokerUnavailable, Connection, Delivery, OutboundMessage
from arbiter.domain.strategies import Strategy
from arbiter.store import config_repo, tables
from arbiter.store.evidence_repo import refresh_daily
from arbiter.store.models_repo import load_registered
from arbiter.store.partitions import Partitions
from arbiter.store.records_repo import insert_ignoring_duplicates
from models.errors import first_line
from models.runtimes import Runtime
from shadow_workers.handlers import ChallengerHandler, Failure, Handler, Prepared, RecorderHandler
from shadow_workers.metrics import WorkerMetrics
from shadow_workers.selection import Selection

log = logging.getLogger("arbiter.worker")
STATS_EVERY = 30.0
DAILY_EVERY = 30.0  # seconds between refreshes of the daily figures (evidence_daily): a read recomputes the days since


@dataclass(frozen=True)
class WorkerOptions:
    """How a worker batches and retries; `from_settings` fills them from ARBITER_WORKER_*."""

    batch_size: int
    max_wait: float
    max_attempts: int
    refresh_interval: float = 1.0

    @classmethod
    def from_settings(cls, platform: Platform, **overrides: float | int | None) -> WorkerOptions:
        s = platform.settings
        values = {"batch_size": s.worker_batch_size, "max_wait": s.worker_max_wait,
                  "max_attempts": s.worker_max_attempts}
        values |= {k: v for k, v in overrides.items() if v is not None}
        return cls(**values)  # type: ignore[arg-type]


class Worker:
    """Consumes the selected queues until `stop()`; `run()` blocks."""

    def __init__(self, platform: Platform, selection: Selection, options: WorkerOptions,
                 metrics: WorkerMetrics | None = None) -> None:
        self.platform, self.selection, self.options = platform, selection, options
        self.metrics = metrics or WorkerMetrics()
        self.codec = make_codec(platform.settings)
        self.evidence = platform.settings.evidence
        self.stats: Counter[str] = Counter()
        self._stop = threading.Event()
        self._connection: Connection | None = None
        self._handlers: dict[str, Handler] = {}
        self._buffers: dict[str, list[Delivery]] = {}
        self._first_at: dict[str, float] = {}
        self._runtimes: dict[str, Runtime] = {}
        self._broken_models: set[str] = set()
        self.connected = threading.Event()
        self._flushing = False
        self.partitions = Partitions(platform.engine)

    def stop(self) -> None:
        self._stop.set()

    @property
    def busy(self) -> bool:
        """Deliveries in hand: buffered or being written."""
        return bool(self._buffers) or self._flushing

    @property
    def queues(self) -> list[str]:
        return sorted(self._handlers)

    # -- connection lifecycle ------------------------------------------------------------------
    def run(self) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                self._connection = self.platform.broker.connect()
                self._connection.declare_base()
                backoff = 0.5
                self._serve()
            except BrokerUnavailable as exc:
                self.metrics.reconnects.inc()
                log.warning("broker connection lost (%s); reconnecting in %.1fs", exc, backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
            except Exception:  # a bug on some message: never die of it. Reconnecting hands the
                # unacknowledged deliveries back; the queue's delivery limit dead-letters one that keeps failing
                log.exception("unexpected error; reconnecting in %.1fs", backoff)
                self._stop.wait(backoff)
                backoff = min(backoff * 2, 10.0)
            finally:
                self._reset()
        log.info("worker stopped: %s", dict(self.stats))

    def _reset(self) -> None:
        """The connection is gone: unacknowledged deliveries will come again, so forget them."""
        self.connected.clear()
        self.metrics.broker_up.set(0)
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self._buffers.clear()
        self._first_at.clear()
        self._handlers.clear()

    def _serve(self) -> None:
        self._reconcile(first=True)
        self.connected.set()
        self.metrics.broker_up.set(1)
        self.metrics.queues.set(len(self._handlers))
        next_reconcile = next_stats = next_daily = time.monotonic()
        while not self._stop.is_set():
            self._receive(self._poll_timeout())
            self._flush_due()
            now = time.monotonic()
            if now >= next_reconcile:
                self._reconcile()
                self.metrics.queues.set(len(self._handlers))
                next_reconcile = now + self.options.refresh_interval
            if self.evidence and now >= next_daily:
                self._refresh_daily()
                next_daily = now + DAILY_EVERY
            if now >= next_stats:
                if self.stats:
                    log.info("worker progress: %s", dict(self.stats))
                next_stats = now + STATS_EVERY
        self._flush_due(force=True)  # the batch in hand; whatever arrives meanwhile is redelivered later

    def _refresh_daily(self) -> None:
        """Keep the daily figures of the days written since (one worker at a time does it)."""
        try:
            with self.platform.sessions() as session, session.begin():
                days = refresh_daily(session)
            if days:
                log.debug("daily figures refreshed for %d days", days)
        except SQLAlchemyError as exc:
            log.warning("could not refresh the daily figures: %s", first_line(exc))

    def _poll_timeout(self) -> float:
        if not self._first_at:
            return 0.1
        due = min(self._first_at.values()) + self.options.max_wait - time.monotonic()
        return max(0.0, min(due, 0.1))

    def _receive(self, timeout: float) -> None:
        assert self._connection is not None
        for delivery in self._connection.poll(timeout):
            if delivery.queue not in self._handlers:
                continue  # a cancelled consumer's leftovers: unacknowledged, the broker requeues them
            self._buffers.setdefault(delivery.queue, []).append(delivery)
            self._first_at.setdefault(delivery.queue, time.monotonic())

    # -- batches -------------------------------------------------------------------------------
    def _flush_due(self, force: bool = False) -> None:
        now = time.monotonic()
        for queue in list(self._buffers):
            if force or len(self._buffers[queue]) >= self.options.batch_size or \
                    now - self._first_at[queue] >= self.options.max_wait:
                self._flush(queue)

    def _flush(self, queue: str) -> None:
        self._flushing = True
        try:
            self._flush_batch(queue)
        finally:
            self._flushing = False

    def _flush_batch(self, queue: str) -> None:
        started = time.perf_counter()
        deliveries = self._buffers.pop(queue)
        self._first_at.pop(queue, None)
        handler = self._handlers[queue]
        labels = (queue, topology.model_of(queue) or "recorder")
        self.metrics.consumed.labels(*labels).inc(len(deliveries))
        prepared = handler.prepare(deliveries)
        retry, dead = self._triage(prepared.failures)
        undecided = len(dead)
        if not self._store(handler, prepared, dead):
            return  # stopping with the database away: not acknowledged, so delivered again later
        assert self._connection is not None
        self._connection.publish([self._retry_message(queue, f) for f in retry] +
                                 [self._dead_message(queue, f) for f in dead])
        self._connection.ack(queue, [d.tag for d in deliveries])
        kind = "recorded" if queue == topology.RECORDER_QUEUE else "scored"
        stored = len(prepared.units) - (len(dead) - undecided)  # minus those the database refused
        self.stats[kind] += stored
        self.stats["retried"] += len(retry)
        self.stats["dead_lettered"] += len(dead)
        self.metrics.stored.labels(*labels).inc(stored)
        self.metrics.retried.labels(*labels).inc(len(retry))
        self.metrics.dead.labels(*labels).inc(len(dead))
        self.metrics.batch_size.labels(*labels).observe(len(deliveries))
        self.metrics.batch_seconds.labels(*labels).observe(time.perf_counter() - started)
        committed, lag = datetime.now(UTC), self.metrics.lag.labels(*labels)
        for _, message, _ in prepared.units:
            lag.observe(max(0.0, (committed - message.published_at).total_seconds()))

    def _triage(self, failures: list[Failure]) -> tuple[list[Failure], list[Failure]]:
        retry, dead = [], []
        for failure in failures:
            attempts = _attempts(failure.delivery) + 1
            (retry if failure.retryable and attempts < self.options.max_attempts else dead).append(failure)
        return retry, dead

    def _store(self, handler: Handler, prepared: Prepared, dead: list[Failure]) -> bool:
        """Write the batch and its dead letters in one transaction; message by message if it is refused."""
        units = [unit for _, _, unit in prepared.units]
        self.partitions.ensure(message.received_at for _, message, _ in prepared.units)
        try:
            return self._transaction(lambda s: (handler.write(s, units), self._write_dead(s, handler.queue, dead)))
        except SQLAlchemyError as exc:
            log.warning("%s: the database refused a batch (%s); writing message by message",
                        handler.queue, first_line(exc))
        for delivery, message, unit in prepared.units:
            try:
                if not self._transaction(lambda s, unit=unit: handler.write(s, [unit])):
                    return False
            except SQLAlchemyError as exc:
                dead.append(Failure(delivery, f"refused by the database: {first_line(exc)}", False, message))
        return self._transaction(lambda s: self._write_dead(s, handler.queue, dead))

    def _transaction(self, work: Callable[[Session], object]) -> bool:
        """Run `work` in one transaction, waiting out database outages; False if asked to stop meanwhile."""
        delay = 0.2
        while True:
            try:
                with self.platform.sessions() as session, session.begin():
                    work(session)
                self.metrics.database_up.set(1)
                return True
            except (OperationalError, InterfaceError) as exc:  # unreachable, restarting, connection dropped
                self.metrics.database_up.set(0)
                if self._stop.is_set():
                    return False
                log.warning("database unavailable (%s); batch held, retrying in %.1fs", first_line(exc), delay)
                self._receive(delay)  # keeps the broker connection alive while waiting
                delay = min(delay * 2, 5.0)

    def _write_dead(self, session: Session, queue: str, dead: list[Failure]) -> None:
        now = datetime.now(UTC)
        rows = [{"queue": queue, "message_key": _message_key(f), "model_id": topology.model_of(queue),
                 "detector": f.message.detector if f.message else None,
                 "application_id": f.message.application_id if f.message else None,
                 "reason": f.reason[:2000], "attempts": _attempts(f.delivery) + 1, "dead_at": now} for f in dead]
        insert_ignoring_duplicates(session, tables.DeadLetter.__table__, rows)
        for f in dead:
            log.error("%s: message %s dead-lettered: %s", queue, _message_key(f), f.reason)

    def _body(self, failure: Failure) -> bytes:
        """Just the failed application (a delivery may carry many), or the unreadable body as it came."""
        return self.codec.encode_messages([failure.message]) if failure.message else failure.delivery.body

    def _retry_message(self, queue: str, failure: Failure) -> OutboundMessage:
        headers = {topology.ATTEMPTS_HEADER: _attempts(failure.delivery) + 1, topology.REASON_HEADER: failure.reason}
        return OutboundMessage(queue, self._body(failure), headers, exchange="")

    def _dead_message(self, queue: str, failure: Failure) -> OutboundMessage:
        headers = {topology.REASON_HEADER: failure.reason, topology.QUEUE_HEADER: queue,
                   topology.ATTEMPTS_HEADER: _attempts(failure.delivery) + 1}
        return OutboundMessage(queue, self._body(failure), headers, exchange=topology.DEAD_EXCHANGE)

    # -- which queues --------------------------------------------------------------------------
    def _reconcile(self, first: bool = False) -> None:
        assert self._connection is not None
        with self.platform.sessions() as session:
            challengers = self.selection.challengers(session)
            former = [m for m in self.selection.former_challengers(session)
                      if first or topology.shadow_queue(m.id) in self._handlers]
            strategies = {m.id: config_repo.model_strategy_in_force(session, m) for m in challengers}
        prefetch = self.options.batch_size * 2
        if self.selection.recorder and topology.RECORDER_QUEUE not in self._handlers:
            self._handlers[topology.RECORDER_QUEUE] = RecorderHandler(topology.RECORDER_QUEUE, self.codec,
                                                                      self.platform.hasher, evidence=self.evidence)
            self._connection.subscribe(topology.RECORDER_QUEUE, prefetch)
        for model in challengers:
            queue = topology.shadow_queue(model.id)
            handler = self._handlers.get(queue)
            if isinstance(handler, ChallengerHandler):
                handler.strategy = strategies[model.id]
                continue
            self._consume_challenger(model, strategies[model.id], declare=True)
        for model in former:
            self._drain(model)

    def _consume_challenger(self, model: tables.Model, strategy: Strategy, *, declare: bool) -> None:
        assert self._connection is not None
        runtime = self._runtime(model)
        if runtime is None:
            return
        queue = topology.shadow_queue(model.id)
        if declare:
            self._connection.declare_shadow(model.id, model.detector)
        self._handlers[queue] = ChallengerHandler(queue, self.codec, model, runtime, strategy,
                                                  evidence=self.evidence,
                                                  top=self.platform.settings.top_reasons(model.detector))
        self._connection.subscribe(queue, self.options.batch_size * 2)
        log.info("consuming %s (%s)", queue, model.detector)

    def _drain(self, model: tables.Model) -> None:
        """A former challenger: no new messages; finish what is queued, then delete the queue."""
        assert self._connection is not None
        queue = topology.shadow_queue(model.id)
        if queue in self._buffers:
            return  # finish the batch in hand first
        self._connection.release_shadow(model.id, model.detector)
        if queue in self._handlers:
            self._connection.unsubscribe(queue)
            self._handlers.pop(queue)
        if self._connection.delete_queue_if_empty(queue):
            log.info("%s left shadow mode; its queue is drained and deleted", model.id)
            return
        with self.platform.sessions() as session:
            strategy = config_repo.model_strategy_in_force(session, model)
        self._consume_challenger(model, strategy, declare=False)

    def _runtime(self, model: tables.Model) -> Runtime | None:
        if model.id not in self._runtimes:
            try:
                self._runtimes[model.id] = load_registered(self.platform.settings.registry_dir, model,
                                                           self.platform.identity_key)
            except Exception as exc:  # a missing or tampered bundle: say so once, keep serving the others
                if model.id not in self._broken_models:
                    log.error("cannot load challenger %s (%s); its queue is not consumed", model.id, exc)
                    self._broken_models.add(model.id)
                return None
        return self._runtimes[model.id]


def _attempts(delivery: Delivery) -> int:
    try:
        return int(delivery.headers.get(topology.ATTEMPTS_HEADER, 0))
    except (TypeError, ValueError):
        return 0


def _message_key(failure: Failure) -> str:
    if failure.message is not None:
        return failure.message.application_id
    return "sha256:" + hashlib.sha256(failure.delivery.body).hexdigest()[:40]



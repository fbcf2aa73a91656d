"""The gateway's publisher: hands applications to the broker off the request path.

The request puts (detector, records, results) on a bounded in-memory queue and returns at
once. One thread (pika connections are not thread-safe) encodes, publishes with confirms
and, when the broker is unreachable or a publish fails, writes the messages to the durable
spool; when the broker is back it replays the spool, a segment at a time between live
batches. The gateway never waits for the broker, and a gateway that starts with the broker
down serves from the start. What is lost is counted, never silent: a full in-memory queue
(`arbiter_publish_dropped_total`) or an unwritable spool (`arbiter_publish_lost_total`).
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from prometheus_client import Counter, Gauge

from arbiter.broker.codec import MAX_PER_MESSAGE, MessageCodec
from arbiter.broker.spool import Spool, SpoolError
from arbiter.broker.transport import Broker, BrokerUnavailable, Connection, OutboundMessage, PartialPublish

log = logging.getLogger(__name__)
PUBLISHED = Counter("arbiter_messages_published_total", "Messages the broker confirmed (live and replayed)")
SPOOLED = Counter("arbiter_messages_spooled_total", "Messages written to the local spool")
DROPPED = Counter("arbiter_publish_dropped_total", "Messages not published: the in-memory queue was full")
LOST = Counter("arbiter_publish_lost_total", "Messages neither published nor spooled (spool unwritable)")
SPOOL_DEPTH = Gauge("arbiter_spool_depth", "Messages waiting in the local spool for the broker",
                    multiprocess_mode="livesum")
PENDING = Gauge("arbiter_publish_pending", "Messages waiting in memory for the publisher thread",
                multiprocess_mode="livesum")
BROKER_UP = Gauge("arbiter_broker_connected", "1 when the publisher holds a broker connection",
                  multiprocess_mode="livemin")

Item = tuple[str, list[dict[str, Any]], list[dict[str, Any]], datetime]
BATCH = 500
ORPHAN_CHECK = 5.0  # seconds between looks for segments other processes left behind
SPOOL_LINGER = 0.1  # while the broker is away: gather for this long, so one fsync covers many messages
LIVE_LINGER = 0.025  # while connected: 25 ms of applications per confirmed publish (adds ~25 ms of shadow lag)


class DropLog:
    """Dropped applications, logged at most once per `every` seconds with the count since the last
    line: under overload a drop happens on every call, and a line per call would flood the logs (the
    counter `arbiter_publish_dropped_total` still counts each one)."""

    def __init__(self, every: float = 10.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every, self.clock = every, clock
        self._lock = threading.Lock()
        self._unlogged, self._last = 0, float("-inf")

    def __call__(self, applications: int) -> None:
        DROPPED.inc(applications)
        now = self.clock()
        with self._lock:
            self._unlogged += applications
            if now - self._last < self.every:
                return
            dropped, self._unlogged, self._last = self._unlogged, 0, now
        log.error("publish queue full: %d messages dropped since the last such line (at most one every %g s; "
                  "arbiter_publish_dropped_total counts them all)", dropped, self.every)


count_dropped = DropLog()  # applications not published because the memory bound was reached: never silent


class Publisher:
    """`publisher(detector, records, results)` is the Scorer's sink; `start()` / `close()` bound its thread.

    `on_settled(n)` is called from the thread after each batch with how many submitted items it settled
    (confirmed by the broker, spooled, or counted lost), always in submission order.
    """

    def __init__(self, broker: Broker, spool: Spool, codec: MessageCodec, *, capacity: int = 100_000,
                 max_backoff: float = 5.0, on_settled: Callable[[int], None] | None = None) -> None:
        self.broker, self.spool, self.codec = broker, spool, codec
        self._on_settled = on_settled
        self._queue: queue.Queue[Item] = queue.Queue(maxsize=capacity)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="publisher", daemon=True)
        self._connection: Connection | None = None
        self._next_attempt = 0.0
        self._backoff = 0.2
        self._max_backoff = max_backoff
        self._last_spool_check = 0.0
        self._spool_waiting = spool.depth() > 0
        self.state = "starting"
        self.update_gauges()

    def __call__(self, detector: str, records: list[dict[str, Any]], results: list[dict[str, Any]]) -> None:
        self.submit((detector, records, results, datetime.now(UTC)))

    def submit(self, item: Item, *, block: bool = False) -> None:
        """Queue one item; with `block`, wait for room instead of dropping it when the queue is full."""
        try:
            self._queue.put(item, block=block)
        except queue.Full:
            count_dropped(len(item[2]))

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    def update_gauges(self) -> None:
        """Refresh the spool and queue gauges (before /metrics renders them)."""
        SPOOL_DEPTH.set(self.spool.depth())
        PENDING.set(self._queue.qsize())

    def start(self) -> None:
        self._thread.start()

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything submitted so far is confirmed by the broker or spooled (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._queue.unfinished_tasks == 0:
                return True
            time.sleep(0.01)
        return False

    def drained(self) -> bool:
        """Nothing in memory and nothing in the spool: everything submitted is on the broker."""
        return self._queue.unfinished_tasks == 0 and self.spool.depth() == 0

    def close(self, timeout: float = 10.0) -> None:
        """Publish or spool everything in hand, then stop."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=timeout)
        self._disconnect()

    # -- the thread -------------------------------------------------------------------------
    def _take(self, linger: float) -> list[Item]:
        """Up to BATCH items: the first one, then what arrives within `linger` seconds. Sleeping through
        the linger (rather than waking for each item) keeps this thread off the GIL while requests run,
        and one confirmed publish then covers many applications."""
        try:
            items = [self._queue.get(timeout=0.05)]
        except queue.Empty:
            return []
        if linger > 0:
            self._stop.wait(linger)
        while len(items) < BATCH:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _run(self) -> None:
        while not (self._stop.is_set() and self._queue.empty()):
            items = self._take(linger=LIVE_LINGER if self._connection is not None else SPOOL_LINGER)
            connection = self._connected()
            if items:
                messages = self._encode(items)
                if connection is not None:
                    messages = self._send(connection, messages)
                self._to_spool(messages)
                for _ in items:
                    self._queue.task_done()
                if self._on_settled is not None:
                    self._on_settled(len(items))
            if self._connection is not None:  # replay between live batches, so the spool drains under load too
                self._replay(self._connection)
            if not items and self._connection is not None:
                self._keepalive(self._connection)

    def _encode(self, items: list[Item]) -> list[OutboundMessage]:
        """Group the applications per detector, up to MAX_PER_MESSAGE a message, in arrival order."""
        grouped: dict[str, list[tuple[dict[str, Any], dict[str, Any], datetime]]] = {}
        for detector, records, results, at in items:
            grouped.setdefault(detector, []).extend((rec, res, at) for rec, res in zip(records, results, strict=True))
        messages = []
        for detector, applications in grouped.items():
            for start in range(0, len(applications), MAX_PER_MESSAGE):
                chunk = applications[start:start + MAX_PER_MESSAGE]
                try:
                    messages.append(OutboundMessage(detector, self.codec.encode(detector, chunk)))
                except (TypeError, ValueError) as exc:  # not JSON-serialisable: a bug, never silent
                    LOST.inc(len(chunk))
                    log.error("%d applications for %s could not be encoded: %s", len(chunk), detector, exc)
        return messages

    def _send(self, connection: Connection, messages: list[OutboundMessage]) -> list[OutboundMessage]:
        """Publish; what the broker did not confirm is returned (for the spool)."""
        try:
            connection.publish(messages)
        except PartialPublish as exc:
            PUBLISHED.inc(exc.sent)
            self._lost_connection(exc)
            return messages[exc.sent:]
        PUBLISHED.inc(len(messages))
        return []

    def _to_spool(self, messages: list[OutboundMessage]) -> None:
        if not messages:
            return
        try:
            self.spool.append(messages)
            SPOOLED.inc(len(messages))
            self._spool_waiting = True
        except SpoolError as exc:
            LOST.inc(len(messages))
            log.error("%d messages lost: %s", len(messages), exc)

    def _replay(self, connection: Connection) -> None:
        """Replay spooled segments, about one live batch's worth per call, between live batches."""
        now = time.monotonic()
        if not self._spool_waiting and now - self._last_spool_check < ORPHAN_CHECK:
            return
        self._last_spool_check = now
        replayed = 0
        while replayed < BATCH:
            claimed = self.spool.claim_oldest()
            if claimed is None:
                self._spool_waiting = False
                break
            path, messages = claimed
            try:
                connection.publish(messages)
            except PartialPublish as exc:
                PUBLISHED.inc(exc.sent)
                self.spool.give_back(path, messages[exc.sent:])
                self._lost_connection(exc)
                return
            PUBLISHED.inc(len(messages))
            self.spool.done(path)
            replayed += len(messages)
        if replayed:
            log.info("replayed %d spooled messages", replayed)

    def _keepalive(self, connection: Connection) -> None:
        try:
            connection.poll(0)
        except BrokerUnavailable as exc:
            self._lost_connection(exc)

    def _connected(self) -> Connection | None:
        if self._connection is not None or time.monotonic() < self._next_attempt:
            return self._connection
        try:
            connection = self.broker.connect(timeout=2.0)
            connection.declare_base()
        except BrokerUnavailable as exc:
            self._lost_connection(exc)
            return None
        self._connection, self._backoff, self.state = connection, 0.2, "connected"
        self._spool_waiting = True  # look at the spool straight away
        BROKER_UP.set(1)
        log.info("publisher connected to the broker")
        return connection

    def _lost_connection(self, exc: Exception) -> None:
        if self.state != f"unreachable: {exc}":
            log.warning("broker unreachable (%s); spooling, next attempt in %.1fs", exc, self._backoff)
        self.state = f"unreachable: {exc}"
        self._disconnect()
        self._next_attempt = time.monotonic() + self._backoff
        self._backoff = min(self._backoff * 2, self._max_backoff)
        BROKER_UP.set(0)

    def _disconnect(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

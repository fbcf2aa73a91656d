"""The in-process broker behind `memory://`: the same interface as RabbitMQ, inside one process.

For the embedded mode (`make demo`, `arbiter serve` without RabbitMQ): the gateway publishes
and the embedded workers consume in the same process. Messages live in memory, so they
survive neither the process nor a crash; unacknowledged deliveries of a closed connection
are queued again, as RabbitMQ would.
"""

from __future__ import annotations

import itertools
import threading
from collections import deque
from collections.abc import Sequence

from arbiter.broker import topology
from arbiter.broker.transport import Delivery, OutboundMessage

_BROKERS: dict[str, MemoryBroker] = {}
_BROKERS_LOCK = threading.Lock()


class MemoryBroker:
    """Exchanges, bindings and queues of one process; `shared(url)` returns the process's instance."""

    def __init__(self, url: str = "memory://") -> None:
        self.url = url
        self.condition = threading.Condition()
        self.queues: dict[str, deque[tuple[bytes, dict]]] = {}
        self.bindings: dict[str, set[tuple[str, str]]] = {}  # exchange -> {(routing pattern, queue)}

    @classmethod
    def shared(cls, url: str = "memory://") -> MemoryBroker:
        with _BROKERS_LOCK:
            return _BROKERS.setdefault(url, cls(url))

    def connect(self, *, timeout: float = 5.0) -> MemoryConnection:
        return MemoryConnection(self)

    def route(self, message: OutboundMessage) -> int:
        """Put the message on every queue it is routed to; how many."""
        if message.exchange == "":
            targets = {message.routing_key} & self.queues.keys()
        else:
            targets = {q for pattern, q in self.bindings.get(message.exchange, ())
                       if pattern in (topology.ALL_DETECTORS, "", message.routing_key)}
        for queue in targets:
            self.queues[queue].append((message.body, dict(message.headers)))
        return len(targets)

    def depth(self, queue: str) -> int:
        with self.condition:
            return len(self.queues.get(queue, ()))

    def reset(self) -> int:
        """Forget every queue, binding and message, as a restarted process would; how many messages
        were dropped. (The process's broker outlives one app, so tests start each from empty.)"""
        with self.condition:
            dropped = sum(len(q) for q in self.queues.values())
            self.queues.clear()
            self.bindings.clear()
            return dropped


class MemoryConnection:
    def __init__(self, broker: MemoryBroker) -> None:
        self._broker = broker
        self._subscribed: dict[str, int] = {}  # queue -> prefetch
        self._unacked: dict[str, dict[int, tuple[bytes, dict]]] = {}
        self._tags = itertools.count(1)

    def _declare(self, queue: str, exchange: str, pattern: str) -> None:
        with self._broker.condition:
            self._broker.queues.setdefault(queue, deque())
            self._broker.bindings.setdefault(exchange, set()).add((pattern, queue))

    def declare_base(self) -> None:
        self._declare(topology.DEAD_QUEUE, topology.DEAD_EXCHANGE, "")
        self._declare(topology.RECORDER_QUEUE, topology.EXCHANGE, topology.ALL_DETECTORS)

    def declare_shadow(self, model_id: str, detector: str) -> None:
        self._declare(topology.shadow_queue(model_id), topology.EXCHANGE, detector)

    def release_shadow(self, model_id: str, detector: str) -> None:
        with self._broker.condition:
            self._broker.bindings.get(topology.EXCHANGE, set()).discard((detector, topology.shadow_queue(model_id)))

    def depth(self, queue: str) -> int:
        return self._broker.depth(queue)

    def delete_queue_if_empty(self, queue: str) -> bool:
        with self._broker.condition:
            if self._broker.queues.get(queue):
                return False
            self._broker.queues.pop(queue, None)
            for bound in self._broker.bindings.values():
                bound.difference_update({b for b in bound if b[1] == queue})
            return True

    def publish(self, messages: Sequence[OutboundMessage]) -> int:
        with self._broker.condition:
            for message in messages:
                self._broker.route(message)
            self._broker.condition.notify_all()
        return len(messages)

    def subscribe(self, queue: str, prefetch: int) -> None:
        with self._broker.condition:
            self._broker.queues.setdefault(queue, deque())
        self._subscribed[queue] = prefetch
        self._unacked.setdefault(queue, {})

    def unsubscribe(self, queue: str) -> None:
        self._subscribed.pop(queue, None)
        self._requeue(queue)

    def _take(self) -> list[Delivery]:
        taken = []
        for queue, prefetch in self._subscribed.items():
            pending, unacked = self._broker.queues.get(queue), self._unacked[queue]
            while pending and len(unacked) < prefetch:
                body, headers = pending.popleft()
                tag = next(self._tags)
                unacked[tag] = (body, headers)
                taken.append(Delivery(queue, tag, body, headers))
        return taken

    def poll(self, timeout: float) -> list[Delivery]:
        with self._broker.condition:
            taken = self._take()
            if not taken and timeout > 0:
                self._broker.condition.wait(timeout)
                taken = self._take()
            return taken

    def ack(self, queue: str, tags: Sequence[int]) -> None:
        unacked = self._unacked.get(queue, {})
        for tag in tags:
            unacked.pop(tag, None)

    def _requeue(self, queue: str) -> None:
        with self._broker.condition:
            for body, headers in self._unacked.pop(queue, {}).values():
                self._broker.queues.setdefault(queue, deque()).appendleft((body, headers))
            self._broker.condition.notify_all()

    def close(self) -> None:
        for queue in list(self._unacked):
            self._requeue(queue)
        self._subscribed.clear()

"""The interface both transports (RabbitMQ, in-process memory) implement for publishers and workers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from arbiter.broker.topology import EXCHANGE


class BrokerUnavailable(Exception):
    """The broker cannot be reached, or the connection broke; the caller retries later."""


@dataclass(frozen=True)
class OutboundMessage:
    routing_key: str
    body: bytes
    headers: dict[str, Any] = field(default_factory=dict)
    exchange: str = EXCHANGE


@dataclass(frozen=True)
class Delivery:
    queue: str
    tag: int
    body: bytes
    headers: dict[str, Any]
    redelivered: bool = False


class Connection(Protocol):
    """One open connection. Not thread-safe: one per thread."""

    def declare_base(self) -> None:
        """The exchanges, the recorder queue and the dead-letter queue (idempotent)."""

    def declare_shadow(self, model_id: str, detector: str) -> None:
        """The challenger's queue, bound to its detector's messages (idempotent)."""

    def release_shadow(self, model_id: str, detector: str) -> None:
        """Unbind the challenger's queue: no new messages; what is queued stays to be drained."""

    def depth(self, queue: str) -> int:
        """Messages ready on `queue` (0 when it does not exist)."""

    def delete_queue_if_empty(self, queue: str) -> bool:
        """Delete `queue` if it holds no message; True when it is gone."""

    def publish(self, messages: Sequence[OutboundMessage]) -> int:
        """Publish persistently, each confirmed by the broker; raises BrokerUnavailable after a partial send
        (`.sent` on the exception says how many were confirmed first)."""

    def subscribe(self, queue: str, prefetch: int) -> None: ...

    def unsubscribe(self, queue: str) -> None: ...

    def poll(self, timeout: float) -> list[Delivery]:
        """Deliveries that arrived within `timeout` seconds (keeps the connection alive meanwhile)."""

    def ack(self, queue: str, tags: Sequence[int]) -> None: ...

    def close(self) -> None: ...


class Broker(Protocol):
    url: str

    def connect(self, *, timeout: float = 5.0) -> Connection:
        """A new connection; raises BrokerUnavailable."""


class PartialPublish(BrokerUnavailable):
    def __init__(self, message: str, sent: int) -> None:
        super().__init__(message)
        self.sent = sent

"""The RabbitMQ transport (pika BlockingConnection: one connection per thread).

Publishing uses a channel in confirm mode, persistent messages and `mandatory`, so a message
counts as sent only once the broker has it on a queue. Each consumed queue has its own
channel, so acknowledgements of one queue's batch never touch another's deliveries.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import pika
from pika.adapters.blocking_connection import BlockingChannel
from pika.exceptions import AMQPError, ChannelClosedByBroker, NackError, UnroutableError

from arbiter.broker import topology
from arbiter.broker.transport import BrokerUnavailable, Delivery, OutboundMessage, PartialPublish

log = logging.getLogger(__name__)
T = TypeVar("T")
PERSISTENT = 2


def _guard(action: Callable[[], T], what: str) -> T:
    try:
        return action()
    except (AMQPError, OSError) as exc:
        raise BrokerUnavailable(f"{what}: {type(exc).__name__} {exc}") from exc


class AmqpBroker:
    """Connections to the RabbitMQ at `url` (amqp://user:pass@host:port/vhost)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def connect(self, *, timeout: float = 5.0) -> AmqpConnection:
        params = pika.URLParameters(self.url)
        params.connection_attempts = 1
        params.socket_timeout = timeout
        params.stack_timeout = timeout * 2
        params.blocked_connection_timeout = 30
        params.heartbeat = 30
        params.client_properties = {"connection_name": "arbiter"}
        return AmqpConnection(_guard(lambda: pika.BlockingConnection(params), f"cannot connect to {_safe(self.url)}"))


def _safe(url: str) -> str:
    """The URL without its password, for messages and logs."""
    params = pika.URLParameters(url)
    return f"amqp://{params.host}:{params.port}/{params.virtual_host}"


class AmqpConnection:
    def __init__(self, connection: pika.BlockingConnection) -> None:
        self._connection = connection
        self._admin: BlockingChannel | None = None
        self._publisher: BlockingChannel | None = None
        self._consumers: dict[str, tuple[BlockingChannel, str]] = {}
        self._inbox: list[Delivery] = []
        self._quorum = True

    # -- topology -------------------------------------------------------------------------
    def _channel(self) -> BlockingChannel:
        if self._admin is None or not self._admin.is_open:
            self._admin = self._connection.channel()
        return self._admin

    def _declare_queue(self, name: str) -> None:
        if self._quorum:
            try:
                self._channel().queue_declare(name, durable=True, arguments=topology.quorum_arguments())
                return
            except ChannelClosedByBroker as exc:
                log.info("quorum declaration of %s refused (%s); checking for an existing queue", name, exc.reply_text)
        try:
            self._channel().queue_declare(name, passive=True)  # exists already, with whatever arguments it has
        except ChannelClosedByBroker:
            self._quorum = False  # this broker has no quorum queues: classic durable ones
            self._channel().queue_declare(name, durable=True, arguments=topology.classic_arguments())

    def declare_base(self) -> None:
        def declare() -> None:
            channel = self._channel()
            channel.exchange_declare(topology.EXCHANGE, "topic", durable=True)
            channel.exchange_declare(topology.DEAD_EXCHANGE, "fanout", durable=True)
            channel.queue_declare(topology.DEAD_QUEUE, durable=True, arguments={"x-queue-type": "quorum"}
                                  if self._quorum else None)
            channel.queue_bind(topology.DEAD_QUEUE, topology.DEAD_EXCHANGE, "")
            self._declare_queue(topology.RECORDER_QUEUE)
            self._channel().queue_bind(topology.RECORDER_QUEUE, topology.EXCHANGE, topology.ALL_DETECTORS)
        _guard(declare, "declaring the topology")

    def declare_shadow(self, model_id: str, detector: str) -> None:
        queue = topology.shadow_queue(model_id)

        def declare() -> None:
            self._declare_queue(queue)
            self._channel().queue_bind(queue, topology.EXCHANGE, detector)
        _guard(declare, f"declaring {queue}")

    def release_shadow(self, model_id: str, detector: str) -> None:
        queue = topology.shadow_queue(model_id)
        try:
            _guard(lambda: self._channel().queue_unbind(queue, topology.EXCHANGE, detector), f"unbinding {queue}")
        except BrokerUnavailable as exc:
            if not isinstance(exc.__cause__, ChannelClosedByBroker):  # 404: the queue is gone already
                raise

    def depth(self, queue: str) -> int:
        def count() -> int:
            try:
                return self._channel().queue_declare(queue, passive=True).method.message_count
            except ChannelClosedByBroker:
                return 0  # no such queue
        return _guard(count, f"inspecting {queue}")

    def delete_queue_if_empty(self, queue: str) -> bool:
        def delete() -> bool:
            try:
                state = self._channel().queue_declare(queue, passive=True).method
            except ChannelClosedByBroker:
                return True  # already gone
            if state.message_count or state.consumer_count:
                return False
            self._channel().queue_delete(queue)
            return True
        return _guard(delete, f"deleting {queue}")

    # -- publishing -----------------------------------------------------------------------
    def _publishing_channel(self) -> BlockingChannel:
        if self._publisher is None or not self._publisher.is_open:
            self._publisher = self._connection.channel()
            self._publisher.confirm_delivery()
        return self._publisher

    def publish(self, messages: Sequence[OutboundMessage]) -> int:
        sent = 0
        try:
            for message in messages:
                self._publish_one(message)
                sent += 1
        except (AMQPError, OSError) as exc:
            raise PartialPublish(f"publishing stopped after {sent}: {type(exc).__name__} {exc}", sent) from exc
        return sent

    def _publish_one(self, message: OutboundMessage) -> None:
        properties = pika.BasicProperties(delivery_mode=PERSISTENT, headers=message.headers or None,
                                          content_type="application/octet-stream")
        for attempt in (1, 2):
            try:
                self._publishing_channel().basic_publish(message.exchange, message.routing_key, message.body,
                                                         properties, mandatory=True)
                return
            except UnroutableError:
                if attempt == 2:
                    raise
                self.declare_base()  # the topology was deleted under us: declare it and try once more
            except NackError:
                if attempt == 2:
                    raise

    # -- consuming ------------------------------------------------------------------------
    def subscribe(self, queue: str, prefetch: int) -> None:
        if queue in self._consumers:
            return

        def consume() -> tuple[BlockingChannel, str]:
            channel = self._connection.channel()
            channel.basic_qos(prefetch_count=prefetch)
            tag = channel.basic_consume(queue, self._on_message(queue), auto_ack=False)
            return channel, tag
        self._consumers[queue] = _guard(consume, f"consuming {queue}")

    def _on_message(self, queue: str) -> Callable[..., None]:
        def on_message(_: BlockingChannel, method: Any, properties: pika.BasicProperties, body: bytes) -> None:
            self._inbox.append(Delivery(queue, method.delivery_tag, body, dict(properties.headers or {}),
                                        bool(method.redelivered)))
        return on_message

    def unsubscribe(self, queue: str) -> None:
        entry = self._consumers.pop(queue, None)
        if entry is not None:
            channel, tag = entry
            _guard(lambda: (channel.basic_cancel(tag), channel.close()), f"cancelling {queue}")

    def poll(self, timeout: float) -> list[Delivery]:
        _guard(lambda: self._connection.process_data_events(time_limit=timeout), "receiving")
        inbox, self._inbox = self._inbox, []
        return inbox

    def ack(self, queue: str, tags: Sequence[int]) -> None:
        if not tags:
            return
        channel, _ = self._consumers[queue]
        # tags on one channel arrive in order and every earlier one is settled with this batch
        _guard(lambda: channel.basic_ack(max(tags), multiple=True), f"acknowledging {queue}")

    def close(self) -> None:
        try:
            if self._connection.is_open:
                self._connection.close()
        except (AMQPError, OSError):
            pass

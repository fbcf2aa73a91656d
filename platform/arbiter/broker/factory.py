"""The broker named by ARBITER_BROKER_URL, and the gateway's publisher over it."""

from __future__ import annotations

from arbiter.broker.amqp import AmqpBroker
from arbiter.broker.codec import MessageCodec
from arbiter.broker.memory import MemoryBroker
from arbiter.broker.publisher import Publisher
from arbiter.broker.relay import RelayPublisher
from arbiter.broker.relay_wire import RelayConfig
from arbiter.broker.spool import Spool
from arbiter.broker.transport import Broker
from arbiter.config import Settings


class BrokerUrlError(ValueError):
    """ARBITER_BROKER_URL names no broker this platform speaks."""


def make_broker(url: str) -> Broker:
    if url.startswith("memory://"):
        return MemoryBroker.shared(url)
    if url.startswith(("amqp://", "amqps://")):
        return AmqpBroker(url)
    scheme = url.split(":", 1)[0]
    raise BrokerUrlError(f"ARBITER_BROKER_URL must start with memory://, amqp:// or amqps://, not {scheme!r}")


def is_embedded(url: str) -> bool:
    """The in-process broker: the gateway's process must also run the workers."""
    return url.startswith("memory://")


def _message_key(settings: Settings) -> str | None:
    return settings.message_key.get_secret_value() if settings.message_key else None


def make_codec(settings: Settings) -> MessageCodec:
    return MessageCodec(_message_key(settings))


def make_publisher(settings: Settings, broker: Broker) -> Publisher | RelayPublisher:
    """The gateway's publisher: in a child process for RabbitMQ (unless ARBITER_PUBLISHER=thread), a thread
    for the in-process broker, which only exists in this process."""
    spool = Spool(settings.spool_dir)
    if settings.publisher == "process" and not is_embedded(settings.broker_url):
        return RelayPublisher(RelayConfig(settings.broker_url, str(settings.spool_dir), _message_key(settings),
                                          settings.publish_capacity), spool)
    return Publisher(broker, spool, make_codec(settings), capacity=settings.publish_capacity)

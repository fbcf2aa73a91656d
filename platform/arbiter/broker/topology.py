"""Names and shapes of the exchanges and queues (CONTRACT.md, "Messaging").

- `arbiter.applications`: topic exchange, routing key = detector; every message the gateway sends.
- `arbiter.recorder`: bound with `#`, the champion's decisions for every detector.
- `arbiter.shadow.<model_id>`: one per challenger, bound with its detector's name.
- `arbiter.dead`: fanout exchange and queue for dead letters; every consumer queue names it as
  its dead-letter exchange, so the broker also parks messages that exceed the delivery limit.
"""

from __future__ import annotations

from typing import Any

EXCHANGE = "arbiter.applications"
RECORDER_QUEUE = "arbiter.recorder"
DEAD_EXCHANGE = "arbiter.dead"
DEAD_QUEUE = "arbiter.dead"
SHADOW_PREFIX = "arbiter.shadow."
ALL_DETECTORS = "#"
# a backstop for messages that kill their consumer: workers dead-letter ordinary failures
# themselves after ARBITER_WORKER_MAX_ATTEMPTS, with the reason
BROKER_DELIVERY_LIMIT = 20

REASON_HEADER = "x-arbiter-reason"
ATTEMPTS_HEADER = "x-arbiter-attempts"
QUEUE_HEADER = "x-arbiter-queue"


def shadow_queue(model_id: str) -> str:
    return f"{SHADOW_PREFIX}{model_id}"


def model_of(queue: str) -> str | None:
    """The challenger a shadow queue belongs to; None for the recorder (or any other queue)."""
    return queue[len(SHADOW_PREFIX):] if queue.startswith(SHADOW_PREFIX) else None


def quorum_arguments() -> dict[str, Any]:
    return {"x-queue-type": "quorum", "x-delivery-limit": BROKER_DELIVERY_LIMIT,
            "x-dead-letter-exchange": DEAD_EXCHANGE}


def classic_arguments() -> dict[str, Any]:
    """For brokers without quorum queues (RabbitMQ < 3.8): durable classic queues, same dead-lettering."""
    return {"x-dead-letter-exchange": DEAD_EXCHANGE}

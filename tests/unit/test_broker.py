"""The broker pieces on their own: codec, spool, in-process broker, publisher (fake broker here)."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from arbiter.broker import topology
from arbiter.broker.codec import SEALED_PREFIX, MessageCodec, UndecodableMessage
from arbiter.broker.memory import MemoryBroker
from arbiter.broker.publisher import Publisher
from arbiter.broker.spool import CLAIMED, Spool
from arbiter.broker.transport import BrokerUnavailable, OutboundMessage, PartialPublish
from tests.helpers import wait_until

RECORD = {"email": "jane.doe@example.com", "ssn": "123-45-6789", "income": 50000.0}
RESULT = {"application_id": "app-1", "decision": "approve", "score": 0.1, "reasons": []}


def test_messages_round_trip_and_are_sealed_with_a_key() -> None:
    at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    two = [(RECORD, RESULT, at), (RECORD | {"income": 1.0}, RESULT | {"application_id": "app-2"}, at)]
    plain = MessageCodec().encode("card-applications", two)
    assert [m.record for m in MessageCodec().decode(plain)] == [RECORD, RECORD | {"income": 1.0}]
    sealed_codec = MessageCodec("secret")
    sealed = sealed_codec.encode("card-applications", two)
    assert sealed.startswith(SEALED_PREFIX) and b"jane.doe" not in sealed and b"123-45" not in sealed
    first, second = sealed_codec.decode(sealed)
    assert (first.application_id, first.detector, first.record, first.received_at) == \
        ("app-1", "card-applications", RECORD, at)
    assert [m.application_id for m in sealed_codec.decode(sealed_codec.encode_messages([second]))] == ["app-2"]
    assert sealed != sealed_codec.encode("card-applications", two)  # fresh nonce each time


@pytest.mark.parametrize(("body", "codec", "reason"), [
    (b"\x00 garbage", MessageCodec(), "not JSON"),
    (b"[1, 2]", MessageCodec(), "not a JSON object"),
    (b'{"v": 99}', MessageCodec(), "unknown schema version"),
    (b'{"v": 1, "detector": "x"}', MessageCodec(), "malformed"),
    (b'{"v": 1, "detector": "x", "published_at": "2026-01-01T00:00:00", "applications": []}', MessageCodec(),
     "non-empty"),
    (MessageCodec("one").encode("d", [(RECORD, RESULT, datetime.now(UTC))]), MessageCodec("other"), "does not open"),
    (MessageCodec("one").encode("d", [(RECORD, RESULT, datetime.now(UTC))]), MessageCodec(), "no ARBITER_MESSAGE_KEY"),
])
def test_undecodable_bodies_say_why(body: bytes, codec: MessageCodec, reason: str) -> None:
    with pytest.raises(UndecodableMessage, match=reason):
        codec.decode(body)


def _messages(n: int, start: int = 0) -> list[OutboundMessage]:
    return [OutboundMessage("card-transactions", f"body-{i}".encode()) for i in range(start, start + n)]


def test_the_spool_keeps_segments_until_replayed(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.append(_messages(3))
    spool.append(_messages(2, start=3))
    assert spool.depth() == 5
    path, first = spool.claim_oldest()
    assert [m.body for m in first] == [b"body-0", b"body-1", b"body-2"]
    assert spool.depth() == 5  # claimed but not yet confirmed: still counted
    spool.give_back(path, first[2:])  # the broker confirmed two of three
    assert spool.depth() == 3
    seen = []
    while (claimed := spool.claim_oldest()) is not None:
        seen += [m.body for m in claimed[1]]
        spool.done(claimed[0])
    assert sorted(seen) == [b"body-2", b"body-3", b"body-4"] and spool.depth() == 0


def test_a_segment_claimed_by_a_dead_process_is_replayable_again(tmp_path: Path) -> None:
    Spool(tmp_path).append(_messages(2))
    segment = next(tmp_path.glob("*.seg"))
    dead_pid = 2 ** 22 + 12345  # above pid_max on Linux: no such process
    segment.rename(segment.with_name(f"{segment.name}{CLAIMED}{dead_pid}"))
    live = tmp_path / f"x-1-1-1.seg{CLAIMED}{os.getpid()}"
    live.write_bytes(b"")
    spool = Spool(tmp_path)
    claimed = spool.claim_oldest()
    assert claimed is not None and len(claimed[1]) == 2
    assert live.exists()  # a live process's claim is left alone


def test_the_memory_broker_routes_by_detector_and_requeues_unacknowledged(tmp_path: Path) -> None:
    broker = MemoryBroker(f"memory://unit-{time.time_ns()}")
    conn = broker.connect()
    conn.declare_base()
    conn.declare_shadow("m1", "card-transactions")
    conn.publish([OutboundMessage("card-transactions", b"a"), OutboundMessage("card-applications", b"b")])
    assert broker.depth(topology.RECORDER_QUEUE) == 2 and broker.depth("arbiter.shadow.m1") == 1
    conn.subscribe("arbiter.shadow.m1", prefetch=10)
    [delivery] = conn.poll(0.1)
    conn.close()  # not acknowledged: back on the queue
    assert broker.depth("arbiter.shadow.m1") == 1
    other = broker.connect()
    other.subscribe("arbiter.shadow.m1", prefetch=10)
    [again] = other.poll(0.1)
    other.ack("arbiter.shadow.m1", [again.tag])
    other.release_shadow("m1", "card-transactions")
    other.publish([OutboundMessage("card-transactions", b"c")])
    assert broker.depth("arbiter.shadow.m1") == 0 and other.delete_queue_if_empty("arbiter.shadow.m1")
    assert delivery.body == again.body == b"a"
    conn = broker.connect()
    conn.declare_base()
    conn.publish([OutboundMessage("card-transactions", b"d")])
    assert broker.reset() == 4 and broker.depth(topology.RECORDER_QUEUE) == 0  # a, b, c and d
    assert conn.publish([OutboundMessage("card-transactions", b"e")]) == 1 and broker.queues == {}  # nothing bound


class FlakyBroker:
    """A fake broker for the publisher: down until `up`, then accepts; can break part-way once."""

    url = "fake://"

    def __init__(self) -> None:
        self.up, self.break_after, self.received = False, None, []

    def connect(self, *, timeout: float = 5.0) -> FlakyBroker:
        if not self.up:
            raise BrokerUnavailable("connection refused")
        return self

    def declare_base(self) -> None: ...

    def publish(self, messages: list[OutboundMessage]) -> int:
        if self.break_after is not None:
            sent, self.break_after, self.up = self.break_after, None, False
            self.received += messages[:sent]
            raise PartialPublish("connection reset", sent)
        self.received += messages
        return len(messages)

    def poll(self, timeout: float) -> list:
        return []

    def close(self) -> None: ...


def test_the_publisher_spools_while_the_broker_is_down_and_replays_when_it_returns(tmp_path: Path) -> None:
    broker = FlakyBroker()
    publisher = Publisher(broker, Spool(tmp_path), MessageCodec(), max_backoff=0.1)
    publisher.start()
    try:
        for i in range(50):
            publisher("card-transactions", [{"Amount": float(i)}], [RESULT | {"application_id": f"a-{i}"}])
            if i % 20 == 19:
                time.sleep(0.3)  # separate bursts: several messages in the spool
        assert publisher.flush() and publisher.spool.depth() >= 2  # messages (each holds one or more applications)
        assert publisher.state.startswith("unreachable") and broker.received == []
        broker.break_after = 1
        broker.up = True  # back, but the connection breaks after one confirm
        assert wait_until(lambda: broker.up is False)
        broker.up = True
        def ids() -> set[str]:
            return {a.application_id for m in broker.received for a in MessageCodec().decode(m.body)}
        assert wait_until(lambda: publisher.drained() and len(ids()) == 50)
    finally:
        publisher.close()
    assert len(broker.received) < 50  # grouped: fewer messages than applications
    assert ids() == {f"a-{i}" for i in range(50)}  # every one arrived (some possibly twice: at least once)


def test_drops_under_overload_are_counted_each_and_logged_once_per_interval(caplog: pytest.LogCaptureFixture
                                                                              ) -> None:
    import logging

    from arbiter.broker.publisher import DROPPED, DropLog

    now = [1000.0]
    drops = DropLog(every=10.0, clock=lambda: now[0])
    before = DROPPED._value.get()
    with caplog.at_level(logging.ERROR, logger="arbiter.broker.publisher"):
        for _ in range(5000):  # thousands of refused calls within a second
            drops(1)
        now[0] += 10.0
        drops(2)
    lines = [r.getMessage() for r in caplog.records if "publish queue full" in r.getMessage()]
    assert len(lines) == 2 and lines[0].startswith("publish queue full: 1 messages dropped")
    assert lines[1].startswith("publish queue full: 5001 messages dropped")  # everything since the last line
    assert DROPPED._value.get() - before == 5002  # the counter counts every one

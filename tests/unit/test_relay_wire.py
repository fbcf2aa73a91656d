"""The gateway <-> publisher process protocol on its own: frames, splitting, statuses, cumulative acks."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

import pytest

from arbiter.broker.relay_process import Acknowledger
from arbiter.broker.relay_wire import OversizedRecord, RelayConfig, Status, frame, frame_limit, pack, unframe

RECORD = {"Amount": 149.62, "V1": -1.3598071336738, "Time": 0, "note": "é ✓ \u2028", "missing": None}
RESULT = {"application_id": "a-1", "decision": "approve", "score": 0.019543681293725967}


def _item(i: int, records: int = 1) -> tuple:
    return ("card-transactions", [RECORD | {"Amount": float(i)}] * records,
            [RESULT | {"application_id": f"a-{i}-{k}"} for k in range(records)], 1_790_000_000.123456 + i)


def _frames(items: list, limit: int) -> list[tuple[int, bytes]]:
    return [(n, frame(seq, payload)) for seq, (n, payload) in enumerate(pack(items, limit), start=1)]


def test_a_frame_carries_every_value_exactly() -> None:
    [(count, data)] = _frames([_item(1), _item(2)], 64 * 1024)
    seq, items = unframe(data)
    assert (seq, count, len(items)) == (1, 2, 2)
    detector, records, results, at = items[1]
    assert detector == "card-transactions"
    assert records == [RECORD | {"Amount": 2.0}] and results[0]["score"] == RESULT["score"]
    assert at == datetime.fromtimestamp(1_790_000_002.123456, UTC) and at.tzinfo is UTC


def test_frames_are_split_to_fit_and_keep_the_order() -> None:
    items = [_item(i) for i in range(500)]
    frames = _frames(items, 8192)
    assert len(frames) > 1 and all(len(data) <= 8192 for _, data in frames)
    unpacked = [item for _, data in frames for item in unframe(data)[1]]
    assert [r["application_id"] for _, _, results, _ in unpacked for r in results] == \
           [r["application_id"] for _, _, results, _ in items for r in results]


def test_a_large_batch_call_is_split_between_frames() -> None:
    frames = _frames([_item(7, records=1000)], 16 * 1024)
    assert len(frames) > 1 and all(len(data) <= 16 * 1024 for _, data in frames)
    ids = [r["application_id"] for _, data in frames for _, _, results, _ in unframe(data)[1] for r in results]
    assert ids == [f"a-7-{k}" for k in range(1000)]


def test_one_record_larger_than_a_frame_is_refused_by_name() -> None:
    with pytest.raises(OversizedRecord, match="over the frame limit"):
        pack([("card-transactions", [{"x": "y" * 10_000}], [RESULT], 0.0)], 4096)


def test_frame_limit_follows_the_socket_buffer() -> None:
    assert frame_limit(212_992) == 53_248
    assert frame_limit(8 * 1024 * 1024) == 128 * 1024
    assert frame_limit(1000) == 4096


def test_config_and_status_round_trip() -> None:
    config = RelayConfig("amqp://guest:guest@127.0.0.1:5672/x", "/var/spool", "secret", 100, 4096)
    assert RelayConfig.from_json(config.to_json()) == config
    status = Status(acked=7, state="connected", pending=3, broker_connected=1, published=2.0)
    assert Status.from_json(status.to_json()) == status


def test_acks_are_cumulative_and_in_submission_order() -> None:
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.setblocking(False)
    theirs.setblocking(False)
    acks = Acknowledger(theirs)

    def last_ack() -> int:
        acked = None
        while True:
            try:
                acked = Status.from_json(ours.recv(65536)).acked
            except BlockingIOError:
                return acked

    acks.expect(1, 3)
    acks.expect(2, 0)  # an empty frame behind an open one waits for it
    acks.expect(3, 2)
    acks.settled(2)
    assert last_ack() == 0
    acks.settled(1)  # frame 1 is whole, and the empty frame 2 with it
    assert last_ack() == 2
    acks.settled(2)
    assert last_ack() == 3
    acks.expect(4, 0)  # nothing open: settled at once
    acks.report()
    assert last_ack() == 4
    ours.close()
    theirs.close()

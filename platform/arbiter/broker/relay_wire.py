"""What the gateway and its publisher process say to each other over their Unix socket.

The socket is a SOCK_SEQPACKET pair: each send is one datagram, delivered whole and in order.
- gateway -> process: a **frame**, an 8-byte sequence number and a pickled list of items
  `(detector, records, results, received_at_epoch_seconds)`, one item a scoring call. Pickle is
  safe here: both ends are this code, in processes of one deployment, and the socket has no
  other peer. It is as fast as orjson for these records, half the size, and keeps every value
  exactly.
- process -> gateway: a **status**, JSON: the highest sequence number such that it and every
  earlier frame is settled (`acked`: cumulative, so a status lost to a full buffer costs
  nothing), the publisher's state, how many items it holds, and its counters.
"""

from __future__ import annotations

import pickle
import socket
import struct
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

SEQ = struct.Struct(">Q")
MAX_FRAME = 128 * 1024  # largest frame; a smaller socket buffer lowers it (frame_limit)
SEND_BUFFER = 4 * 1024 * 1024  # asked of the kernel; capped by net.core.wmem_max
Item = tuple[str, list[dict[str, Any]], list[dict[str, Any]], float]


@dataclass(frozen=True)
class RelayConfig:
    """What the publisher process needs; sent on its stdin, so the message key never shows in `ps`."""

    broker_url: str
    spool_dir: str
    message_key: str | None
    capacity: int
    max_frame: int = 0  # set by the gateway from its socket buffer (socket_frame_limit)

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: bytes) -> RelayConfig:
        return cls(**orjson.loads(data))

    @property
    def spool_path(self) -> Path:
        return Path(self.spool_dir)


class OversizedRecord(ValueError):
    """One application's record is larger than a frame can carry."""


def frame_limit(send_buffer: int) -> int:
    """The largest frame for a socket whose send buffer (as the kernel reports it) is `send_buffer`."""
    return max(4096, min(MAX_FRAME, send_buffer // 4))


def socket_pair() -> tuple[socket.socket, socket.socket]:
    """(gateway's end, child's end); the gateway's asks the kernel for SEND_BUFFER (capped by wmem_max)."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    ours.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER)
    return ours, theirs


def socket_frame_limit() -> int:
    """The frame limit every `socket_pair` on this machine allows (the kernel's cap does not change)."""
    ours, theirs = socket_pair()
    with ours, theirs:
        return frame_limit(ours.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF))


def pack(items: list[Item], limit: int) -> list[tuple[int, bytes]]:
    """`items` as (how many items, payload) pieces of at most `limit` bytes once a sequence number is added;
    a scoring call of many applications is split between pieces when it must be."""
    payload = pickle.dumps(items, protocol=5)
    if len(payload) + SEQ.size <= limit:
        return [(len(items), payload)]
    if len(items) > 1:
        half = len(items) // 2
        return pack(items[:half], limit) + pack(items[half:], limit)
    detector, records, results, at = items[0]
    if len(records) <= 1:
        raise OversizedRecord(f"one {detector} application is {len(payload)} bytes, over the frame limit {limit}")
    half = len(records) // 2
    # the halves are one item each; the count stays one scoring call's worth per piece
    return (pack([(detector, records[:half], results[:half], at)], limit)
            + pack([(detector, records[half:], results[half:], at)], limit))


def frame(seq: int, payload: bytes) -> bytes:
    return SEQ.pack(seq) + payload


def unframe(data: bytes) -> tuple[int, list[tuple[str, list, list, datetime]]]:
    """The sequence number and the items of a frame, with their arrival times as UTC datetimes."""
    (seq,) = SEQ.unpack_from(data)
    items: list[Item] = pickle.loads(data[SEQ.size:])
    return seq, [(detector, records, results, datetime.fromtimestamp(at, UTC))
                 for detector, records, results, at in items]


@dataclass
class Status:
    """The publisher process's report. Counters are its own totals since it started."""

    acked: int = 0
    state: str = "starting"
    pending: int = 0
    broker_connected: int = 0
    published: float = 0
    spooled: float = 0
    dropped: float = 0
    lost: float = 0

    def to_json(self) -> bytes:
        return orjson.dumps(asdict(self))

    @classmethod
    def from_json(cls, data: bytes) -> Status:
        return cls(**orjson.loads(data))
